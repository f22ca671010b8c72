"""A trial's detail: its value (each objective's, with its domination rank, in a study with
several), why a paused trial did not resume, its note (``N`` edits it), parameters, every
evaluation (seed by seed with several seeds), the error and traceback tail, its log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from rltui.search import notes
from rltui.search.notes import Note
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.display import cells
from rltui.ui.display.cells import Clock
from rltui.ui.models.seeds import TrialSeeds
from rltui.ui.screens.note_editor import NoteEditorScreen, first_lines
from rltui.ui.widgets.footer import KeysFooter
from rltui.ui.widgets.log_view import read_tail

if TYPE_CHECKING:
    import optuna

TRACEBACK_LINES = 20
LOG_LINES = 40
FOLLOW_SECONDS = 1.0  # how often an open detail looks at what the window last read
NOTE_LINES = 4


def note_text(note: Note | None, writable: bool = True) -> Text:
    """The trial's note as shown in its detail: its first lines, as typed (never markup)."""
    if note is None:
        return Text("note: reading…", style="dim")
    if not note.text.strip():
        return Text(
            "no note · N writes one (optuna-dashboard shows it too)" if writable else "no note",
            style="dim",
        )
    text = Text("note", style="bold")
    text.append(" (N edits it):\n" if writable else ":\n", style="dim")
    text.append(first_lines(note.text, NOTE_LINES))
    return text


def summary(row: TrialRow, clock: Clock, snapshot: Snapshot | None = None) -> Table:
    """State, value, progress, time, worker and study file version; in a study with several
    objectives (``snapshot``'s), each objective's value and the trial's domination rank."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("state", row.status.value + (f" ({row.pending} requested)" if row.pending else ""))
    if snapshot is not None and snapshot.multi_objective:
        for index in range(len(snapshot.directions)):
            value = row.values[index] if index < len(row.values) else None
            wanted = snapshot.directions[index].name.lower()
            grid.add_row(snapshot.objective_label(index), f"{cells.number(value)} ({wanted})")
        rank = snapshot.ranks.get(row.number)
        front = " ★ on the Pareto front" if rank == 1 else ""
        grid.add_row("rank", cells.rank_cell(rank) + front)
    else:
        grid.add_row("value", cells.number(row.value))
    grid.add_row("progress", cells.progress(row))
    time = cells.duration(cells.trial_duration(row, clock))
    if row.frozen >= 1:  # a SIGSTOP, a frozen host: said, since the time above leaves it out
        time += f" (and {cells.duration(row.frozen)} its worker was frozen)"
    grid.add_row("time", time)
    grid.add_row("worker", row.worker or "–")
    if row.spec_version:
        grid.add_row("study file", f"version {row.spec_version}")
    return grid


def params_table(row: TrialRow) -> Table:
    table = Table(title="parameters", title_justify="left", expand=False, show_edge=False)
    table.add_column("name")
    table.add_column("value", justify="right")
    for name, value in sorted(row.params.items()):
        table.add_row(name, cells.param_cell(value))
    return table


def evaluations_table(row: TrialRow, seeds: TrialSeeds | None = None) -> Table:
    """Every evaluation; with several seeds, each seed's reward and their spread too."""
    table = Table(title=f"evaluations ({len(row.curve)})", title_justify="left", show_edge=False)
    table.add_column("timesteps", justify="right")
    table.add_column("mean reward", justify="right")
    per_step = dict(seeds.evaluations) if seeds else {}
    if seeds is not None:
        for seed in seeds.seeds:
            table.add_column(f"seed {seed}", justify="right")
        table.add_column("std", justify="right")
    for step, value in row.curve:
        extra = []
        if seeds is not None:
            values = per_step.get(step)
            extra = (
                [cells.number(v) for v in values] + [cells.number(_std(values))] if values else []
            )
        table.add_row(f"{step:,}", cells.number(value), *extra)
    return table


