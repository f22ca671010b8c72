"""The real ``rltui`` in tmux, driven as a user would: start workers, watch a trial train,
prune it, quit leaving the workers running, reopen and see the study as it is.

Everything waits on the text of the screen (``tmux capture-pane -p``) or on the storage,
never on fixed sleeps. The limits only bound a hang: on a shared machine under heavy load a
worker takes a minute to start, and the test must still pass. The workers the UI starts run
at normal priority here (tests/conftest.py sets RLTUI_WORKER_NICE=0), so that other jobs do
not starve the training the test waits on. The tmux server runs on a private socket, so it
never touches the user's own tmux sessions, and every worker the test started is killed at
the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import optuna
import psutil
import pytest

from rltui.launch.local import pid_running
from rltui.search.reader import Snapshot, StudyReader
from rltui.search.storage import default_storage_url, open_storage
from rltui.search.workers import HOST

TMUX = shutil.which("tmux")
pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed"),
]

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "sample_studies" / "smoke.yaml"
WIDTH, HEIGHT = 120, 40
# Seconds before any wait gives up: long enough that only a hang reaches it, also on a
# 2-core machine at load 25 (where starting a worker alone took over a minute).
TIMEOUT = 600.0
N_TRIALS = 6
TIMESTEPS = 50_000

STATES = "WAITING|RUNNING|PAUSED|COMPLETE|PRUNED|FAIL|pausing|pruning|killing|resuming"
# A trial table row: it starts right after the main area's left edge (▕).
ROW = re.compile(rf"▕\s?(\d+)\s+({STATES})\s+(.*)$")
PROGRESS = re.compile(r"(\d[\d.,]*[kM]?)/(\d[\d.,]*[kM]?)\s+\d+%\s+(\S+)")
SELECTED = re.compile(r"reward: trial (\d+)")
EXITED = re.compile(r"rltui exited with (\d+)")

T = TypeVar("T")


def _count(text: str) -> float:
    """``2048``, ``10.2k``, ``1.5M`` as on screen (``cells._short``)."""
    scale = {"k": 1e3, "M": 1e6}.get(text[-1], 1.0)
    return float(text.rstrip("kM").replace(",", "")) * scale


class Row:
    def __init__(self, number: int, state: str, rest: str):
        self.number, self.state, self.rest = number, state, rest
        progress = PROGRESS.search(rest)
        self.timesteps = _count(progress.group(1)) if progress else None
        self.last_eval = progress.group(3) if progress else None


def rows(screen: str) -> dict[int, Row]:
    """The trial table rows on a screen, by trial number."""
    found = {}
    for line in screen.splitlines():
        match = ROW.search(line)
        if match:
            found[int(match.group(1))] = Row(int(match.group(1)), match.group(2), match.group(3))
    return found


def _clean_env() -> dict[str, str]:
    """The environment for the tmux server, without COLUMNS and LINES.

    Under pytest the process's C-level environment may hold ``COLUMNS=80 LINES=24`` that
    ``os.environ`` does not show; a plain ``subprocess.run`` would pass them on, and Textual
    (through ``shutil.get_terminal_size``) would then draw 80 x 24 in a 120 x 40 pane.
    """
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


class Tmux:
    """A private tmux server (its own socket) with one session per rltui run."""

    def __init__(self, cwd: Path):
        self.socket = f"rltui-e2e-{os.getpid()}-{time.monotonic_ns()}"
        self.cwd = cwd

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env=_clean_env(),
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self, name: str, command: str) -> None:
        """Run ``command`` in a new session of WIDTH x HEIGHT; the pane says when it exits."""
        wrapped = (
            f"unset COLUMNS LINES; {command}; code=$?; "
            'echo; echo "rltui exited with $code"; sleep 3600'
        )
        self.tmux(
            "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", str(self.cwd), "bash", "-c", wrapped,
        )  # fmt: skip

    def screen(self, name: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", name)

    def press(self, name: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", name, *keys)

    def wait(
        self,
        name: str,
        check: Callable[[str], T | None],
        what: str,
        timeout: float = TIMEOUT,
    ) -> T:
        """Poll the screen until ``check(screen)`` gives neither None nor False (0 counts as
        an answer: it is a trial number); that value is returned. Fails at once when the
        program has exited and its exit was not what ``check`` waits for."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(name)
            result = check(screen)
            if result is not None and result is not False:
                return result
            if EXITED.search(screen):
                raise AssertionError(f"rltui exited while waiting for {what}:\n{screen}")
            time.sleep(0.2)
        size = self.tmux("display", "-p", "-t", name, "#{pane_width}x#{pane_height}").strip()
        raise AssertionError(
            f"timed out after {timeout:.0f} s waiting for {what}; "
            f"the pane ({size}) shows:\n{screen}"
        )

    def wait_text(self, name: str, pattern: str | re.Pattern[str], timeout: float = TIMEOUT):
        regex = re.compile(pattern)
        return self.wait(name, regex.search, f"/{regex.pattern}/", timeout)

    def close(self) -> None:
        """Kill the server and remove its socket file."""
        socket = None
        with contextlib.suppress(Exception):
            socket = self.tmux("display-message", "-p", "#{socket_path}").strip()
        with contextlib.suppress(Exception):
            self.tmux("kill-server")
        if socket:
            with contextlib.suppress(OSError):
                Path(socket).unlink()


