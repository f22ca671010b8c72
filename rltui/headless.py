"""``rltui run``: start local workers and show the study live, without the UI: a table on a
terminal, a line per event in a pipe or a file, and a summary at the end (text, or JSON)."""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, TextIO

import optuna
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rltui.launch.local import LocalPool, pid_running, signal_worker
from rltui.launch.placement import GpuChoice, PlacementError
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.events import events_between
from rltui.search.folders import study_home
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StorageError, StudyHome, mask_url
from rltui.search.study import enqueue_planned, stored_spec
from rltui.search.trial_progress import steps_between
from rltui.search.workers import StallGuard
from rltui.spec import SpecError, StudyFile
from rltui.spec.flow import flow

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
    counts = snap.counts
    head = Text.assemble(
        (f"{study.spec.name}", "bold"),
        f"  {mask_url(url)}  ",
        *[(f"{s.value.lower()} {counts[s]}  ", STATUS_STYLE[s]) for s in TrialStatus if counts[s]],
        (_best_text(snap), "bold green"),
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
            " / ".join(map(fmt, row.values or (row.value,))) + (" ★" * snap.leads(row.number)),
            # Text, not markup: a parameter value may hold square brackets.
            Text(" ".join(f"{k}={_short(v)}" for k, v in row.params.items())),
        )
    return Group(head, table)


