"""A trial past train.time_limit is pruned where it is, inside a PPO update too, with the
reason, and its worker goes on to the next trial."""

from __future__ import annotations

import pytest

from rltui.search.lifecycle import TrialStatus
from tests.worker.helpers import Lab

pytestmark = pytest.mark.slow


def test_trials_past_their_time_limit_are_pruned_and_the_worker_goes_on(study_file):
    path = study_file(name="timed", n_trials=2, timesteps=65536, every=4096)
    text = path.read_text(encoding="utf-8")
    # A 2,048-step rollout, then 5,120 gradient steps: far longer than the limit of 2 s.
    text = text.replace("  seed: 0\n", "  seed: 0\n  time_limit: 2s\n")
    text = text.replace("n_steps: 64", "n_steps: 2048").replace("batch_size: 32", "batch_size: 8")
    path.write_text(text.replace("n_epochs: 1", "n_epochs: 20"), encoding="utf-8")
    lab = Lab(path)
    lab.run_to_end(1)
    rows = lab.snap().rows
    assert [r.status for r in rows.values()] == [TrialStatus.PRUNED] * 2, lab.logs()
    for row in rows.values():
        assert row.error == "time limit reached (train.time_limit: 2s)"
        assert row.timesteps < 65536
        frozen = lab.ostudy.trials[row.number]
        assert frozen.user_attrs["rltui_reason"] == row.error  # what other tools read
    logs = lab.logs()
    assert "did not stop" not in logs and "Traceback" not in logs, logs
    assert logs.count("pruned after") == 2 and "trial budget is reached" in logs, logs
