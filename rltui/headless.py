"""``rltui run``: start local workers and show the study live in the terminal, without the UI."""

from __future__ import annotations

import json
import math
import re
import shlex
import signal
import time
from typing import Any

import optuna
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rltui.launch.local import LocalPool, pid_running, signal_worker
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.events import events_between
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StorageError, StudyHome, mask_url
from rltui.search.study import enqueue_planned, stored_spec
from rltui.search.workers import StallGuard
from rltui.spec import SpecError, StudyFile

STATUS_STYLE = {
    TrialStatus.WAITING: "cyan",
    TrialStatus.RUNNING: "yellow",
    TrialStatus.PAUSED: "magenta",
    TrialStatus.COMPLETE: "green",
    TrialStatus.PRUNED: "blue",
    TrialStatus.FAIL: "red",
}


NUMERIC = ("#", "timesteps", "last eval", "best", "value")
# The exit status after Ctrl-C, as the shell gives a command ended by SIGINT, so that a script
# can tell a run stopped with its trials paused from one that finished its budget.
INTERRUPTED = 128 + signal.SIGINT


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def best_eval(row: TrialRow, maximize: bool) -> float | None:
    """The trial's best evaluation so far, by the study's direction."""
    values = [v for _, v in row.curve if not math.isnan(v)]
    if not values:
        return None
    return max(values) if maximize else min(values)


def render(snap: Snapshot, study: StudyFile, url: str, limit: int = 20) -> Group:
    best = snap.best
    counts = snap.counts
    head = Text.assemble(
        (f"{study.spec.name}", "bold"),
        f"  {mask_url(url)}  ",
        *[(f"{s.value.lower()} {counts[s]}  ", STATUS_STYLE[s]) for s in TrialStatus if counts[s]],
        ("best " + (f"{best.value:.4g} (#{best.number})" if best else "—"), "bold green"),
    )
    table = Table(expand=False, box=None, header_style="bold")
    for column in ("#", "state", "timesteps", "last eval", "best", "value", "params"):
        table.add_column(column, justify="right" if column in NUMERIC else "left")
    maximize = snap.direction.name == "MAXIMIZE"
    rows = sorted(snap.rows.values(), key=_order)[:limit]
    for row in sorted(rows, key=lambda r: r.number):
        table.add_row(
            str(row.number),
            Text(row.status.value, STATUS_STYLE[row.status]),
            f"{row.timesteps:,}/{row.total or study.spec.train.timesteps:,}",
            fmt(row.last_eval),
            fmt(best_eval(row, maximize)),
            fmt(row.value) + (" ★" if best and row.number == best.number else ""),
            # Text, not markup: a parameter value may hold square brackets.
            Text(" ".join(f"{k}={_short(v)}" for k, v in row.params.items())),
        )
    return Group(head, table)