def _best_text(snap: Snapshot) -> str:
    """The head line's best value; with several objectives, the Pareto front's trials."""
    if snap.multi_objective:
        return "front " + (" ".join(f"#{r.number}" for r in snap.front[:8]) or "—")
    return "best " + (f"{b.value:.4g} (#{b.number})" if (b := snap.best) else "—")


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
    *,
    as_json: bool = False,
    out: TextIO | None = None,
    gpus: GpuChoice | None = None,
) -> int:
    """Run ``study`` with ``workers`` local workers until they leave, showing the live table
    (:class:`LiveTable`, on a terminal) or a line per event (:class:`EventLines`), then the
    summary: as text, or with ``as_json`` as one JSON document on ``out`` (stdout; the rest
    goes to ``console``, stderr by default). Returns 0, or :data:`INTERRUPTED` after Ctrl-C,
    which pauses the running trials (a second Ctrl-C kills the workers at once)."""
    console = console or Console(stderr=as_json)
    began = time.monotonic()
    if trials is not None:
        budget = study.budget(trials)
        if budget != trials:
            console.print(f"{trials} trials rounded up to {budget}: whole passes over the grid")
        storage_of(ostudy).set_study_system_attr(study_id_of(ostudy), attrs.BUDGET, budget)
        enqueue_planned(ostudy, study)
    checkpoints = study_home(study, url, study.path).checkpoints
    controller = Controller(ostudy, checkpoints)
    resumed = controller.resume_interrupted()
    if resumed:
        console.print(f"resuming {resumed} trial(s) paused by an interrupted run")
    assert study.path is not None
    home = StudyHome.beside(study.path).make()
    pool = LocalPool(home.logs, study_file=study.path, storage_url=url, nice=0, gpus=gpus)
    try:
        pool.start(workers)
    except PlacementError as exc:
        console.print(Text(f"rltui run: {exc}", "red"))
        return 1
    placed = Counter(w.gpu for w in pool.started if w.gpu is not None)
    if placed:
        where = ", ".join(f"GPU {g}: {n}" for g, n in sorted(placed.items()))
        console.print(f"workers placed on GPUs ({where})")
    reader = StudyReader(ostudy)
    display: LiveTable | EventLines
    if console.is_terminal:
        display = LiveTable(console, study, url)
    else:
        display = EventLines(console, study.budget(trials))
        display.say(f"study '{study.spec.name}' on {mask_url(url)}: {workers} worker(s)")
    interrupted = False
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with display.live:
            control = study.spec.control
            # Ticked every round: this process judges no heartbeat right after a stall of its own.
            stall = StallGuard(max(0.5, control.heartbeat_interval), control.heartbeat_grace)
            seen = reader.poll()
            display.show(None, seen)
            last_check = 0.0
            while any(pid_running(w.pid) for w in pool.started):
                time.sleep(0.5)
                stall.tick()
                snap = reader.poll()
                display.show(seen, snap)
                seen = snap
                if time.monotonic() - last_check > study.spec.control.heartbeat_interval:
                    last_check = time.monotonic()
                    control = study.spec.control
                    for line in reap_lost_workers(
                        ostudy,
                        control.heartbeat_grace,
                        control.retries,
                        stall=stall,
                        checkpoints=checkpoints,
                    ):
                        display.say(line)
            display.show(seen, reader.poll())
    except KeyboardInterrupt:
        interrupted = True
        display.say(
            "stopping: running trials are paused with a checkpoint (Ctrl-C again to stop at once)…",
            "yellow",
        )
        for worker in pool.started:
            signal_worker(worker.pid)
        try:
            pool.wait()
        except KeyboardInterrupt:
            for worker in pool.started:
                signal_worker(worker.pid, signal.SIGKILL)
            display.say(
                "workers killed: their trials were not paused; once their heartbeat is missed "
                "they end FAIL or are retried, as control.retries says",
                "yellow",
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    snap = reader.poll()
    best = snap.best
    settings = trial_settings(_study_of(ostudy, study, best.spec_version), best) if best else None
    if as_json:
        doc = summary_doc(snap, study, url, interrupted, settings, time.monotonic() - began)
        print(json.dumps(doc, indent=2, allow_nan=False), file=out or sys.stdout, flush=True)
    else:
        _summary(console, snap, study, url, interrupted, settings)
    return INTERRUPTED if interrupted else 0


class LiveTable:
    """On a terminal: the table of trials redrawn in place, with the events nobody asked
    for printed above it (workers leaving as planned are in the summary instead)."""

    def __init__(self, console: Console, study: StudyFile, url: str) -> None:
        self.study, self.url = study, url
        self.live = Live(console=console, refresh_per_second=4, transient=False)

    def show(self, previous: Snapshot | None, snap: Snapshot) -> None:
        for event in events_between(previous, snap, None):
            if event.severity != "information":
                style = "red" if event.severity == "error" else "yellow"
                _plain(self.live.console, f"{event.title}: {event.text}", style)
        self.live.update(render(snap, self.study, self.url))

    def say(self, line: str, style: str = "") -> None:
        _plain(self.live.console, line, style)


class EventLines:
    """Not on a terminal (a pipe, a file, nohup): one line per trial step and event, stamped
    with the time it was seen, and flushed at once, so that ``tail -f`` and a script reading
    the pipe see each as it happens. When the reader leaves (``| head``), Rich ends the run
    with status 1, as a closed window does: the detached workers go on."""

    def __init__(self, console: Console, n_trials: int | None) -> None:
        self.console, self.n_trials = console, n_trials
        self.live = contextlib.nullcontext()  # nothing redrawn in place

    def show(self, previous: Snapshot | None, snap: Snapshot) -> None:
        for step in steps_between(previous, snap):
            self._line(step.time, step.text)  # each says "trial N ..." already
        for event in events_between(previous, snap, self.n_trials):
            self._line(event.time, f"{event.title}: {event.text}")

    def say(self, line: str, style: str = "") -> None:
        self._line(time.time(), line, style)

    def _line(self, at: float, line: str, style: str = "") -> None:
        # Local date and time to the second, as logs write it.
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))
        _plain(self.console, f"{when} {line}", style)
        self.console.file.flush()


