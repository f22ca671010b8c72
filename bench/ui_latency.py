"""How quickly does the rltui UI start, open a big study, and answer keys under load?

    python bench/ui_latency.py [--presses 200] [--repeats 3] [--trials 10000]
                               [--skip-open] [--skip-keys] [--no-nice0] [--keep]

Prints figures beside the issue's reference figures and targets; asserts nothing.

(a) Cold start. A real ``python -m rltui small.yaml`` process in a private tmux server
    (120 x 40) on a study of 100 finished trials (bench/make_big_study.py); the time from
    launching it to the first screen (the tab bar drawn) and to the trial table showing rows,
    found by polling ``tmux capture-pane -p`` every 10 ms (so figures are +-10 ms, and the
    polling itself takes a little CPU). Each repeat is a new process; the first may also pay
    for a cold disk cache. rltui runs from bytecode compiled once before the first run, as
    pip leaves an installed package (a checkout run with PYTHONDONTWRITEBYTECODE would
    compile every module at each start).
    Each study is started ``--repeats`` times as if for the first time on this machine (an
    empty cache folder: no table kept), then as the user's next starts: the window kept its
    table when it was last closed (opened once and quit with q), shows it at once marked
    "as last shown", and replaces it with the study's own rows, timed too (no "as last shown"
    left on the screen).
(b) Opening a 10,000-trial study: the same, on a study of N finished trials (5 parameters,
    20 reports each, a mix of COMPLETE / PRUNED / FAIL). Then an in-process breakdown of
    where the time goes (the storage calls the UI makes, without the UI).
(b') The same study as workers leave it after weeks: 300,000 worker heartbeats in the journal
    between the trials. Opened twice: from the journal's snapshot (rltui.search.journal, kept
    every 100 trials), then with the snapshot removed, so the whole journal is replayed.
(c) Key-to-screen latency, inside one process: ``RltuiApp(...).run_test(size=(120, 40))``
    on a study of 200 finished trials whose next trials are long (200,000 timesteps, an
    evaluation every 10,000), driven by the Pilot. For each of N presses of ``down``/``up``
    (bouncing between the table's ends, a random 30-120 ms apart so that presses land at
    random phases of the UI's polling and chart timers):
      t0       just before ``pilot.press(key)`` hands the key event to the app;
      handled  when the trial table's ``cursor_coordinate`` changed (a watcher);
      shown    the end of the first screen update after that: a hook on ``App._display``,
               which the screen calls with each compositor update. The run is headless, so
               Textual would not encode the update for a terminal; the hook does
               (``render_segments``), so the cost of producing the terminal output is
               counted for every update, as in a real terminal (writing it is not).
    Latency = shown - t0 (queueing behind other work + handling the key + waiting for the
    screen's next refresh tick + compositing + encoding); p50 / p95 / max over the presses
    after 10 warm-up presses. ``pilot.press`` itself returns later (it waits for the app to
    go idle), which does not enter the figure.
    Measured four ways: no workers of ours ("quiet": other users' jobs may still run on the
    machine, see the load average printed); two ``rltui worker`` processes training this
    study, started with ``rltui.launch.local.LocalPool`` as the UI starts them (nice 10, each
    in a session of its own, with its autogroup lowered too); the same with nice alone (how the
    pool was before, see ``NiceOnlyPool``); and the two workers at nice 0.
    Presses are reported together and split into those that scrolled the table (the whole
    visible table is redrawn) and those that only moved the cursor in view.
    The UI in this process polls the storage and shows the running trials as usual, so
    table updates and chart redraws happen during the measurement.

Timings are wall-clock on whatever else the machine runs: on a shared machine (or with
fewer cores than busy processes) they vary by tens of percent from run to run; repeat a run
whose figures look off.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import math
import os
import platform
import random
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from make_big_study import make_big_study

import rltui
from rltui.launch.local import NICE, LocalPool, signal_worker
from rltui.search.reader import StudyReader
from rltui.search.storage import StudyHome, default_storage_url, open_storage

WIDTH, HEIGHT = 120, 40
ROW = re.compile(r"▕\s?\d+\s+(COMPLETE|PRUNED|FAIL|RUNNING|WAITING)\s")
FIRST_PAINT = re.compile(r"Trials\s+Study file\s+Charts")
KEPT = "as last shown"  # the trials pane's note on rows kept from the window's last run
REFERENCE = {
    "keys_loaded": "a plain Textual app (DataTable taking 20 row updates/s, plotext chart "
    "redrawn twice a second) under 2 busy processes: p95 557 ms",
    "keys_quiet": "the same app, quiet: p95 17 ms",
    "open": "optuna-dashboard, cold open of 10,000 trials: 10.6 s; plain Optuna get_trials() "
    "on SQLite: 9.7 s",
}
TARGETS = {
    "keys": "p95 <= 50 ms",
    "start": "first screen <= 0.5 s",
    "open": "trial rows <= 1 s",
}


def load_line() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


# -- (a) and (b): a real process in tmux ------------------------------------------------


class Tmux:
    """A private tmux server (own socket, no COLUMNS/LINES inherited)."""

    def __init__(self, cache: Path) -> None:
        self.socket = f"rltui-bench-{os.getpid()}-{time.monotonic_ns()}"
        skip = ("COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE")
        self.env = {k: v for k, v in os.environ.items() if k not in skip}
        self.env["PYTHONPYCACHEPREFIX"] = compiled_package()
        self.env["XDG_CACHE_HOME"] = str(cache)  # where the window keeps its last table

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
        )
        return done.stdout

    def close(self) -> None:
        socket = self("display-message", "-p", "#{socket_path}").strip()
        self("kill-server")
        if socket:
            with contextlib.suppress(OSError):
                Path(socket).unlink()


def compiled_package() -> str:
    """A folder of rltui's compiled bytecode, made once per run of this script.

    pip compiles a wheel's modules when it installs them; a checkout run with
    PYTHONDONTWRITEBYTECODE set (or a read-only one) compiles all of rltui at every start,
    60-80 ms here. The UI is timed as users run it: from bytecode."""
    global _PYCACHE
    if _PYCACHE is None:
        _PYCACHE = tempfile.mkdtemp(prefix="rltui-bench-pycache-")
        atexit.register(shutil.rmtree, _PYCACHE, True)
        env = {**os.environ, "PYTHONPYCACHEPREFIX": _PYCACHE}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        package = Path(rltui.__file__).parent  # the rltui the UI will run
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(package)], env=env, check=True
        )
    return _PYCACHE


_PYCACHE: str | None = None


@dataclass
class Start:
    """One launch of ``rltui STUDY``: seconds to the first screen, to the first trial rows,
    and to the study's own rows (the same as the first rows when no table was kept)."""

    paint: float
    rows: float
    live: float


