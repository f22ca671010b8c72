"""Ray Tune-style grids with real workers: every combination runs once per pass, however
many workers claim trials at the same time."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from rltui.search.lifecycle import TrialStatus
from rltui.search.study import open_study
from rltui.spec import load_study
from tests.worker.helpers import Lab

pytestmark = pytest.mark.slow

# A training function that costs nothing, so the test measures claiming, not training.
FUNCTION = """
def train(params, ctx):
    for step in (1, 2):
        ctx.progress(step)
        ctx.report(step, params["lr"] * (2 if params["flag"] else 1) + params.get("x", 0.0))
"""

STUDY = """
name: {name}
{n_trials}
sampler: {{type: random, seed: 0}}
pruner: {{type: none}}
train:
  function: "gridfn:train"
  timesteps: 2
search_space:
  lr: grid_search([1.0e-4, 1.0e-5, 1.0e-6])
  flag: grid_search([true, false])
{more}
"""


def _write(tmp_path: Path, name: str, n_trials: str = "", more: str = "") -> Path:
    (tmp_path / "gridfn.py").write_text(textwrap.dedent(FUNCTION), encoding="utf-8")
    path = tmp_path / f"{name}.yaml"
    path.write_text(STUDY.format(name=name, n_trials=n_trials, more=more), encoding="utf-8")
    return path


def _combinations(lab: Lab) -> Counter[tuple[float, bool]]:
    rows = lab.snap().rows.values()
    assert all(r.status == TrialStatus.COMPLETE for r in rows), [(r.status, r.error) for r in rows]
    return Counter((r.params["lr"], r.params["flag"]) for r in rows)


def test_an_all_grid_study_runs_each_combination_once_with_three_workers(tmp_path):
    path = _write(tmp_path, "grid", n_trials="n_trials: 10")
    checked = subprocess.run(
        [sys.executable, "-m", "rltui", "validate", str(path)], capture_output=True, text=True
    )
    assert checked.returncode == 0
    assert "its 6 combinations run once each" in checked.stdout
    lab = Lab(path)
    # Publishing the same file again, as every worker and the UI do, enqueues nothing more.
    open_study(load_study(path))
    assert len(lab.ostudy.trials) == 6
    lab.run_to_end(3)
    combos = _combinations(lab)
    assert len(combos) == 6 and set(combos.values()) == {1}


def test_a_grid_with_sampled_parameters_runs_whole_passes(tmp_path):
    path = _write(tmp_path, "passes", n_trials="n_trials: 8", more="  x: interval(0, 1)")
    study = load_study(path)
    assert study.n_trials == 12
    assert any("rounded up to 12" in p.message for p in study.warnings)
    lab = Lab(path)
    lab.run_to_end(2)
    combos = _combinations(lab)
    assert len(combos) == 6 and set(combos.values()) == {2}
    # The other parameter is sampled for every trial, not fixed per grid point.
    assert len({r.params["x"] for r in lab.snap().rows.values()}) == 12