def seeds_summary(seeds: TrialSeeds) -> Table:
    """The trial's value seed by seed, and their spread (when the trial has a value)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    spread = seeds.spread
    if spread is None:
        grid.add_row(
            "seeds", ", ".join(str(s) for s in seeds.seeds) + " (each seed's rewards below)"
        )
        return grid
    grid.add_row(
        "value per seed",
        "   ".join(
            f"{s}: {cells.number(v)}" for s, v in zip(spread.seeds, spread.values, strict=True)
        ),
    )
    grid.add_row("spread", f"± {cells.number(spread.std)} (std over {len(spread.seeds)} seeds)")
    return grid


def _std(values: tuple[float, ...]) -> float:
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


class TrialDetailScreen(ModalScreen[None]):
    """Opened with Enter on a trial; escape closes it."""

    DEFAULT_CSS = """
    TrialDetailScreen { align: center middle; }
    #detail { width: 90%; height: 90%; border: round $primary; background: $surface; padding: 0 1; }
    #detail Static { margin-bottom: 1; }
    #detail .error { color: $error; }
    #detail .note { color: $warning; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "dismiss_detail", "Close", id="detail.close"),
        Binding("N", "edit_note", "Edit note", tooltip="Edit trial note", id="detail.note"),
    ]

    def __init__(
        self,
        row: TrialRow,
        log: Path | None,
        clock: Clock = datetime.now,
        seeds: Callable[[], TrialSeeds | None] | None = None,
        study: optuna.Study | None = None,
        read_only: str | None = None,
        snapshot: Snapshot | None = None,
    ) -> None:
        """``study``: the Optuna study the trial's note is read from and saved to (the
        window's study when None), with ``read_only`` the reason it cannot be written;
        ``snapshot``: the study the trial belongs to, for its objectives (the window's last
        when None)."""
        super().__init__()
        self.row = row
        self.log_path = log
        self.clock = clock
        self.read_seeds = seeds  # called on a thread: it reads the storage and the trial's log
        self.study = study
        self.read_only = read_only
        self.snapshot = snapshot
        self._seeds: TrialSeeds | None = None

    def compose(self) -> ComposeResult:
        row = self.row
        with VerticalScroll(id="detail") as box:
            box.border_title = f"Trial {row.number}"
            yield Static(
                summary(row, self.clock, self.snapshot or self._window_snapshot()), id="summary"
            )
            if row.note:  # why it is still PAUSED: the first thing to read
                yield Static(
                    Text(f"not resumed: {row.note}\n(r in the trial table asks again)"),
                    classes="note",
                    id="note",
                )
            yield Static(note_text(None), id="trial-note")
            yield Static(id="seeds")
            yield Static(params_table(row))
            yield Static(
                evaluations_table(row) if row.curve else Text("no evaluations yet", style="dim"),
                id="evaluations",
            )
            if row.error:
                yield Static(Text(f"error: {row.error}"), classes="error")
            if row.traceback:
                tail = "\n".join(row.traceback.rstrip().splitlines()[-TRACEBACK_LINES:])
                yield Static(Text(tail), id="traceback")
            yield Static(Text("log: reading…", style="dim"), id="log")
        yield KeysFooter()

    def _window_snapshot(self) -> Snapshot | None:
        snapshot = getattr(getattr(self.app, "main_screen", None), "snapshot", None)
        return snapshot if isinstance(snapshot, Snapshot) else None

    def on_mount(self) -> None:
        self.query_one("#seeds").display = False
        if self.study is None:
            session = getattr(getattr(self.app, "main_screen", None), "session", None)
            if session is not None:
                self.study, self.read_only = session.ostudy, session.read_only
        if self.study is not None:
            self._read_note(self.study)
        else:
            self.query_one("#trial-note").display = False
        self._read_log()
        if self.read_seeds is not None:
            self._read_seeds(self.read_seeds)
        if self.snapshot is None:  # the window's own trial: it follows the window's reads
            self.set_interval(FOLLOW_SECONDS, self._follow)

    def _follow(self) -> None:
        """Show the trial as the window last read it, when that changed (its progress, its
        evaluations, its state), and the log lines it wrote since."""
        snapshot = self._window_snapshot()
        row = snapshot.rows.get(self.row.number) if snapshot is not None else None
        if row is None or row is self.row:  # the reader keeps an unchanged trial's row
            return
        self.row = row
        self.query_one("#summary", Static).update(summary(row, self.clock, snapshot))
        evaluations = (
            evaluations_table(row, self._seeds) if row.curve else Text("no evaluations yet")
        )
        self.query_one("#evaluations", Static).update(evaluations)
        self._read_log()

    @work(thread=True, exclusive=True, exit_on_error=False, group="note")
    def _read_note(self, study: optuna.Study) -> None:
        try:
            note = notes.read_trial_note(study, self.row.number)
        except Exception as exc:  # a storage that cannot be read: said in place of the note
            self.app.call_from_thread(self._show_note_error, exc)
            return
        self.app.call_from_thread(self._show_note, note)

    def _show_note(self, note: Note) -> None:
        if self.is_attached:
            self.query_one("#trial-note", Static).update(note_text(note, not self.read_only))

    def _show_note_error(self, error: Exception) -> None:
        if self.is_attached:
            self.query_one("#trial-note", Static).update(
                Text(f"note: could not be read: {error}", style="dim")
            )

    def action_edit_note(self) -> None:
        if self.study is None:
            self.notify("no study is open: notes live in the study", severity="warning")
            return

        def closed(saved: Note | None) -> None:
            if saved is not None:
                self._show_note(saved)

        self.app.push_screen(NoteEditorScreen(self.study, self.row.number, self.read_only), closed)

    @work(thread=True, exclusive=True, exit_on_error=False, group="seeds")
    def _read_seeds(self, read: Callable[[], TrialSeeds | None]) -> None:
        seeds = read()
        if seeds is not None:
            self.app.call_from_thread(self._show_seeds, seeds)

    def _show_seeds(self, seeds: TrialSeeds) -> None:
        if not self.is_attached:
            return  # closed while the storage was read
        self._seeds = seeds
        box = self.query_one("#seeds", Static)
        box.update(seeds_summary(seeds))
        box.display = True
        if self.row.curve:
            self.query_one("#evaluations", Static).update(evaluations_table(self.row, seeds))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _read_log(self) -> None:
        if self.log_path is None:
            text = Text("log: no log file recorded for this trial's worker", style="dim")
        elif not self.log_path.is_file():
            text = Text(
                f"log: {self.log_path} is not on this host (a worker that ran elsewhere), or "
                "was removed",
                style="dim",
            )
        else:
            lines, _ = read_tail(self.log_path)
            mine = [ln for ln in lines if f"trial {self.row.number}" in ln] or lines
            text = Text(f"log ({self.log_path}):\n", style="bold")
            text.append("\n".join(mine[-LOG_LINES:]) or "(empty so far)", style="")
        self.app.call_from_thread(self._show_log, text)

    def _show_log(self, text: Text) -> None:
        if self.is_attached:  # not closed while the log was read
            self.query_one("#log", Static).update(text)

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