def time_to_rows(study_file: Path, cache: Path, timeout: float = 120.0) -> Start:
    """Launch ``rltui STUDY`` in tmux with ``cache`` as the user's cache folder; time it."""
    tmux = Tmux(cache)
    command = (
        f"unset COLUMNS LINES; {shlex.quote(sys.executable)} -m rltui "
        f"{shlex.quote(study_file.name)}; sleep 600"
    )
    try:
        started = time.perf_counter()
        tmux(
            "new-session", "-d", "-s", "ui", "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", str(study_file.parent), "bash", "-c", command,
        )  # fmt: skip
        first_paint = first_rows = math.nan
        while time.perf_counter() - started < timeout:
            screen = tmux("capture-pane", "-p", "-t", "ui")
            now = time.perf_counter() - started
            if math.isnan(first_paint) and FIRST_PAINT.search(screen):
                first_paint = now
            if ROW.search(screen):
                if math.isnan(first_rows):
                    first_rows = now
                if KEPT not in screen:
                    return Start(first_paint, first_rows, now)
            time.sleep(0.01)
        raise RuntimeError(f"no trial rows after {timeout:.0f} s; the screen:\n{screen}")
    finally:
        tmux.close()


def keep_table(study_file: Path, cache: Path, timeout: float = 120.0) -> None:
    """Open the study in the window, wait for its rows, and quit with q: the window keeps
    its table in ``cache`` for the next start, as it does for a user who closes it."""
    tmux = Tmux(cache)
    command = f"{shlex.quote(sys.executable)} -m rltui {shlex.quote(study_file.name)}"
    try:
        tmux(
            "new-session", "-d", "-s", "ui", "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", str(study_file.parent), "bash", "-c", f"{command}; sleep 600",
        )  # fmt: skip
        started = time.perf_counter()
        while not ROW.search(tmux("capture-pane", "-p", "-t", "ui")):
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the window showed no trial rows")
            time.sleep(0.05)
        tmux("send-keys", "-t", "ui", "q")
        while not any(cache.glob("rltui/tables/*.json")):
            if time.perf_counter() - started > timeout:
                raise RuntimeError("the window kept no table when it closed")
            time.sleep(0.05)
    finally:
        tmux.close()