def _longer_smoke(target: Path, n_trials: int = N_TRIALS, timesteps: int = TIMESTEPS) -> None:
    """The smoke study with trials long enough to catch one running, and no automatic
    pruning, so the only PRUNED trial is the one the test prunes."""
    text = SMOKE.read_text(encoding="utf-8")
    edits = [
        ("n_trials: 8", f"n_trials: {n_trials}"),
        ("timesteps: 1024", f"timesteps: {timesteps}"),
        ("every: 256", "every: 2048"),
        (
            "pruner:\n  type: median\n  n_startup_trials: 2\n  n_warmup_steps: 0\n",
            "pruner:\n  type: none\n",
        ),
    ]
    for old, new in edits:
        assert old in text, f"smoke.yaml changed: {old!r} not found"
        text = text.replace(old, new)
    text += "\ncontrol:\n  heartbeat_interval: 0.5\n  heartbeat_grace: 10\n"
    target.write_text(text, encoding="utf-8")


def _wait_for(check: Callable[[], T], what: str, timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _kill_workers(study_file: Path, reader: StudyReader | None) -> None:
    """SIGKILL every worker of this study: those in the storage's worker records, and any
    process whose command line names this (temporary) study file, in case one never
    registered."""
    pids: set[int] = set()
    if reader is not None:
        with contextlib.suppress(Exception):
            pids |= {w.pid for w in reader.poll().workers if w.host == HOST}
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if str(study_file) in cmdline and "worker" in cmdline:
            pids.add(proc.info["pid"])
    for pid in pids:
        try:
            cmdline = psutil.Process(pid).cmdline()
        except psutil.Error:
            continue
        if "rltui" in cmdline and "worker" in cmdline and pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def _reader(study_file: Path) -> StudyReader:
    storage = open_storage(default_storage_url(study_file))
    return StudyReader(optuna.load_study(study_name="smoke", storage=storage))


def test_user_session_in_tmux(tmp_path: Path) -> None:
    study_file = tmp_path / "smoke.yaml"
    _longer_smoke(study_file)
    command = f"{shlex.quote(sys.executable)} -m rltui {shlex.quote(study_file.name)}"
    tmux = Tmux(tmp_path)
    reader: StudyReader | None = None
    try:
        # -- open the study ------------------------------------------------------------
        tmux.start("ui", command)
        tmux.wait_text("ui", r"│ 0 workers")
        tmux.wait_text("ui", r"▕\s?0\s+WAITING")  # the file's enqueued trial

        # -- start two workers, one after the other --------------------------------------
        tmux.press("ui", "w")
        tmux.wait_text("ui", r"│ 1 worker ")
        tmux.press("ui", "w")
        tmux.wait_text("ui", r"│ 2 workers")

        # -- a trial runs, and its curve grows -------------------------------------------
        tmux.wait("ui", lambda s: any(r.state == "RUNNING" for r in rows(s).values()), "RUNNING")
        first: dict[int, float] = {}

        def grown(screen: str) -> int | None:
            for row in rows(screen).values():
                if row.state != "RUNNING" or row.timesteps is None:
                    continue
                seen = first.setdefault(row.number, row.timesteps)
                if row.timesteps > seen and row.last_eval not in (None, "–"):
                    return row.number
            return None

        tmux.wait("ui", grown, "a RUNNING trial's progress and last evaluation to grow")
        tmux.wait_text("ui", r"reward: trial \d+")  # the curves panel draws points

        # -- select the last running trial with the arrow keys, and prune it --------------
        print(f"growth seen: first progress {first}", flush=True)
        running = [r.number for r in rows(tmux.screen("ui")).values() if r.state == "RUNNING"]
        assert running, "no trial is running any more: the trials are too short"
        target = max(running)
        order = sorted(rows(tmux.screen("ui")))  # the table is sorted by number
        for _ in range(len(order) + 2):
            selected = tmux.wait("ui", _selected, "the curves panel to name the selected trial")
            if selected == target:
                break
            print(f"selected trial {selected}, want {target}", flush=True)
            tmux.press("ui", "Down" if order.index(selected) < order.index(target) else "Up")
            tmux.wait(
                "ui", partial(_moved, old=selected), f"the selection to move off trial {selected}"
            )
        else:
            raise AssertionError(f"could not select trial {target}")
        print(f"pressing x on trial {target}", flush=True)
        tmux.press("ui", "x")
        # The acknowledgement: the notification, or the row's state if the notification has
        # come and gone between two looks at a slow screen.
        tmux.wait_text("ui", rf"trial {target}: prune requested|▕\s?{target}\s+(pruning|PRUNED)")
        tmux.wait(
            "ui",
            lambda s: (row := rows(s).get(target)) is not None and row.state == "PRUNED",
            f"trial {target} to show PRUNED",
        )

        # -- quit, keeping the workers going (the default answer) --------------------------
        tmux.press("ui", "q")
        tmux.wait_text("ui", r"Keep going")  # the dialog's default button
        tmux.press("ui", "Enter")
        exited = tmux.wait_text("ui", EXITED)
        assert exited.group(1) == "0"

        # -- the workers go on without the UI ----------------------------------------------
        reader = _reader(study_file)
        after_quit = reader.poll()
        assert after_quit.rows[target].status.value == "PRUNED"
        done_then = _trained(after_quit)

        def going_on() -> bool:
            snap = reader.poll()
            finished = sum(1 for r in snap.rows.values() if r.completed is not None)
            if finished >= N_TRIALS:
                return True  # the study is over: the workers finished it
            alive = [w for w in snap.workers if w.alive and pid_running(w.pid)]
            return bool(alive) and _trained(snap) > done_then

        _wait_for(going_on, "the workers to keep training after the UI quit")

        # -- reopen: the study as it is --------------------------------------------------
        before = reader.poll()
        finished = {
            n: r.status.value
            for n, r in before.rows.items()
            if r.status.value in ("COMPLETE", "PRUNED", "FAIL")
        }
        assert finished.get(target) == "PRUNED"
        tmux.start("ui2", command)

        def as_it_is(screen: str) -> bool:
            if "as last shown" in screen:  # the table kept when the window quit, shown at once
                return False  # until the study's own rows replace it
            shown = rows(screen)
            return all(n in shown and shown[n].state == state for n, state in finished.items())

        tmux.wait("ui2", as_it_is, f"the reopened table to show {finished}")
        print(f"reopened; finished trials shown as stored: {finished}", flush=True)
        shown = rows(tmux.screen("ui2"))
        assert shown[target].state == "PRUNED"
        assert set(before.rows) <= set(shown), "every trial of the study is listed"
    finally:
        tmux.close()
        _kill_workers(study_file, reader or _safe_reader(study_file))


def _selected(screen: str) -> int | None:
    """The selected trial, as the curves panel's title names it (``reward: trial 3``)."""
    match = SELECTED.search(screen)
    return int(match.group(1)) if match else None


def _moved(screen: str, old: int) -> bool:
    return _selected(screen) not in (None, old)


def _trained(snapshot: Snapshot) -> int:
    return sum(r.timesteps for r in snapshot.rows.values())


def _safe_reader(study_file: Path) -> StudyReader | None:
    try:
        return _reader(study_file)
    except Exception:
        return None


def _ui_pid(tmux: Tmux, name: str) -> int:
    """The rltui process in a pane: the pane's process is the bash wrapper of
    :meth:`Tmux.start`, and rltui is its child."""
    shell = int(tmux.tmux("display", "-p", "-t", name, "#{pane_pid}").strip())
    for child in psutil.Process(shell).children():
        cmdline = child.cmdline()
        if "rltui" in cmdline and "worker" not in cmdline:
            return child.pid
    raise AssertionError(f"no rltui process under the pane's shell (pid {shell})")


def test_ui_killed_with_sigkill_stops_no_training(tmp_path: Path) -> None:
    """SIGKILL gives the UI no chance to clean up (or to take its workers down with it):
    the workers it started run in their own sessions, so both running trials still finish,
    trained to the end by the same worker processes."""
    # Long enough that both trials are still running when the UI dies on a fast, quiet
    # machine (a trial of 20,000 steps took 7 s there).
    budget = 60_000
    study_file = tmp_path / "smoke.yaml"
    _longer_smoke(study_file, n_trials=2, timesteps=budget)
    command = f"{shlex.quote(sys.executable)} -m rltui {shlex.quote(study_file.name)}"
    tmux = Tmux(tmp_path)
    reader: StudyReader | None = None
    try:
        tmux.start("ui", command)
        tmux.wait_text("ui", r"▕\s?0\s+WAITING")  # the study exists: its enqueued trial shows
        reader = _reader(study_file)
        tmux.press("ui", "w")
        tmux.wait_text("ui", r"│ 1 worker ")
        tmux.press("ui", "w")  # the reader below waits for both trials to train

        def both_running() -> Snapshot | None:
            assert reader is not None
            snap = reader.poll()
            running = [r for r in snap.rows.values() if r.status.value == "RUNNING"]
            return snap if len(running) == 2 and all(r.timesteps > 0 for r in running) else None

        snap = _wait_for(both_running, "two trials RUNNING with progress")
        trained_by = {n: r.worker for n, r in snap.rows.items()}
        workers = {w.id: w.pid for w in snap.workers if w.alive and w.host == HOST}
        assert set(trained_by.values()) <= set(workers), (trained_by, workers)
        print(f"running before the kill: {trained_by}; worker pids {workers}", flush=True)

        ui = _ui_pid(tmux, "ui")
        assert ui not in workers.values()
        os.kill(ui, signal.SIGKILL)
        exited = tmux.wait_text("ui", EXITED)
        assert exited.group(1) == str(128 + signal.SIGKILL)
        assert not pid_running(ui)
        alive = {wid: pid_running(pid) for wid, pid in workers.items()}
        assert all(alive.values()), f"workers died with the UI: {alive}"

        last: dict[int, tuple[str, int]] = {}  # for the failure message

        def both_complete() -> Snapshot | None:
            assert reader is not None
            snap = reader.poll()
            last.update({n: (r.status.value, r.timesteps) for n, r in snap.rows.items()})
            if any(state in ("FAIL", "PRUNED") for state, _ in last.values()):
                raise AssertionError(f"a trial did not complete: {last}")
            done = len(last) == 2 and all(state == "COMPLETE" for state, _ in last.values())
            return snap if done else None

        try:
            done = _wait_for(both_complete, "both trials to COMPLETE")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; trials (state, timesteps): {last}") from None
        for number, row in done.rows.items():
            assert row.timesteps == budget, f"trial {number} trained {row.timesteps:,} steps"
            assert row.worker == trained_by[number], f"trial {number} changed worker"

        def workers_left() -> bool:
            assert reader is not None
            records = {w.id: w for w in reader.poll().workers}
            return all(records[wid].state == "exited" for wid in workers)

        # Each worker leaves by itself once the budget is spent: never lost, never restarted.
        _wait_for(workers_left, "both workers to exit after the study's budget")
    finally:
        tmux.close()
        _kill_workers(study_file, reader or _safe_reader(study_file))


def _spec_version(study_file: Path) -> int:
    from rltui.search.study import spec_version

    storage = open_storage(default_storage_url(study_file))
    return spec_version(optuna.load_study(study_name="smoke", storage=storage))


def test_editing_in_bursts_in_tmux(tmp_path: Path) -> None:
    """The study file edited as over SSH: each burst is one send-keys call (typeahead), a
    save shows the preview and applies only on 'a', Esc and a digit typed together switch
    tabs and type nothing, quitting with unsaved edits asks, and a change made from a shell
    meanwhile is never overwritten."""
    study_file = tmp_path / "smoke.yaml"
    _longer_smoke(study_file)
    command = f"{shlex.quote(sys.executable)} -m rltui {shlex.quote(study_file.name)}"
    tmux = Tmux(tmp_path)
    try:
        tmux.start("ui", command)
        tmux.wait_text("ui", r"▕\s?0\s+WAITING")  # the study is open, with a trial
        tmux.press("ui", "2")
        tmux.wait_text("ui", r"\b1\s+# A seconds-long study")
        tmux.press("ui", "C-Home")
        # One burst: to the end of line 5 (n_trials: 6), replace the 6 with 9, and save.
        tmux.press("ui", "Down", "Down", "Down", "Down", "End", "BSpace", "9", "C-s")
        tmux.wait_text("ui", r"Apply smoke\.yaml to the study\?")
        tmux.wait_text("ui", r"n_trials: 6 → 9")
        assert "n_trials: 9\n" in study_file.read_text()  # saved: every key typed before ctrl+s
        assert _spec_version(study_file) == 1  # and nothing applied yet
        tmux.press("ui", "a")
        tmux.wait_text("ui", r"applied: study file version 2")
        assert _spec_version(study_file) == 2

        # Esc and 1 sent together: the trials tab, nothing typed into the file.
        tmux.press("ui", "Escape", "1")
        tmux.wait_text("ui", r"sort: ")
        tmux.press("ui", "2")
        tmux.wait_text("ui", r"\b1\s+# A seconds-long study")
        screen = tmux.screen("ui")
        assert "¡" not in screen and "n_trials: 9" in screen

        # An unsaved edit, then the file changed from a shell: a conflict, never overwritten.
        tmux.press("ui", "C-Home", "End", "Space", "#", "x")
        tmux.wait_text("ui", r"Study file ●")
        on_disk = study_file.read_text().replace("n_trials: 9", "n_trials: 11")
        study_file.write_text(on_disk)
        tmux.wait_text("ui", r"changed on disk")
        tmux.press("ui", "C-s")
        tmux.wait_text("ui", r"changed on disk after you opened it")
        tmux.press("ui", "n")
        tmux.wait_text("ui", r"not saved")
        assert study_file.read_text() == on_disk

        # Quitting with unsaved edits asks; cancel keeps them.
        tmux.press("ui", "Escape", "q")
        tmux.wait_text("ui", r"has unsaved edits")
        tmux.press("ui", "c")
        tmux.wait_text("ui", r"still here")
        tmux.press("ui", "q")
        tmux.wait_text("ui", r"has unsaved edits")
        tmux.press("ui", "d")  # discard: nothing written
        tmux.wait_text("ui", EXITED)
        assert study_file.read_text() == on_disk
    finally:
        tmux.close()
