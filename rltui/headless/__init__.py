"""``rltui run``: start local workers and show the study live, without the UI: a table on a
terminal, a line per event in a pipe or a file, and a summary at the end (text, or JSON)."""

from __future__ import annotations

import contextlib
import json
import math
import signal
import sys
import time
from collections import Counter
from typing import TextIO

import optuna
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rltui.headless.summary import (
    best_of,
    fmt,
    plain,
    print_summary,
    study_of,
    summary_doc,
    trial_settings,
)
from rltui.launch.local import LocalPool, pid_running, signal_worker
from rltui.launch.placement import GpuChoice, PlacementError
from rltui.search import attrs, journal_lock
from rltui.search.control import Controller
from rltui.search.events import events_between
from rltui.search.folders import study_home
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StudyHome, mask_url
from rltui.search.study import enqueue_planned
from rltui.search.trial_progress import steps_between
from rltui.search.workers import StallGuard
from rltui.spec import StudyFile
from rltui.spec.wording import counted, verb

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
# Times a run starts its workers again when all of them left with trials still waiting; a
# study whose workers keep dying at once would otherwise start them forever.
MAX_RESTARTS = 3


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
    if trials is not None and study.announced_budget is None:
        console.print("a PBT study's trials are its members' segments: --trials is not used")
        trials = None
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
        console.print(f"resuming {counted(resumed, 'trial')} paused by an interrupted run")
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
        told = study.budget(trials) if study.announced_budget is not None else None
        display = EventLines(console, told)
        display.say(f"study '{study.spec.name}' on {mask_url(url)}: {counted(workers, 'worker')}")
    interrupted = False
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with display.live:
            control = study.spec.control
            journal_lock.set_stall_grace(control.heartbeat_grace)
            # Ticked every round: this process judges no heartbeat right after a stall of its own.
            stall = StallGuard(max(0.5, control.heartbeat_interval), control.heartbeat_grace)
            seen = reader.poll()
            display.show(None, seen)
            last_check = 0.0
            restarts = 0

            def reap() -> None:
                for line in reap_lost_workers(
                    ostudy,
                    control.heartbeat_grace,
                    control.retries,
                    stall=stall,
                    checkpoints=checkpoints,
                ):
                    display.say(line)

            while True:
                while any(pid_running(w.pid) for w in pool.started):
                    time.sleep(0.5)
                    stall.tick()
                    snap = reader.poll()
                    display.show(seen, snap)
                    seen = snap
                    if time.monotonic() - last_check > control.heartbeat_interval:
                        last_check = time.monotonic()
                        reap()
                # A worker killed (SIGKILL, the OOM killer) left its trial RUNNING: its process
                # is gone, so it counts as lost at once, and its trial is retried or ended.
                reap()
                snap = reader.poll()
                display.show(seen, snap)
                seen = snap
                # Every worker left while trials still wait (they were declared lost after a
                # stall, and left their retried trials behind): the run goes on with new ones.
                waiting = snap.counts[TrialStatus.WAITING]
                if not waiting or snap.draining or restarts >= MAX_RESTARTS:
                    break
                restarts += 1
                display.say(
                    f"{counted(waiting, 'trial')} {verb(waiting, 'waits', 'wait')} and no "
                    f"worker is left: starting {counted(workers, 'worker')} again "
                    f"({restarts} of {MAX_RESTARTS})",
                    "yellow",
                )
                pool.start(workers, first_index=len(pool.started))
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
    best = best_of(snap, study)
    settings = trial_settings(study_of(ostudy, study, best.spec_version), best) if best else None
    if as_json:
        doc = summary_doc(snap, study, url, interrupted, settings, time.monotonic() - began)
        print(json.dumps(doc, indent=2, allow_nan=False), file=out or sys.stdout, flush=True)
    else:
        print_summary(console, snap, study, url, interrupted, settings)
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
                plain(self.live.console, f"{event.title}: {event.text}", style)
        self.live.update(render(snap, self.study, self.url))

    def say(self, line: str, style: str = "") -> None:
        plain(self.live.console, line, style)


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
        plain(self.console, f"{when} {line}", style)
        self.console.file.flush()
