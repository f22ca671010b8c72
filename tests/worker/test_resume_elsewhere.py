"""A resume on a host that cannot reach the trial's checkpoint: the trial stays PAUSED with
the reason on it, and resumes once a worker can reach the checkpoint again."""

from __future__ import annotations

import shutil

import pytest

from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.storage import StudyHome
from tests.worker.helpers import HANG, Lab, wait_for

pytestmark = pytest.mark.slow


def test_an_unreachable_checkpoint_leaves_the_trial_paused_and_loses_nothing(study_file, tmp_path):
    path = study_file(name="away", n_trials=1, timesteps=8192, every=512)
    lab = Lab(path)
    lab.pool.start(1)
    try:
        wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.RUNNING and r.timesteps > 600,
            what="trial 0 running",
        )
        Controller(lab.ostudy).request(0, "pause")
        paused = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.PAUSED and r, what="PAUSED"
        )
        assert lab.pool.wait(HANG), lab.logs()  # the budget is spent: the worker leaves
        # The checkpoint goes out of this host's reach, as on a host without the shared disk.
        folder = StudyHome.beside(path).checkpoints / "trial-0"
        hidden = tmp_path / "elsewhere"
        shutil.move(folder, hidden)
        Controller(lab.ostudy).request(0, "resume")
        lab.pool.start(1)
        row = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.PAUSED and r.note and r,
            what="PAUSED again, with a note",
        )
        assert "not reachable from host" in (row.note or "")
        assert "checkpoint_dir" in (row.note or "")
        assert row.timesteps == paused.timesteps
        assert lab.pool.wait(HANG), lab.logs()  # that worker stops claiming
        # Back within reach, the same trial resumes and completes.
        shutil.move(hidden, folder)
        Controller(lab.ostudy).request(0, "resume")
        lab.pool.start(1)
        done = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.COMPLETE and r,
            what="COMPLETE",
        )
    finally:
        lab.stop()
    assert done.timesteps == 8192 and done.note is None