def open_breakdown(study_file: Path) -> list[tuple[str, float]]:
    """The storage calls the UI makes when it opens a study, timed one by one (no UI)."""
    code = f"""
import time
t = time.perf_counter()
import rltui.ui.app
print("import rltui.ui.app (what the UI needs to paint)", time.perf_counter() - t)
t = time.perf_counter()
from rltui.ui.services.session import Session
print("import rltui.ui.services.session (Optuna, pydantic: on the opening thread)",
      time.perf_counter() - t)
t = time.perf_counter()
session = Session.open(__import__("pathlib").Path({str(study_file)!r}))
print("Session.open (journal replay, spec check)", time.perf_counter() - t)
t = time.perf_counter()
session.study_names()
print("session.study_names() (explorer)", time.perf_counter() - t)
t = time.perf_counter()
session.poll()
print("first Session.poll (rows for every trial)", time.perf_counter() - t)
t = time.perf_counter()
session.poll()
print("next Session.poll (nothing changed)", time.perf_counter() - t)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    parts = []
    for line in out.splitlines():
        label, _, seconds = line.rpartition(" ")
        parts.append((label, float(seconds)))
    return parts


# -- (c): key-to-screen latency with the Pilot -------------------------------------------


@dataclass
class Press:
    handled: float  # seconds from t0 to the table's cursor moving
    shown: float  # seconds from t0 to the end of the screen update that shows it
    scrolled: bool  # the table scrolled to keep the cursor in view


@dataclass
class Probe:
    """Times each key press from the Pilot to the end of the screen update that shows it."""

    t0: float | None = None
    handled: float | None = None
    shown: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    updates: int = 0

    def install(self, app: Any, table: Any) -> None:
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            renderable.render_segments(app.console)  # what a terminal driver would write
            self.updates += 1
            if self.handled is not None and self.shown is None:
                self.shown = time.perf_counter()
                self.done.set()

        app._display = display

        def moved() -> None:
            if self.t0 is not None and self.handled is None:
                self.handled = time.perf_counter()

        app.watch(table, "cursor_coordinate", moved, init=False)

    async def press(self, pilot: Any, table: Any, key: str) -> Press:
        self.handled = self.shown = None
        self.done.clear()
        scroll = table.scroll_offset.y
        self.t0 = time.perf_counter()
        await pilot.press(key)
        await asyncio.wait_for(self.done.wait(), 30)
        assert self.t0 is not None and self.handled is not None and self.shown is not None
        t0, self.t0 = self.t0, None
        return Press(self.handled - t0, self.shown - t0, table.scroll_offset.y != scroll)


async def _until(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _key_latency(study_file: Path, presses: int, running: int) -> tuple[list[Press], int]:
    from rltui.search.lifecycle import TrialStatus
    from rltui.ui.app import RltuiApp

    app = RltuiApp(study_file)
    async with app.run_test(size=(WIDTH, HEIGHT)) as pilot:

        def ready() -> bool:
            screen = app.main_screen
            if screen is None or screen.snapshot is None or not screen.table.row_count:
                return False
            rows = screen.snapshot.rows.values()
            return sum(r.status == TrialStatus.RUNNING for r in rows) >= running

        await _until(ready, 120, "the study's rows (and running trials) in the table")
        assert app.main_screen is not None
        table = app.main_screen.table
        table.focus()
        probe = Probe()
        probe.install(app, table)
        rng = random.Random(0)
        results = []
        key = "down"
        for i in range(presses + 10):
            if table.cursor_row >= table.row_count - 1:
                key = "up"
            elif table.cursor_row <= 0:
                key = "down"
            await asyncio.sleep(rng.uniform(0.03, 0.12))
            press = await probe.press(pilot, table, key)
            if i >= 10:  # warm-up
                results.append(press)
        return results, probe.updates


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _fmt_ms(values: list[float]) -> str:
    if not values:
        return "(none)"
    return (
        f"p50 {_pct(values, 0.5) * 1e3:5.1f}  p95 {_pct(values, 0.95) * 1e3:5.1f}  "
        f"max {max(values) * 1e3:6.1f} ms"
    )


class NiceOnlyPool(LocalPool):
    """LocalPool as it was before it lowered the autogroup: ``os.nice`` alone, for comparison.
    With autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``) each session is its
    own scheduling group and a nice value only counts inside its group, so this worker competes
    with the UI as an equal."""

    def _lower_priority(self) -> None:
        os.nice(self.nice)


@contextlib.contextmanager
def busy_workers(
    study_file: Path, nice: int, pool_class: type[LocalPool] = LocalPool
) -> Iterator[list[psutil.Process]]:
    """Two real ``rltui worker`` processes training this study; killed on exit."""
    url = default_storage_url(study_file)
    pool = pool_class(StudyHome.beside(study_file).logs, study_file=study_file, nice=nice)
    pool.start(2)
    try:
        import optuna

        reader = StudyReader(optuna.load_study(study_name="live", storage=open_storage(url)))
        deadline = time.monotonic() + 120
        while True:  # both workers past their imports, training
            running = [
                r
                for r in reader.poll().rows.values()
                if r.status.value == "RUNNING" and r.timesteps
            ]
            if len(running) >= 2:
                break
            if time.monotonic() > deadline:
                logs = "\n".join(w.log.read_text()[-2000:] for w in pool.started)
                raise RuntimeError(f"the workers did not start training:\n{logs}")
            time.sleep(0.2)
        yield [psutil.Process(w.pid) for w in pool.started]
    finally:
        for worker in pool.started:
            signal_worker(worker.pid, signal.SIGKILL)
        pool.wait(10)


def measure_keys(
    study_file: Path,
    presses: int,
    workers_nice: int | None,
    pool_class: type[LocalPool] = LocalPool,
) -> str:
    me = psutil.Process()
    mine = me.cpu_times()
    started = time.perf_counter()
    psutil.cpu_percent()
    if workers_nice is None:
        results, updates = asyncio.run(_key_latency(study_file, presses, running=0))
        workers = ""
    else:
        with busy_workers(study_file, workers_nice, pool_class) as procs:
            before = [p.cpu_times() for p in procs]
            t_workers = time.perf_counter()
            results, updates = asyncio.run(_key_latency(study_file, presses, running=2))
            wall = time.perf_counter() - t_workers
            used = [
                (a.user + a.system - b.user - b.system) / wall
                for a, b in zip((p.cpu_times() for p in procs), before, strict=True)
            ]
        workers = ", workers " + " + ".join(f"{u:.0%}" for u in used) + " of a core"
    cpu = psutil.cpu_percent()
    now = me.cpu_times()
    ui = (now.user + now.system - mine.user - mine.system) / (time.perf_counter() - started)
    shown = [r.shown for r in results]
    scrolled = [r.shown for r in results if r.scrolled]
    in_view = [r.shown for r in results if not r.scrolled]
    return (
        f"key->screen  {_fmt_ms(shown)}\n"
        f"        cursor moved in view ({len(in_view):3d}): {_fmt_ms(in_view)}\n"
        f"        table scrolled       ({len(scrolled):3d}): {_fmt_ms(scrolled)}\n"
        f"        key->handled          {_fmt_ms([r.handled for r in results])}\n"
        f"        ({len(results)} presses, {updates} screen updates; machine CPU {cpu:.0f} %, "
        f"this process {ui:.0%} of a core{workers}; {load_line()})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3, help="launches for (a) and (b)")
    parser.add_argument("--trials", type=int, default=10_000, help="trials of the big study")
    parser.add_argument("--skip-open", action="store_true", help="skip (a) and (b)")
    parser.add_argument("--skip-keys", action="store_true", help="skip (c)")
    parser.add_argument("--no-nice0", action="store_true", help="skip (c) with nice-0 workers")
    parser.add_argument("--keep", action="store_true", help="keep the temporary studies")
    args = parser.parse_args(argv)

    import optuna
    import textual

    print(
        f"rltui UI bench: Python {platform.python_version()}, textual {textual.__version__}, "
        f"optuna {optuna.__version__}; {load_line()}"
    )
    work = Path(tempfile.mkdtemp(prefix="rltui-ui-bench-"))
    try:
        if not args.skip_open:
            if shutil.which("tmux") is None:
                print("(a), (b): skipped, tmux is not installed")
            else:
                run_open(work, args.trials, args.repeats)
        if not args.skip_keys:
            run_keys(work, args.presses, nice0=not args.no_nice0)
    finally:
        if args.keep:
            print(f"studies kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\ndone; {load_line()}")
    return 0


def timed_runs(study_file: Path, repeats: int, work: Path) -> None:
    """``repeats`` starts on ``study_file`` as the first open on a machine (no table kept),
    then as the next ones (the table kept when the window last closed); prints each one's
    times and the medians."""
    fresh: list[Start] = []
    for i in range(repeats):
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))  # empty: nothing kept
        fresh.append(time_to_rows(study_file, cache))
        start = fresh[-1]
        print(f"    no table kept, run {i + 1}: first screen {start.paint:5.2f} s, "
              f"trial rows {start.rows:5.2f} s")  # fmt: skip
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    keep_table(study_file, cache)
    kept: list[Start] = []
    for i in range(repeats):
        kept.append(time_to_rows(study_file, cache))
        start = kept[-1]
        print(f"    table kept, run {i + 1}: first screen {start.paint:5.2f} s, kept rows "
              f"{start.rows:5.2f} s, the study's own {start.live:5.2f} s")  # fmt: skip

    def median(starts: list[Start], part: str) -> float:
        return statistics.median(getattr(start, part) for start in starts)

    print(
        f"    median, no table kept (the first open on this machine): first screen "
        f"{median(fresh, 'paint'):.2f} s, trial rows {median(fresh, 'rows'):.2f} s\n"
        f"    median, table kept from the last close: first screen {median(kept, 'paint'):.2f} "
        f"s, kept rows {median(kept, 'rows'):.2f} s, the study's own rows "
        f"{median(kept, 'live'):.2f} s\n    ({load_line()})"
    )


def run_open(work: Path, trials: int, repeats: int) -> None:
    small = make_big_study(work / "small", 100, name="small")
    print(
        f"\n(a) cold start: rltui on a 100-trial study in tmux {WIDTH}x{HEIGHT} "
        f"(target {TARGETS['start']})"
    )
    timed_runs(small, repeats, work)

    started = time.perf_counter()
    big = make_big_study(work / "big", trials, name="big")
    print(
        f"\n(b) opening a {trials:,}-trial study (written in {time.perf_counter() - started:.1f} s;"
        f" target {TARGETS['open']})"
    )
    timed_runs(big, repeats, work)
    print(f"    reference: {REFERENCE['open']}")
    print("    where the time goes (storage calls the UI makes, timed alone, one process):")
    for label, seconds in open_breakdown(big):
        print(f"      {seconds:6.3f} s  {label}")

    started = time.perf_counter()
    beats = 300_000
    aged = make_big_study(work / "aged", trials, name="aged", heartbeats=beats)
    journal = StudyHome.beside(aged).journal
    print(
        f"\n(b') the same study after weeks of workers: {beats:,} worker heartbeats in the "
        f"journal ({journal.stat().st_size / 1e6:.0f} MB, written in "
        f"{time.perf_counter() - started:.1f} s)"
    )
    for label in ("from its snapshot", "journal alone (snapshot removed)"):
        if label.startswith("journal alone"):
            journal.with_name(journal.name + ".snapshot").unlink()
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))  # empty: nothing kept
        times = [time_to_rows(aged, cache).rows for _ in range(repeats)]
        print(f"    {label}: trial rows after {statistics.median(times):.2f} s (median)")


def run_keys(work: Path, presses: int, nice0: bool) -> None:
    live = make_big_study(work / "live", 200, name="live", extra_budget=100, timesteps=200_000)
    print(
        f"\n(c) key->screen latency, {presses} presses of down/up in the trial table "
        f"(200 finished trials + running ones; target {TARGETS['keys']})"
    )
    print(f"    quiet (no workers of ours): {measure_keys(live, presses, None)}")
    print(
        f"    2 workers as the UI starts them (nice {NICE}, autogroup nice {NICE}): "
        f"{measure_keys(live, presses, NICE)}"
    )
    print(
        f"    2 workers, nice {NICE} only (autogroup not lowered: the pool before): "
        f"{measure_keys(live, presses, NICE, NiceOnlyPool)}"
    )
    if nice0:
        print(f"    2 workers, nice 0: {measure_keys(live, presses, 0)}")
    print(f"    reference: {REFERENCE['keys_loaded']}; {REFERENCE['keys_quiet']}")


if __name__ == "__main__":
    sys.exit(main())