def summary_doc(
    snap: Snapshot,
    study: StudyFile,
    url: str,
    interrupted: bool,
    settings: TrialSettings | None,
    wall: float,
) -> dict[str, Any]:
    """The summary of ``rltui run --json``: the best trial, its parameters and whole
    configuration, the count of trials in each state, the wall time, and the failures."""
    counts = snap.counts
    best = snap.best
    failed = [r for r in snap.rows.values() if r.status == TrialStatus.FAIL]
    doc: dict[str, Any] = {
        "ok": not interrupted,
        "study": study.spec.name,
        "study_file": str(study.path) if study.path else None,
        "storage": mask_url(url),
        "interrupted": interrupted,
        "wall_time_s": round(wall, 3),
        "counts": {status.value: counts[status] for status in TrialStatus},
        "best": None,
        "failed": [{"number": r.number, "error": r.error} for r in failed],
    }
    if snap.multi_objective:  # "best" is then the front's best by the first objective
        front = [{"number": r.number, "values": snap.named_values(r)} for r in snap.front]
        doc["pareto_front"] = front
    if best is not None and settings is not None:
        doc["best"] = {
            "number": best.number,
            "value": best.value,
            "params": best.params,
            # The whole configuration the trial ran with, in the study file's words.
            "hyperparameters": settings.whole,
        }
    return json_safe(doc)


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON holds it: NaN and infinities null, any other object its text."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def _study_of(ostudy: optuna.Study, study: StudyFile, version: int | None) -> StudyFile:
    """The study file version a trial ran with (an edit may have changed its fixed values);
    ``study`` when the storage does not hold it."""
    if version:
        try:
            return stored_spec(storage_of(ostudy), study_id_of(ostudy), version)
        except (StorageError, SpecError):
            pass
    return study


@dataclass(frozen=True)
class TrialSettings:
    """What a trial trained with, in the study file's words, in three parts: its searched
    values (a list choice as the list), the settings those set under another name (a Hydra
    path's setting, a preset's conversions: ``agent.gamma`` sets ``gamma``), and the fixed
    rest (the file's ``hyperparameters`` and fixed search-space values)."""

    searched: dict[str, Any]
    derived: dict[str, Any]
    fixed: dict[str, Any]

    @property
    def whole(self) -> dict[str, Any]:
        return {**self.fixed, **self.derived, **self.searched}


def trial_settings(study: StudyFile, best: TrialRow) -> TrialSettings:
    """:class:`TrialSettings` of trial ``best`` under the study file version it ran with."""
    values = study.hyperparameters_for(best.params)
    from_search = study.space.values_for(best.params)
    searched = {name: from_search.get(name, value) for name, value in best.params.items()}
    derived = {n: v for n, v in from_search.items() if n not in best.params}
    fixed = {n: v for n, v in values.items() if n not in searched and n not in derived}
    return TrialSettings(searched, derived, fixed)


def _summary(
    console: Console,
    snap: Snapshot,
    study: StudyFile,
    url: str,
    interrupted: bool,
    settings: TrialSettings | None = None,
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
    for row in snap.front:  # several objectives: the front, and the best by the first
        shown = ", ".join(f"{k} {fmt(v)}" for k, v in snap.named_values(row).items())
        console.print(Text(f"Pareto front: trial #{row.number}: {shown}", "green"))
    if snap.multi_objective:
        label = snap.objective_label(0)
        console.print(f"[bold green]best by {label} on the front: trial #{best.number}[/]")
    else:
        console.print(f"[bold green]best trial #{best.number}: value {best.value:.6g}[/]")
    # The whole configuration as a YAML block to paste into a study file.
    settings = settings or TrialSettings(dict(best.params), {}, {})
    _plain(console, "hyperparameters:")
    groups = (
        (f"searched (trial #{best.number})", settings.searched),
        ("set by the searched values", settings.derived),
        ("fixed: the study file's hyperparameters and fixed search-space values", settings.fixed),
    )
    for title, values in groups:
        if values:
            _plain(console, f"  # {title}")
        for name, value in values.items():
            _plain(console, f"  {name}: {flow(value)}")
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
