"""The journal's write lock held by a stopped process: real children take the ``flock`` and
are really stopped (SIGSTOP); the waiter finds them in the real ``/proc/locks``."""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rltui.launch.local import LocalPool
from rltui.search.journal import FlockLock
from rltui.search.journal_lock import (
    DEFAULT_GRACE,
    LOGGER,
    Holder,
    lock_holders,
    rltui_command,
    set_stall_grace,
    stall_grace,
)
from rltui.spec.model import ControlSpec

HANG = 120.0  # bounds a wait that should end long before; never a measure of speed

# Takes the flock on argv[-1], says so, and lets it go when its stdin gives a line.
HOLD = (
    "import fcntl, os, sys\n"
    "fd = os.open(sys.argv[-1], os.O_RDWR | os.O_CREAT, 0o644)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "print('held', flush=True)\n"
    "sys.stdin.readline()\n"
)


def _holder(argv: list[str]) -> subprocess.Popen[str]:
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def _stopped(pid: int) -> bool:
    holder = Holder.read(pid)
    return holder is not None and holder.stopped


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    _wait_for(lambda: _stopped(pid), f"process {pid} to stop")


def _wait_for(check, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + HANG
    while not (result := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return result


class Acquiring:
    """``lock.acquire()`` in a thread, so that the test can watch it wait."""

    def __init__(self, lock: FlockLock) -> None:
        self.result: bool | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(lock,), daemon=True)
        self.thread.start()

    def _run(self, lock: FlockLock) -> None:
        self.result = lock.acquire()
        self.done.set()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "study.journal"
    path.touch()
    yield str(path)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def test_the_default_grace_is_the_study_files_default_heartbeat_grace() -> None:
    # (What stall_grace() gives here depends on the tests before: opening a study sets it.)
    assert ControlSpec.model_fields["heartbeat_grace"].default == DEFAULT_GRACE
    with pytest.raises(ValueError, match="positive"):
        set_stall_grace(0)


def test_set_stall_grace_sets_the_grace_of_locks_made_without_one() -> None:
    before = stall_grace()
    try:
        set_stall_grace(3.5)
        assert stall_grace() == 3.5
    finally:
        set_stall_grace(before)


def test_workers_are_told_by_the_command_lines_rltui_starts_them_with(tmp_path: Path) -> None:
    local = LocalPool(tmp_path, study_file=tmp_path / "s.yaml", nice=0)
    assert rltui_command(tuple(local.command("ab12cd34", 0))) == (
        "worker",
        str(tmp_path / "s.yaml"),
        "--worker-id",
        "ab12cd34",
        "--index",
        "0",
    )
    python = "/home/u/.venv/bin/python3.11"
    workers = [
        f"{python} /home/u/.venv/bin/rltui worker s.yaml",  # the entry point
        "/usr/local/bin/rltui worker",  # a binary launcher of the entry point
        f"{python} -u -W ignore -X dev -m rltui worker",
        f"{python} -mrltui worker --storage-from-env",
        f"{python} -m rltui.__main__ worker",
    ]
    for line in workers:
        assert _command(line)[:1] == ("worker",), line
    others = [
        f"{python} -m rltui run s.yaml",
        f"{python} /home/u/.venv/bin/rltui s.yaml",
        f"{python} -c 'print()' -m rltui worker",  # -m there is the snippet's argument
        f"{python} -c 'print()' rltui worker",
        f"{python} -m rltuix worker",
        f"{python} /tmp/rltui.py worker",
        f"{python} -W rltui worker",
        "bash -c 'rltui worker'",
        "",
    ]
    for line in others:
        assert _command(line)[:1] != ("worker",), line


def _command(line: str) -> tuple[str, ...]:
    """What :func:`rltui_command` finds in the shell-quoted command line ``line``."""
    return rltui_command(tuple(shlex.split(line))) or ()


def test_proc_locks_names_the_holder_and_not_its_waiter(journal: str) -> None:
    lock_file = journal + ".flock"
    holder = _holder([sys.executable, "-c", HOLD, lock_file])
    waiter = subprocess.Popen(
        [sys.executable, "-c", HOLD, lock_file], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        _wait_for(
            lambda: any(
                "->" in line and str(waiter.pid) in line
                for line in Path("/proc/locks").read_text().splitlines()
            ),
            "the waiter to be listed in /proc/locks",
        )
        assert lock_holders(os.stat(lock_file)) == [holder.pid]
        assert lock_holders(os.stat(journal)) == []  # no lock on the journal itself
    finally:
        for child in (holder, waiter):
            child.kill()
            child.wait()
    assert lock_holders(os.stat(lock_file)) == []


@pytest.mark.slow  # waits seconds past a grace time
def test_a_stopped_holder_that_is_no_worker_is_named_once_and_waited_for(
    journal: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    child = _holder([sys.executable, "-c", HOLD, journal + ".flock"])
    name = Path(f"/proc/{child.pid}/comm").read_text().strip()
    # Well past its grace it is still waited for: this process is not an rltui worker.
    _named_and_waited_for(child, journal, caplog, name)
    assert child.wait() == 0  # it let the lock go itself: nothing ended it
    assert len(_warnings(caplog)) == 1


def _named_and_waited_for(
    child: subprocess.Popen[str], journal: str, caplog: pytest.LogCaptureFixture, what: str
) -> None:
    """Stop ``child``, which holds the journal's lock; check a writer names it (as ``what``)
    and still waits 2 s past a grace of 0.2 s; then continue it, and let it release."""
    try:
        _stop(child.pid)
        acquiring = Acquiring(FlockLock(journal, grace=0.2))
        _wait_for(lambda: _warnings(caplog), "the warning about the stopped holder")
        time.sleep(2)
        assert not acquiring.done.is_set()
        assert child.poll() is None and _stopped(child.pid)
        [said] = _warnings(caplog)
        assert said == (
            f"rltui: the study's journal {journal} is locked by process {child.pid} ({what}), "
            "which is stopped: every writer of the study waits. Continue it "
            f"(kill -CONT {child.pid}) or end it"
        )
        os.kill(child.pid, signal.SIGCONT)
        assert child.stdin is not None
        child.stdin.write("done\n")
        child.stdin.flush()
        assert acquiring.done.wait(HANG) and acquiring.result is True
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.kill()


@pytest.mark.slow  # waits seconds past a grace time
def test_a_worker_stopped_past_its_grace_is_ended_and_the_lock_taken(
    journal: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    # The command line of the `rltui` entry point: `python .../bin/rltui worker ...`.
    script = tmp_path / "bin" / "rltui"
    script.parent.mkdir()
    script.write_text(HOLD)
    child = _holder([sys.executable, str(script), "worker", journal + ".flock"])
    try:
        _stop(child.pid)
        lock = FlockLock(journal, grace=1.0)
        acquiring = Acquiring(lock)
        assert acquiring.done.wait(HANG) and acquiring.result is True
        assert child.wait(HANG) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()
    lock.release()
    stopped, ended = _warnings(caplog)
    assert stopped.startswith(
        f"rltui: the study's journal {journal} is locked by process {child.pid} (rltui worker), "
        "which is stopped: every writer of the study waits. Continue it "
        f"(kill -CONT {child.pid}) or end it; if it stays stopped 1 s, it is ended (kill -9)"
    )
    assert ended.startswith(f"rltui: ended process {child.pid} (rltui worker), stopped for ")
    assert "its trial will be retried from its last checkpoint" in ended


@pytest.mark.slow  # waits seconds past a grace time
def test_a_running_holder_is_waited_for_without_a_word(
    journal: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    script = Path(journal).with_name("rltui")
    script.write_text(HOLD)  # a worker by its command line, but it runs
    child = _holder([sys.executable, str(script), "worker", journal + ".flock"])
    try:
        acquiring = Acquiring(FlockLock(journal, grace=0.1))
        time.sleep(2)  # past the look-up and the grace
        assert not acquiring.done.is_set()
        assert child.stdin is not None
        child.stdin.write("done\n")
        child.stdin.flush()
        assert acquiring.done.wait(HANG) and acquiring.result is True
    finally:
        child.kill()
    assert child.wait() == 0
    assert _warnings(caplog) == []


def test_ctrl_c_ends_the_wait_and_keeps_no_descriptor(journal: str) -> None:
    child = _holder([sys.executable, "-c", HOLD, journal + ".flock"])
    lock = FlockLock(journal)
    before = len(os.listdir("/proc/self/fd"))
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            lock.acquire()
    finally:
        timer.cancel()
        child.kill()
        child.wait()
    assert len(os.listdir("/proc/self/fd")) == before
    assert lock.acquire(blocking=False) is True  # the holder is gone, and nothing was kept
    lock.release()


def test_a_busy_lock_is_refused_at_once_without_blocking(journal: str) -> None:
    child = _holder([sys.executable, "-c", HOLD, journal + ".flock"])
    try:
        before = len(os.listdir("/proc/self/fd"))
        assert FlockLock(journal).acquire(blocking=False) is False
        assert len(os.listdir("/proc/self/fd")) == before
    finally:
        child.kill()
        child.wait()
    lock = FlockLock(journal)
    assert lock.acquire(blocking=False) is True
    lock.release()


@pytest.mark.slow  # waits seconds past a grace time
@pytest.mark.skipif(os.getuid() != 0, reason="needs root to start another user's process")
def test_another_users_stopped_worker_is_never_ended(
    journal: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    script = tmp_path / "bin" / "rltui"
    script.parent.mkdir()
    # Opens the lock file as root, then becomes user 65534 ("nobody") before taking the lock.
    script.write_text(HOLD.replace("fcntl.flock(", "os.setuid(65534)\nfcntl.flock(", 1))
    child = _holder([sys.executable, str(script), "worker", journal + ".flock"])
    _named_and_waited_for(child, journal, caplog, "rltui worker, of another user")
    assert child.wait() == 0
