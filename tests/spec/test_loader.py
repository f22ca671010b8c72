"""Study files: every bad input gets file:line, the key path, and a way out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rltui.cli import main
from rltui.spec import check_text, load_study

GOOD = """\
name: good
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: 1000
search_space:
  learning_rate: {type: float, low: 1.0e-5, high: 1.0e-2, log: true}
  n_steps: choice(64, 128)
  gamma: grid_search([0.9, 0.99])
  batch_size: 32
"""

BAD_CASES = {
    "malformed YAML": (
        GOOD.replace("  env: CartPole-v1", "  env: [CartPole"),
        ["YAML syntax error"],
        None,
    ),
    "unknown algorithm": (
        GOOD.replace("algorithm: ppo", "algorithm: ppp"),
        ["unknown algorithm 'ppp'", "did you mean 'ppo'"],
        3,
    ),
    "unknown env id": (
        GOOD.replace("CartPole-v1", "CartPol-v1"),
        ["not a registered Gymnasium environment", "CartPole-v1"],
        4,
    ),
    "hyperparameter the algorithm does not take": (
        GOOD.replace("  batch_size: 32", "  batch_sise: 32"),
        ["PPO has no hyperparameter 'batch_sise'", "did you mean 'batch_size'"],
        10,
    ),
    "hyperparameter of another algorithm": (
        GOOD + "  buffer_size: 1000\n",
        ["PPO has no hyperparameter 'buffer_size'", "dqn"],
        11,
    ),
    "low above high": (
        GOOD.replace("low: 1.0e-5, high: 1.0e-2", "low: 1.0e-2, high: 1.0e-5"),
        ["above high", "swap"],
        7,
    ),
    "log with low <= 0": (
        GOOD.replace("low: 1.0e-5", "low: 0"),
        ["log-scale parameter needs low > 0"],
        7,
    ),
    "hydra interval low above high": (
        GOOD.replace("choice(64, 128)", "interval(0.5, 0.1)"),
        ["0.5", "0.1"],
        8,
    ),
    "misspelt top-level key": (
        GOOD.replace("search_space:", "search_spcae:"),
        ["unknown key 'search_spcae'", "did you mean 'search_space'"],
        6,
    ),
    "misspelt nested key": (
        GOOD.replace("timesteps: 1000", "timestep: 1000"),
        ["unknown key 'timestep'", "did you mean 'timesteps'"],
        5,
    ),
    "misspelt sweep function": (
        GOOD.replace("choice(64, 128)", "choise(64, 128)"),
        ["choise", "did you mean 'choice'"],
        8,
    ),
    "unknown sampler option": (
        GOOD + "sampler: {type: tpe, n_startup: 3}\n",
        ["n_startup", "did you mean 'n_startup_trials'"],
        11,
    ),
    "not a mapping": ("- just\n- a list\n", ["must be a YAML mapping"], None),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_located_and_explained(case):
    text, expected, line = BAD_CASES[case]
    study, problems = check_text(text, "study.yaml")
    assert study is None
    rendered = "\n".join(p.format("study.yaml") for p in problems)
    for fragment in expected:
        assert fragment in rendered, rendered
    if line is not None:
        assert any(p.line == line for p in problems), rendered


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_validate_command_exits_1_without_traceback(case, tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(BAD_CASES[case][0])
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and str(path) in err


def test_good_file_validates(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(GOOD)
    assert main(["validate", str(path)]) == 0
    study = load_study(path)
    assert study.space.grid == {"gamma": (0.9, 0.99)}
    assert study.space.fixed == {"batch_size": 32}
    assert len(study.space.grid_points()) == 2


def test_missing_file_and_unreachable_storage_exit_1(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 1
    assert "no such study file" in capsys.readouterr().err
    path = tmp_path / "study.yaml"
    path.write_text(GOOD)
    for url, words in [
        ("postgresql://u:secret@127.0.0.1:1/db", "cannot open the storage"),
        ("mongodb://x/y", "not a storage URL"),
        ("sqlite:////nonexistent-dir/x/y.db", "cannot open the storage"),
    ]:
        assert main(["run", str(path), "--storage", url]) == 1
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and "secret" not in err


def test_unknown_study_name_suggests(tmp_path, capsys):
    path = tmp_path / "study.yaml"
    path.write_text(GOOD)
    url = str(tmp_path / "j.journal")
    assert main(["ctl", "drain", "--study-file", str(path), "--storage", url]) == 0
    assert main(["ctl", "drain", "--storage", url, "--study", "godo"]) == 1
    assert "did you mean 'good'" in capsys.readouterr().err


def test_spec_layer_loads_no_torch():
    code = (
        "import sys, rltui.spec, rltui.search.reader, rltui.worker.pool; "
        "print('torch' in sys.modules, 'stable_baselines3' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