def _order(row: TrialRow) -> tuple[int, int]:
    # Live trials first, then the newest finished ones.
    return (0 if not row.status.is_finished else 1, -row.number)


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def run_headless(
    study: StudyFile,
    ostudy: optuna.Study,
    url: str,
    workers: int,
    trials: int | None,
    console: Console | None = None,
) -> int:
    """Run ``study`` with ``workers`` local workers until they leave, showing the live table,
    then print the summary. Returns 0, or :data:`INTERRUPTED` after Ctrl-C, which pauses the
    running trials (a second Ctrl-C kills the workers at once)."""
    console = console or Console()
    if trials is not None:
        budget = study.budget(trials)
        if budget != trials:
            console.print(f"{trials} trials rounded up to {budget}: whole passes over the grid")
        storage_of(ostudy).set_study_system_attr(study_id_of(ostudy), attrs.BUDGET, budget)
        enqueue_planned(ostudy, study)
    controller = Controller(ostudy)
    resumed = controller.resume_interrupted()
    if resumed:
        console.print(f"resuming {resumed} trial(s) paused by an interrupted run")
    assert study.path is not None
    home = StudyHome.beside(study.path).make()
    pool = LocalPool(home.logs, study_file=study.path, storage_url=url, nice=0)
    pool.start(workers)
    reader = StudyReader(ostudy)
    interrupted = shown = False
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Live(
            render(reader.poll(), study, url),
            console=console,
            refresh_per_second=4,
            transient=False,
        ) as live:
            shown = True
            last_check = 0.0
            control = study.spec.control
            # Ticked every round: this process judges no heartbeat right after a stall of its own.
            stall = StallGuard(max(0.5, control.heartbeat_interval), control.heartbeat_grace)
            seen = reader.poll()
            while any(pid_running(w.pid) for w in pool.started):
                time.sleep(0.5)
                stall.tick()
                snap = reader.poll()
                # What went wrong that nobody asked for (a worker lost, a full disk), once;
                # workers leaving as planned are in the summary.
                for event in events_between(seen, snap, None):
                    if event.severity != "information":
                        style = "red" if event.severity == "error" else "yellow"
                        _plain(live.console, f"{event.title}: {event.text}", style)
                seen = snap
                live.update(render(snap, study, url))
                if time.monotonic() - last_check > study.spec.control.heartbeat_interval:
                    last_check = time.monotonic()
                    control = study.spec.control
                    for line in reap_lost_workers(
                        ostudy, control.heartbeat_grace, control.retries, stall=stall
                    ):
                        live.console.print(line)
            live.update(render(reader.poll(), study, url))
        _end_frame(console)
    except KeyboardInterrupt:
        interrupted = True
        if shown:
            _end_frame(console)
        console.print(
            "[yellow]stopping: running trials are paused with a checkpoint "
            "(Ctrl-C again to stop at once)…[/]"
        )
        for worker in pool.started:
            signal_worker(worker.pid)
        try:
            pool.wait()
        except KeyboardInterrupt:
            for worker in pool.started:
                signal_worker(worker.pid, signal.SIGKILL)
            console.print(
                "[yellow]workers killed: their trials were not paused; once their heartbeat "
                "is missed they end FAIL or are retried, as control.retries says[/]"
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    snap = reader.poll()
    best = snap.best
    fixed = fixed_values(_study_of(ostudy, study, best.spec_version), best) if best else {}
    _summary(console, snap, study, url, interrupted, fixed)
    return INTERRUPTED if interrupted else 0


def _end_frame(console: Console) -> None:
    # Piped, Rich prints the live display once, at its end, without a final newline: what
    # follows must start a line of its own.
    if not console.is_terminal:
        console.line()


def _study_of(ostudy: optuna.Study, study: StudyFile, version: int | None) -> StudyFile:
    """The study file version a trial ran with (an edit may have changed its fixed values);
    ``study`` when the storage does not hold it."""
    if version:
        try:
            return stored_spec(storage_of(ostudy), study_id_of(ostudy), version)
        except (StorageError, SpecError):
            pass
    return study


def fixed_values(study: StudyFile, best: TrialRow) -> dict[str, Any]:
    """What a trial of ``study`` used besides its searched parameters: the file's
    ``hyperparameters`` and the search space's fixed values (searched ones win, as in the
    worker)."""
    values = {**study.spec.hyperparameters, **study.space.fixed}
    return {name: value for name, value in values.items() if name not in best.params}


def _summary(
    console: Console,
    snap: Snapshot,
    study: StudyFile,
    url: str,
    interrupted: bool,
    fixed: dict[str, Any] | None = None,
) -> None:
    counts = snap.counts
    console.print(
        ", ".join(f"{counts[s]} {s.value.lower()}" for s in TrialStatus if counts[s]) or "no trials"
    )
    if interrupted:
        command = f"rltui run {shlex.quote(str(study.path))}"
        paused = counts[TrialStatus.PAUSED]
        _plain(
            console,
            f"interrupted: {paused} trial(s) paused; `{command}` resumes them"
            if paused
            else f"interrupted: no trial was paused; `{command}` goes on with the study",
        )
    failed = [r for r in snap.rows.values() if r.status == TrialStatus.FAIL and r.error]
    for row in failed[-3:]:
        console.print(Text.assemble((f"trial {row.number} failed:", "red"), f" {row.error}"))
    best = snap.best
    if best is None:
        console.print("no completed trial yet")
        return
    console.print(f"[bold green]best trial #{best.number}: value {best.value:.6g}[/]")
    # The whole configuration as a YAML block to paste into a study file.
    _plain(console, "hyperparameters:")
    _plain(console, f"  # searched (trial #{best.number})")
    for name, value in best.params.items():
        _plain(console, f"  {name}: {yaml_value(value)}")
    if fixed:
        _plain(console, "  # fixed: the study file's hyperparameters and fixed search-space values")
        for name, value in fixed.items():
            _plain(console, f"  {name}: {yaml_value(value)}")
    journal = url.removeprefix("journal:")
    storage_args = (
        f"--storage {shlex.quote(journal)} --storage-class JournalFileBackend"
        if url.startswith("journal:")
        else f"--storage {shlex.quote(mask_url(url))}"
    )
    name = shlex.quote(study.spec.name)
    _plain(console, f"optuna trials {storage_args} --study-name {name}", style="dim")


def _plain(console: Console, line: str, style: str = "") -> None:
    """Print ``line`` as it is: no markup, no highlighting, and never wrapped (a command or a
    YAML line broken at the terminal width, or at 80 columns when piped, cannot be pasted)."""
    console.print(Text(line, style=style), soft_wrap=True)


_PLAIN_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def yaml_value(value: Any) -> str:
    """``value`` written as YAML in flow style, so that it reads back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        # '1e-05' is a string to YAML 1.1 readers; '1.0e-05' is a number to all of them.
        mantissa, e, exponent = text.partition("e")
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if _PLAIN_WORD.fullmatch(value) and value.lower() not in _YAML_WORDS:
            return value
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_value(k)}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value))
