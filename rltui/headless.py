"""``rltui run``: start local workers and show the study live in the terminal, without the UI."""

from __future__ import annotations

import signal
import time

import optuna
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.recovery import reap_lost_workers
from rltui.search.storage import StudyHome, mask_url
from rltui.search.study import enqueue_planned
from rltui.spec import Study
from rltui.worker.pool import LocalPool, pid_running, signal_worker

STATUS_STYLE = {
    TrialStatus.WAITING: "cyan",
    TrialStatus.RUNNING: "yellow",
    TrialStatus.PAUSED: "magenta",
    TrialStatus.COMPLETE: "green",
    TrialStatus.PRUNED: "blue",
    TrialStatus.FAIL: "red",
}


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def render(snap: Snapshot, study: Study, url: str, limit: int = 20) -> Group:
    best = snap.best
    counts = snap.counts
    head = Text.assemble(
        (f"{study.spec.name}", "bold"),
        f"  {mask_url(url)}  ",
        *[(f"{s.value.lower()} {counts[s]}  ", STATUS_STYLE[s]) for s in TrialStatus if counts[s]],
        ("best " + (f"{best.value:.4g} (#{best.number})" if best else "—"), "bold green"),
    )
    table = Table(expand=False, box=None, header_style="bold")
    for column in ("#", "state", "timesteps", "last eval", "value", "params"):
        table.add_column(
            column,
            justify="right" if column in ("#", "timesteps", "last eval", "value") else "left",
        )
    rows = sorted(snap.rows.values(), key=_order)[:limit]
    for row in sorted(rows, key=lambda r: r.number):
        table.add_row(
            str(row.number),
            Text(row.status.value, STATUS_STYLE[row.status]),
            f"{row.timesteps:,}/{row.total or study.spec.train.timesteps:,}",
            fmt(row.last_eval),
            fmt(row.value) + (" ★" if best and row.number == best.number else ""),
            " ".join(f"{k}={_short(v)}" for k, v in row.params.items()),
        )
    return Group(head, table)


def _order(row: TrialRow) -> tuple[int, int]:
    # Live trials first, then the newest finished ones.
    return (0 if not row.status.is_finished else 1, -row.number)


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def run_headless(
    study: Study,
    ostudy: optuna.Study,
    url: str,
    workers: int,
    trials: int | None,
    console: Console | None = None,
) -> int:
    console = console or Console()
    if trials is not None:
        budget = study.budget(trials)
        if budget != trials:
            console.print(f"{trials} trials rounded up to {budget}: whole passes over the grid")
        ostudy._storage.set_study_system_attr(ostudy._study_id, attrs.BUDGET, budget)
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
    interrupted = False
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Live(
            render(reader.poll(), study, url),
            console=console,
            refresh_per_second=4,
            transient=False,
        ) as live:
            last_check = 0.0
            while any(pid_running(w.pid) for w in pool.started):
                time.sleep(0.5)
                live.update(render(reader.poll(), study, url))
                if time.monotonic() - last_check > study.spec.control.heartbeat_interval:
                    last_check = time.monotonic()
                    control = study.spec.control
                    for line in reap_lost_workers(ostudy, control.heartbeat_grace, control.retries):
                        live.console.print(line)
            live.update(render(reader.poll(), study, url))
        if not console.is_terminal:
            console.line()  # Rich leaves the last frame without its newline when piped
    except KeyboardInterrupt:
        interrupted = True
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
    finally:
        signal.signal(signal.SIGINT, previous)
    snap = reader.poll()
    return _summary(console, snap, study, url, interrupted)


def _summary(console: Console, snap: Snapshot, study: Study, url: str, interrupted: bool) -> int:
    counts = snap.counts
    console.print(
        ", ".join(f"{counts[s]} {s.value.lower()}" for s in TrialStatus if counts[s]) or "no trials"
    )
    if interrupted and counts[TrialStatus.PAUSED]:
        console.print(
            f"{counts[TrialStatus.PAUSED]} trial(s) paused; `rltui run {study.path}` resumes them"
        )
    failed = [r for r in snap.rows.values() if r.status == TrialStatus.FAIL and r.error]
    for row in failed[-3:]:
        console.print(f"[red]trial {row.number} failed:[/] {row.error}")
    best = snap.best
    if best is None:
        console.print("no completed trial yet")
        return 0
    console.print(f"[bold green]best trial #{best.number}: value {best.value:.6g}[/]")
    for name, value in best.params.items():
        console.print(f"  {name}: {value!r}")
    journal = url.removeprefix("journal:")
    storage_args = (
        f"--storage {journal} --storage-class JournalFileBackend"
        if url.startswith("journal:")
        else f"--storage '{mask_url(url)}'"
    )
    console.print(f"[dim]optuna trials {storage_args} --study-name {study.spec.name}[/]")
    return 0
