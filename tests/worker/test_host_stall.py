"""No false losses when a whole host stalls: the rules that tell a lost worker from one that
was stalled with its reaper, on crafted records, then on real workers stopped together."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from optuna.trial import TrialState

from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.recovery import reap_lost_workers, why_lost
from rltui.search.workers import (
    HOST,
    HUNG_GRACES,
    Process,
    StallGuard,
    WorkerRecord,
    is_lost,
    new_record,
    process_of,
    process_start,
    stored_record,
)
from tests.worker.helpers import HANG, Lab, wait_for
from tests.worker.test_control_requests import Bench

GRACE = 4.0  # heartbeat_grace of the tiny study file (tests/conftest.py)
LINUX = pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs Linux's /proc")


def _record(pid: int, *, silent: float, host: str = HOST) -> WorkerRecord:
    """A training worker's record for process ``pid``, its heartbeat ``silent`` seconds old."""
    now = time.time()
    return WorkerRecord(
        "w1",
        host,
        pid,
        "cpu",
        now - 600,
        now - silent,
        state="training",
        trial=0,
        trial_id=0,
        pid_start=process_start(pid) if host == HOST else None,
    )


@pytest.fixture
def sleeper() -> Iterator[int]:
    """A real process on this host that does nothing for a minute; its pid."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def _stop(pid: int) -> None:
    os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: process_of(_record(pid, silent=0)) is Process.STOPPED, what="stopped")


# -- the rules, on crafted records ---------------------------------------------------------


def test_a_running_process_on_this_host_is_not_lost_for_an_old_heartbeat():
    # Its heartbeat thread may be starved; the process itself is there.
    record = _record(os.getpid(), silent=5 * GRACE)
    assert process_of(record) is Process.RUNNING
    assert not is_lost(record, GRACE)


def test_a_running_process_whose_heartbeat_died_is_lost_after_many_graces():
    record = _record(os.getpid(), silent=HUNG_GRACES * GRACE + 5)
    assert is_lost(record, GRACE)
    why = why_lost(record)
    assert why.startswith(f"no heartbeat for {HUNG_GRACES * GRACE + 5:.0f} s, though its process")
    assert "still runs" in why


@LINUX
def test_a_reused_pid_is_lost_at_once():
    record = replace(_record(os.getpid(), silent=0), pid_start=process_start(os.getpid()) + 1)
    assert process_of(record) is Process.REUSED
    assert is_lost(record, GRACE)
    assert why_lost(record) == (
        f"its process {os.getpid()} on host {HOST} is gone (its pid now belongs to another process)"
    )


@LINUX
def test_the_records_start_time_is_its_own_process():
    record = new_record("w", "cpu", None)
    assert record.pid_start is not None and record.pid_start == process_start(os.getpid())
    assert WorkerRecord.from_json(record.to_json()) == record


def test_a_process_that_has_exited_is_lost_at_once():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    record = _record(proc.pid, silent=0)
    assert process_of(record) is Process.GONE
    assert is_lost(record, GRACE, awake_since=time.time())


def test_a_stopped_process_is_lost_once_silent_past_the_grace(sleeper):
    _stop(sleeper)
    assert not is_lost(_record(sleeper, silent=GRACE - 1), GRACE)
    late = _record(sleeper, silent=GRACE + 1)
    assert is_lost(late, GRACE)
    assert why_lost(late) == (
        f"no heartbeat for {GRACE + 1:.0f} s: its process {sleeper} on host {HOST} is stopped"
    )
    # Unless the reaper woke up less than a grace ago: they were most likely stopped together.
    assert not is_lost(late, GRACE, awake_since=time.time() - 1)


def test_another_hosts_silence_counts_only_while_the_reaper_was_awake():
    record = _record(1, silent=30, host="far-away")
    now = time.time()
    assert is_lost(record, GRACE, now)
    assert not is_lost(record, GRACE, now, awake_since=now - GRACE + 1)
    assert is_lost(record, GRACE, now, awake_since=now - GRACE - 1)


@pytest.fixture
def bench(study_file):
    return Bench(study_file(name="stall", n_trials=4))


# -- the guard ------------------------------------------------------------------------------

TICKER = """
import sys, time
from rltui.search.workers import StallGuard

guard = StallGuard(0.05, grace=0.5)
guard.tick()  # the first tick only starts the count: a stop before it would go unseen
print("ready", flush=True)
while True:
    print(guard.tick(), flush=True)
    time.sleep(0.05)
