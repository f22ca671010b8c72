"""The SSH launcher against a real sshd on loopback (key-only login as a throw-away user):
workers started over ssh join a PostgreSQL study and finish its trials; the storage URL's
password is on no command line; a drain over ssh stops a worker; a host that refuses says so.

Needs `.ci/sshd.sh` (exports RLTUI_TEST_SSH_CONFIG and RLTUI_TEST_SSH_HOST) and
`.ci/postgres.sh`. Under CI (RLTUI_REQUIRE_SSH) a missing server fails these tests.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from rltui.launch.ssh import LaunchError, SshLauncher
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import StudyReader
from rltui.search.study import open_study
from rltui.spec import load_study
from tests.worker.helpers import HANG, wait_for

CONFIG = os.environ.get("RLTUI_TEST_SSH_CONFIG")
HOST = os.environ.get("RLTUI_TEST_SSH_HOST")
POSTGRES = os.environ.get("RLTUI_TEST_POSTGRES_URL")
if os.environ.get("RLTUI_REQUIRE_SSH") and not (CONFIG and HOST):
    raise RuntimeError("RLTUI_REQUIRE_SSH is set but .ci/sshd.sh's variables are not")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CONFIG and HOST), reason="no test sshd (.ci/sshd.sh)"),
]


def with_password(url: str, password: str) -> str:
    """The test server trusts loopback, so any password is accepted: one that can be looked
    for in process listings."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)")
def test_workers_started_over_ssh_join_the_study_and_finish_its_trials(study_file):
    name = f"ssh-{uuid.uuid4().hex[:6]}"
    path = study_file(name=name, n_trials=3, timesteps=512, every=256)
    secret = f"pw-{uuid.uuid4().hex[:8]}"
    ostudy, url = open_study(load_study(path), with_password(POSTGRES, secret))
    launcher = SshLauncher(
        [HOST], url, name, python=sys.executable, config=CONFIG, log_dir="~/rltui-test-logs"
    )
    reader = StudyReader(ostudy)
    started = launcher.start(2)
    try:
        assert [w.host for w in started] == [HOST, HOST]
        # The password is in no command line: not the workers' (here: the same machine).
        for worker in started:
            assert secret not in cmdline(worker.pid)
        wait_for(
            lambda: sum(r.status == TrialStatus.COMPLETE for r in reader.poll().rows.values()) == 3,
            "three COMPLETE trials",
            timeout=HANG,
        )
        records = {w.id: w for w in reader.poll().workers}
        assert {w.worker_id for w in started} <= set(records)
        assert all(records[w.worker_id].pid == w.pid for w in started)
        # The worker's log is on its host, readable through the launcher.
        log = launcher.read_log(started[0])
        assert f"worker {started[0].worker_id} (pid {started[0].pid}) joined study" in log, log
        wait_for(lambda: not any(launcher.running(w) for w in started), "the workers to leave")
    finally:
        for worker in started:
            launcher.signal(worker, "KILL")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)")
def test_a_drain_over_ssh_stops_a_worker_between_trials(study_file):
    name = f"ssh-{uuid.uuid4().hex[:6]}"
    path = study_file(name=name, n_trials=50, timesteps=200_000, every=1024)
    ostudy, url = open_study(load_study(path), POSTGRES)
    launcher = SshLauncher([HOST], url, name, python=sys.executable, config=CONFIG)
    reader = StudyReader(ostudy)
    (worker,) = launcher.start(1)
    try:
        wait_for(
            lambda: any(r.timesteps > 0 for r in reader.poll().rows.values()), "a trial training"
        )
        assert launcher.signal(worker, "TERM")
        wait_for(lambda: not launcher.running(worker), "the worker to leave")
        # SIGTERM pauses its trial (resumable from its checkpoint) rather than losing it.
        states = {r.status for r in reader.poll().rows.values()}
        assert TrialStatus.RUNNING not in states and TrialStatus.PAUSED in states, states
    finally:
        launcher.signal(worker, "KILL")


def test_a_host_that_refuses_says_which_and_what_to_check(tmp_path):
    launcher = SshLauncher(["nobody@" + HOST], "postgresql://x@127.0.0.1:1/x", "x", config=CONFIG)
    with pytest.raises(LaunchError, match=r"nobody@rltui-ci: ssh failed .* without a password"):
        launcher.start(1)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)")
def test_rltui_launch_starts_the_study_files_ssh_workers(study_file, capsys):
    from rltui.cli import main

    name = f"ssh-{uuid.uuid4().hex[:6]}"
    launcher = (
        f"launcher: {{type: ssh, hosts: [{HOST}], ssh_config: {CONFIG}, "
        f"python: {sys.executable}, log_dir: ~/rltui-test-logs}}\n"
    )
    path = study_file(name=name, n_trials=2, timesteps=512, every=256)
    path.write_text(path.read_text(encoding="utf-8") + launcher, encoding="utf-8")
    assert main(["launch", str(path), "--storage", POSTGRES, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f" on {HOST} (pid " in out, out
    ostudy, _ = open_study(load_study(path), POSTGRES)
    reader = StudyReader(ostudy)
    wait_for(
        lambda: sum(r.status == TrialStatus.COMPLETE for r in reader.poll().rows.values()) == 2,
        "two COMPLETE trials",
        timeout=HANG,
    )
