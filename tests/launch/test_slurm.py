"""The Slurm launcher against a real single-node Slurm (munge, slurmctld, slurmd): an array of
workers joins a PostgreSQL study and finishes its trials, each worker recording its job id;
cancelling drains (trials paused, not lost).

Needs `.ci/slurm.sh` (which prints the partition: export it as RLTUI_TEST_SLURM_PARTITION)
and `.ci/postgres.sh`. Under CI (RLTUI_REQUIRE_SLURM) a missing Slurm fails these tests.
"""

from __future__ import annotations

import os
import sys
import uuid

import pytest

from rltui.launch.slurm import SlurmLauncher
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import StudyReader
from rltui.search.study import open_study
from rltui.spec import load_study
from tests.launch.test_ssh import POSTGRES, cmdline, with_password
from tests.worker.helpers import HANG, wait_for

PARTITION = os.environ.get("RLTUI_TEST_SLURM_PARTITION")
if os.environ.get("RLTUI_REQUIRE_SLURM") and not PARTITION:
    raise RuntimeError("RLTUI_REQUIRE_SLURM is set but RLTUI_TEST_SLURM_PARTITION is not")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not PARTITION, reason="no test Slurm (.ci/slurm.sh)"),
    pytest.mark.skipif(not POSTGRES, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)"),
]


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Slurm runs the job in the folder it was submitted from, where its workers keep the
    study's folder (checkpoints, logs): the test's, not the checkout's."""
    monkeypatch.chdir(tmp_path)


def launcher_for(name: str, url: str, tmp_path) -> SlurmLauncher:
    return SlurmLauncher(
        url,
        name,
        partition=PARTITION,
        time_limit="10:00",
        python=sys.executable,
        log_dir=tmp_path / "logs",
    )


def test_an_array_of_workers_finishes_the_study(study_file, tmp_path):
    name = f"slurm-{uuid.uuid4().hex[:6]}"
    path = study_file(name=name, n_trials=3, timesteps=512, every=256)
    secret = f"pw-{uuid.uuid4().hex[:8]}"
    ostudy, url = open_study(load_study(path), with_password(POSTGRES, secret))
    launcher = launcher_for(name, url, tmp_path)
    assert secret not in launcher.script()
    job = launcher.submit(2)
    reader = StudyReader(ostudy)
    try:
        records = wait_for(
            lambda: [w for w in reader.poll().workers if w.job] or None, "a worker's record"
        )
        pid = records[0].pid
        if os.path.exists(f"/proc/{pid}"):
            assert secret not in cmdline(pid)
        wait_for(
            lambda: sum(r.status == TrialStatus.COMPLETE for r in reader.poll().rows.values()) == 3,
            "three COMPLETE trials",
            timeout=HANG,
        )
        wait_for(lambda: not launcher.states(job), "the array job to end")
        jobs = {w.job for w in reader.poll().workers}
        assert jobs == {f"{job.job_id}_0", f"{job.job_id}_1"}, jobs
        logs = sorted(p.name for p in (tmp_path / "logs").iterdir())
        assert logs == [f"worker-s{job.job_id}-0.log", f"worker-s{job.job_id}-1.log"], logs
    finally:
        launcher.cancel(job, force=True)


def test_cancelling_drains_the_workers_and_pauses_their_trials(study_file, tmp_path):
    name = f"slurm-{uuid.uuid4().hex[:6]}"
    path = study_file(name=name, n_trials=50, timesteps=200_000, every=1024)
    ostudy, url = open_study(load_study(path), POSTGRES)
    launcher = launcher_for(name, url, tmp_path)
    job = launcher.submit(2)
    reader = StudyReader(ostudy)
    try:
        states = wait_for(
            lambda: (
                (s := launcher.states(job)) and set(s.values()) == {"RUNNING"} and len(s) == 2 and s
            ),
            "both tasks RUNNING",
        )
        assert set(states) == {f"{job.job_id}_0", f"{job.job_id}_1"}
        wait_for(
            lambda: sum(r.timesteps > 0 for r in reader.poll().rows.values()) >= 2,
            "two trials training",
        )
        launcher.cancel(job)
        wait_for(lambda: not launcher.states(job), "the job to end after the drain")
        rows = reader.poll().rows.values()
        assert sum(r.status == TrialStatus.PAUSED for r in rows) == 2
        assert not any(r.status in (TrialStatus.RUNNING, TrialStatus.FAIL) for r in rows)
        assert all(not w.alive for w in reader.poll().workers)
    finally:
        launcher.cancel(job, force=True)


def test_rltui_launch_submits_and_cancel_drains(study_file, tmp_path, capsys):
    from rltui.cli import main

    name = f"slurm-{uuid.uuid4().hex[:6]}"
    launcher = (
        f"launcher: {{type: slurm, partition: {PARTITION}, time: '10:00', "
        f"python: {sys.executable}, log_dir: {tmp_path / 'logs'}}}\n"
    )
    path = study_file(name=name, n_trials=50, timesteps=200_000, every=1024)
    path.write_text(path.read_text(encoding="utf-8") + launcher, encoding="utf-8")
    assert main(["launch", str(path), "--storage", POSTGRES, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    job = out.split()[1].rstrip(":")
    assert out.startswith(f"job {job}: 1 worker,") and job.isdigit(), out
    ostudy, _ = open_study(load_study(path), POSTGRES)
    reader = StudyReader(ostudy)
    try:
        wait_for(
            lambda: any(r.timesteps > 0 for r in reader.poll().rows.values()), "a trial training"
        )
        assert main(["launch", "--cancel", job]) == 0
        assert "draining" in capsys.readouterr().out
        wait_for(
            lambda: any(r.status == TrialStatus.PAUSED for r in reader.poll().rows.values()),
            "the drained worker's trial PAUSED",
        )
    finally:
        main(["launch", "--cancel", job, "--force"])