"""


@pytest.mark.slow
def test_the_guard_notices_a_real_stop_of_its_process():
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(TICKER)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    # Read on a thread, so that the test waits on the ticker with a limit, never for ever.
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        assert lines.get(timeout=60).strip() == "ready"
        os.kill(proc.pid, signal.SIGSTOP)
        stopped = time.time()
        time.sleep(1.5)  # the stall being staged: three times the guard's limit of 0.3 s
        os.kill(proc.pid, signal.SIGCONT)
        awake_since = 0.0
        deadline = time.monotonic() + 120
        while awake_since < stopped:
            assert time.monotonic() < deadline, f"no stall seen in 120 s ({awake_since=})"
            try:
                awake_since = float(lines.get(timeout=1.0))
            except queue.Empty:
                os.kill(proc.pid, signal.SIGCONT)  # a continue is never lost, but be sure
    finally:
        proc.kill()
        proc.wait()
    assert awake_since >= stopped + 1.5


@pytest.mark.slow
def test_a_reaper_that_just_stalled_spares_a_silent_worker_until_a_grace_has_passed(bench):
    number = bench.running("w2")
    bench.worker("w2", number, pid=1, host="far-away", silent=30)
    grace = 1.0
    stall = StallGuard(0.1)
    stall.tick(grace)
    time.sleep(1.0)  # this process does not tick for longer than the limit of 0.6 s: a stall
    assert reap_lost_workers(bench.ostudy, grace, 0, stall=stall) == []
    assert stall.awake_since > 0 and stored_record(bench.storage, bench.study_id, "w2").alive
    # Awake for a grace since, it judges the silence again (retried: a busy machine may
    # stall this process once more, which spares the worker once more).
    [line] = wait_for(lambda: reap_lost_workers(bench.ostudy, grace, 0, stall=stall), "a reap")
    assert "worker w2 lost (no heartbeat for" in line
    assert bench.get(number).state == TrialState.FAIL


def test_a_worker_that_beat_since_the_reaper_read_its_record_is_not_declared(bench, monkeypatch):
    number = bench.running("w2")
    bench.worker("w2", number, pid=1, host="far-away", silent=30)
    old = bench.storage.get_study_system_attrs(bench.study_id)
    # The worker beats between the reaper's read and its declaration.
    bench.worker("w2", number, pid=1, host="far-away", silent=0)
    read = bench.storage.get_study_system_attrs
    stale = [old]
    monkeypatch.setattr(
        bench.storage,
        "get_study_system_attrs",
        lambda study_id: stale.pop() if stale else read(study_id),
    )
    assert reap_lost_workers(bench.ostudy, GRACE, 0) == []
    monkeypatch.undo()
    assert stored_record(bench.storage, bench.study_id, "w2").alive
    assert bench.get(number).state == TrialState.RUNNING


# -- real workers, stopped together --------------------------------------------------------


def _both_started(lab: Lab) -> dict | None:
    rows = lab.snap().rows
    started = len(rows) == 2 and all(r.timesteps > 0 or r.status.is_finished for r in rows.values())
    return rows if started else None


def _stall_host(lab: Lab, stalls: int) -> None:
    """Stop both workers together for longer than the grace, ``stalls`` times, each time
    letting them run on for a grace after they are continued."""
    pids = [w.pid for w in lab.pool.started]
    for stall in range(stalls):
        rows = wait_for(lambda: _both_started(lab), what="both trials started")
        assert all(r.status == TrialStatus.RUNNING for r in rows.values()), lab.logs()
        assert {w.pid for w in lab.snap().workers} == set(pids)
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(1.5 * GRACE)  # the stall being staged
        # A host wakes its processes in no set order, and a busy one runs some of them a while
        # before the others: one worker runs alone for a quarter of the grace, each in turn.
        first, second = pids if stall % 2 == 0 else pids[::-1]
        os.kill(first, signal.SIGCONT)
        time.sleep(GRACE / 4)
        os.kill(second, signal.SIGCONT)
        continued = time.time()

        # A full grace of beats (and reaping rounds) after waking: the time a false loss
        # would take to show. A worker declared lost beats no more: that ends the wait too.
        def settled(since: float = continued) -> bool:
            workers = lab.snap().workers
            return any(not w.alive for w in workers) or all(
                w.heartbeat > since + GRACE for w in workers
            )

        wait_for(settled, what="a grace of heartbeats after the stall")
        workers = lab.snap().workers
        assert all(w.alive for w in workers), [w.reason for w in workers]


def _finish(lab: Lab) -> None:
    """Prune both trials and let the workers leave (the budget is spent)."""
    for number in (0, 1):
        Controller(lab.ostudy).request(number, "prune")
    assert lab.pool.wait(HANG), lab.logs()


def _assert_no_loss(lab: Lab, stalls: int) -> None:
    rows = lab.snap().rows
    assert {n: r.status for n, r in rows.items()} == {
        0: TrialStatus.PRUNED,
        1: TrialStatus.PRUNED,
    }, lab.logs()
    assert all(r.timesteps > 0 for r in rows.values())
    # The time stopped is left out of each trial's run time (time limits, paces, the table).
    stopped = stalls * 1.5 * GRACE
    for row in rows.values():
        assert row.frozen >= stopped, (row.frozen, lab.logs())
        assert row.started is not None and row.completed is not None
        wall = (row.completed - row.started).total_seconds()
        assert row.duration is not None and row.duration <= wall - stopped
    workers = lab.snap().workers
    assert len(workers) == 2 and all(w.state == "exited" for w in workers), workers
    assert all(not (w.reason or "").startswith("lost") for w in workers), workers
    log = lab.logs()
    assert "declared lost" not in log and " lost (" not in log, log
    assert "Traceback" not in log, log


@pytest.mark.slow
def test_two_workers_on_one_host_stopped_together_lose_nothing(study_file):
    lab = Lab(study_file(name="host-stall", n_trials=2, timesteps=10_000_000, every=2048))
    lab.pool.start(2)
    try:
        _stall_host(lab, stalls=3)
        _finish(lab)
    finally:
        lab.stop()
    _assert_no_loss(lab, stalls=3)


@pytest.mark.slow
def test_two_workers_known_only_by_heartbeat_stopped_together_lose_nothing(study_file):
    # Each worker names another host: neither can look at the other's process, and only its
    # own stall guard tells it that the other's silence was its own as well.
    lab = Lab(study_file(name="far-stall", n_trials=2, timesteps=10_000_000, every=2048))
    for index, host in enumerate(("host-a", "host-b")):
        lab.pool.start(1, first_index=index, extra_env={"RLTUI_HOST": host})
    try:
        _stall_host(lab, stalls=2)
        _finish(lab)
    finally:
        lab.stop()
    _assert_no_loss(lab, stalls=2)
    assert "did not run for" in lab.logs()
