"""Study files: every bad input gets file:line, the key path, and a way out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rltui.cli import main
from rltui.spec import check_text, load_study
from tests.conftest import needs_psycopg

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
    # The algorithm must be able to act in the env's action space.
    **{
        f"{algo.upper()} on a discrete env": (
            GOOD.replace("algorithm: ppo", f"algorithm: {algo}"),
            [
                f"train.algorithm: {algo.upper()} cannot act in CartPole-v1's action space",
                "continuous (Box)",
                "CartPole-v1 has Discrete(2): use ppo, a2c, dqn",
            ],
            3,
        )
        for algo in ("sac", "td3", "ddpg")
    },
    "DQN on a continuous env": (
        GOOD.replace("algorithm: ppo", "algorithm: dqn").replace("CartPole-v1", "Pendulum-v1"),
        ["DQN cannot act in Pendulum-v1's action space", "discrete (Discrete)", "Box("],
        3,
    ),
    "env kwarg the env does not take": (
        GOOD.replace("  timesteps", "  env_kwargs: {bogus: 1}\n  timesteps"),
        ["study.yaml:5:16: train.env_kwargs.bogus: CartPole-v1 takes no keyword argument"],
        5,
    ),
    "misspelt env kwarg": (
        GOOD.replace("  timesteps", "  env_kwargs:\n    sutton_barto_rewad: true\n  timesteps"),
        ["train.env_kwargs.sutton_barto_rewad", "did you mean 'sutton_barto_reward'"],
        6,
    ),
    # Hyperparameter values of the wrong type or range, fixed or searched.
    "learning rate not a number": (
        GOOD.replace("{type: float, low: 1.0e-5, high: 1.0e-2, log: true}", "abc"),
        ["search_space.learning_rate: must be a number above 0, got 'abc'"],
        7,
    ),
    "negative n_steps": (
        GOOD.replace("choice(64, 128)", "-3"),
        ["n_steps: must be a whole number from 1 to 1,000,000, got -3"],
        8,
    ),
    "batch size 0": (
        GOOD.replace("batch_size: 32", "batch_size: 0"),
        ["batch_size: must be a whole number from 1 to 1,000,000, got 0", "e.g. batch_size: 64"],
        10,
    ),
    "gamma above 1": (
        GOOD.replace("grid_search([0.9, 0.99])", "1.5"),
        ["gamma: must be a number from 0 to 1, got 1.5"],
        9,
    ),
    "grid value out of range": (
        GOOD.replace("grid_search([0.9, 0.99])", "grid_search([0.9, 1.1])"),
        ["gamma: must be a number from 0 to 1, got 1.1"],
        9,
    ),
    "choice out of range": (
        GOOD.replace("choice(64, 128)", "choice(64, 0)"),
        ["n_steps: must be a whole number from 1 to 1,000,000, got 0"],
        8,
    ),
    "interval beyond the range": (
        GOOD.replace("grid_search([0.9, 0.99])", "interval(0.9, 1.2)"),
        ["search_space.gamma: the search reaches 1.2, but gamma must be a number from 0 to 1"],
        9,
    ),
    "mapping range reaching 0": (
        GOOD.replace("low: 1.0e-5, high: 1.0e-2, log: true", "low: 0.0, high: 1.0e-2"),
        ["study.yaml:7:32: search_space.learning_rate.low: the search reaches 0"],
        7,
    ),
    "fractions for a whole-number argument": (
        GOOD.replace("choice(64, 128)", "interval(64, 128)"),
        ["n_steps takes whole numbers", "int(interval(64, 128))"],
        8,
    ),
    "true or false searched as a number": (
        GOOD + "  normalize_advantage: interval(0, 1)\n",
        ["normalize_advantage is true or false", "choice(true, false)"],
        11,
    ),
    "fixed hyperparameter out of range": (
        GOOD + "hyperparameters:\n  n_epochs: -1\n",
        ["hyperparameters.n_epochs: must be a whole number from 1 to 10,000, got -1"],
        12,
    ),
    "quoted number": (
        GOOD + "hyperparameters:\n  n_epochs: '4'\n",
        ["hyperparameters.n_epochs", "write it without quotes"],
        12,
    ),
    "train_freq unit": (
        GOOD.replace("algorithm: ppo", "algorithm: dqn")
        + "hyperparameters:\n  train_freq: [4, stepz]\n",
        ["hyperparameters.train_freq[1]: 'stepz' is not a unit", "did you mean 'step'"],
        12,
    ),
    "enqueued value out of range": (
        GOOD + "enqueue:\n  - {n_steps: 64, gamma: 2}\n",
        ["enqueue[0].gamma: must be a number from 0 to 1, got 2"],
        12,
    ),
    # Schema values: no negative seeds, and true is no number.
    "negative seed": (
        GOOD.replace("timesteps: 1000", "timesteps: 1000\n  seed: -5"),
        ["train.seed: must be 0 or more, got -5", "use a whole number such as 0"],
        6,
    ),
    "true as n_trials": (
        GOOD + "n_trials: true\n",
        ["n_trials: must be a whole number, got true"],
        11,
    ),
    "a number as a boolean": (
        GOOD.replace("timesteps: 1000", "timesteps: 1000\n  eval: {deterministic: 1}"),
        ["train.eval.deterministic: must be true or false, got 1"],
        6,
    ),
    "n_trials below 1": (
        GOOD + "n_trials: -1\n",
        ["n_trials: must be above 0, got -1 (use a whole number such as 20)"],
        11,
    ),
    "misspelt literal": (
        GOOD + "direction: maximise\n",
        ["direction: must be one of maximize, minimize", "did you mean 'maximize'"],
        11,
    ),
    "missing key": (
        GOOD.replace("  timesteps: 1000\n", ""),
        ["train.timesteps: 'timesteps' is required", "add 'timesteps: 100000' under train"],
        2,
    ),
    "tab indent": (
        GOOD.replace("  env: CartPole-v1", "\tenv: CartPole-v1"),
        ["study.yaml:4:1:", "indent with spaces; YAML does not allow tabs"],
        4,
    ),
    "grammar error column": (
        GOOD.replace("choice(64, 128)", "choice(64, 128,)"),
        ["study.yaml:8:27: search_space.n_steps: expected a value, found ')'"],
        8,
    ),
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


def test_missing_file_exits_1(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 1
    assert "no such study file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mongodb://u:secret@x/y", "not a storage URL"),
        ("sqlite:////nonexistent-dir/x/y.db", "cannot open the storage"),
        pytest.param(
            "postgresql://u:secret@127.0.0.1:1/db", "cannot open the storage", marks=needs_psycopg
        ),
    ],
)
def test_unreachable_storage_exits_1(tmp_path, capsys, url, words):
    path = tmp_path / "study.yaml"
    path.write_text(GOOD)
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
        "import sys, rltui.spec, rltui.search.reader, rltui.launch.local; "
        "print('torch' in sys.modules, 'stable_baselines3' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize(
    ("text", "where", "hint"),
    [
        # Never closed: the brace or quote itself, not the end of the file.
        ("name: x\nsearch_space: {gamma: choice(0.9, 0.99)\n", "s.yaml:2:15: ", "close the braces"),
        ("name: x\ntrain:\n  env: a: b\n", "s.yaml:3:9: ", "a value holding ': ' needs quotes"),
        ("name: 'x\n\n", "s.yaml:1:7: ", "close the quote opened here"),
        # A key without ':': that line, not the next one, where libyaml gives up.
        ("name: x\nn_trials 8\nworkers: 2\n", "s.yaml:2:1: ", "write each setting as 'key: v"),
    ],
)
def test_a_yaml_syntax_error_says_where_and_how_to_fix_it(text, where, hint):
    from rltui.spec import check_text

    study, problems = check_text(text, "s.yaml", check_env=False)
    assert study is None
    (said,) = [p.format("s.yaml") for p in problems]
    # A place in the file, not a key: no "(top level)" before the message.
    assert said.startswith(f"{where}YAML syntax error: ") and f"({hint}" in said, said
