"""train.target with real workers: trials that reach it end early, and once enough have,
the study drains."""

from __future__ import annotations

import pytest

from rltui.search import attrs
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from tests.worker.helpers import Lab

pytestmark = pytest.mark.slow


def test_trials_that_reach_the_target_end_early_and_enough_of_them_drain_the_study(study_file):
    path = study_file(name="target", n_trials=6, timesteps=4096, every=128)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("  seed: 0\n", "  seed: 0\n  target: {reward: 8, trials: 2}\n", 1),
        encoding="utf-8",
    )
    lab = Lab(path)
    lab.run_to_end(1)
    rows = sorted(lab.snap().rows.values(), key=lambda r: r.number)
    assert [r.status for r in rows] == [TrialStatus.COMPLETE] * 2, lab.logs()
    assert [r.target for r in rows] == [128, 128] and all(r.timesteps == 128 for r in rows)
    assert lab.ostudy.trials[0].user_attrs["rltui_target_step"] == 128
    system = storage_of(lab.ostudy).get_study_system_attrs(study_id_of(lab.ostudy))
    assert system.get(attrs.DRAIN)
    assert "2 trials reached the target: the study drains" in lab.logs()
