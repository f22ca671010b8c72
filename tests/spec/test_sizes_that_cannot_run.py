"""Sizes that cannot run are refused when the file is checked, with the bound in the hint:
fixed bounds for what no study needs, and this machine's memory for what it cannot hold."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from rltui.spec import limits
from rltui.spec.resources import DEFAULTS
from tests.spec.test_hostile_files import DQN, PPO, line_of, validate


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (("n_envs: 8", "n_envs: 1e8"), "n_envs is at most 1,024"),
        (("timesteps: 100000", "timesteps: 1e15"), "timesteps is at most 1,000,000,000,000"),
        (("episodes: 10", "episodes: 1e18"), "episodes is at most 10,000"),
        (("every: 20000", "every: 1e18"), "every is at most 1,000,000,000,000"),
        (
            ("n_steps: choice(32, 64, 128, 256, 512)", "n_steps: 1e12"),
            "n_steps is at most 1,000,000",
        ),
        (
            ("n_steps: choice(32, 64, 128, 256, 512)", "n_steps: int(interval(8, 1e12))"),
            "n_steps is at most 1,000,000",
        ),
        (
            ("batch_size: choice(64, 128, 256)", "batch_size: choice(64, 1e9)"),
            "batch_size is at most 1,000,000",
        ),
        (("n_epochs: choice(5, 10, 20)", "n_epochs: 1e12"), "n_epochs is at most 10,000"),
        (
            ("net_arch: choice([8], small)", "net_arch: int(interval(8, 1e9))"),
            "a layer is at most 65,536",
        ),
    ],
)
def test_sizes_that_cannot_run_are_refused_with_their_bound(
    edit: tuple[str, str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = edit
    assert old in PPO
    text = PPO.replace(old, new)
    key = new.split(":")[0]
    err = validate(tmp_path, text, capsys, "size.yaml")
    assert f"size.yaml:{line_of(text, new)}:" in err, key
    assert words in err


@pytest.mark.parametrize(
    ("net_arch", "words"),
    [
        ("[1e8, 1e8]", "a layer of 100,000,000 units is too large"),
        ("[64.0, 64]", "a layer size must be a whole number, got 64.0 (write 64)"),
        ("[" + ", ".join(["8"] * 100) + "]", "100 hidden layers"),
        ("{pi: [64], vff: [64]}", "'vff' is not a network of net_arch (did you mean 'vf'?)"),
        ("[0]", "a layer size must be above 0"),
    ],
)
def test_net_arch_layers_are_checked(
    net_arch: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DQN.replace(
        "  learning_starts: 1000", f"  learning_starts: 1000\n  net_arch: {net_arch}"
    )
    text = re.sub(r"\n  net_arch: choice\([^)]*\)[^\n]*", "", text)
    err = validate(tmp_path, text, capsys, "net.yaml")
    assert f"net.yaml:{line_of(text, 'net_arch')}:" in err
    assert words in err


def test_networks_larger_than_this_machine_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = re.sub(r"\n  net_arch: choice\([^)]*\)[^\n]*", "", DQN)
    text = text.replace("  learning_starts: 1000", "  learning_starts: 1000\n  net_arch: [65536] ")
    text = text.replace("[65536] ", "[" + ", ".join(["65536"] * 20) + "]")
    err = validate(tmp_path, text, capsys, "net.yaml")
    assert f"net.yaml:{line_of(text, 'net_arch')}:3: hyperparameters.net_arch:" in err
    assert "weights each would take about" in err
    assert "this machine has" in err


BIG_OBSERVATIONS = """\
import gymnasium
import numpy as np

gymnasium.register("HostileBigObs-v0", entry_point="{module}:BigObs")


class BigObs(gymnasium.Env):
    observation_space = gymnasium.spaces.Box(0, 255, (84, 84, 4), np.uint8)
    action_space = gymnasium.spaces.Discrete(4)
"""


def test_a_replay_buffer_larger_than_this_machine_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The env module lies beside the study file, where `module:Env` ids are imported from.
    module = "rltui_hostile_big_obs"
    (tmp_path / f"{module}.py").write_text(BIG_OBSERVATIONS.format(module=module))
    text = DQN.replace("env: CartPole-v1", f"env: '{module}:HostileBigObs-v0'")
    text = text.replace("buffer_size: 100000", "buffer_size: 100_000_000")
    text = text.replace("timesteps: 50000", "timesteps: 1_000_000_000")
    err = validate(tmp_path, text, capsys, "buffer.yaml")
    assert f"buffer.yaml:{line_of(text, 'buffer_size')}:3: hyperparameters.buffer_size:" in err
    assert "a replay buffer of 100,000,000 transitions" in err and "TiB of memory" in err
    assert "this machine has" in err


def test_more_workers_than_this_machine_holds_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    room = limits.max_workers()
    assert room is not None
    text = PPO.replace("workers: 2", f"workers: {room + 1}")
    err = validate(tmp_path, text, capsys, "workers.yaml")
    assert f"workers.yaml:{line_of(text, 'workers')}:1: workers:" in err
    assert "this machine has" in err and "room for" in err


def test_the_defaults_estimated_are_sb3s() -> None:
    from rltui.train.hyperparams import ALGORITHMS

    for name, by_algorithm in DEFAULTS.items():
        for algorithm, default in by_algorithm.items():
            cls = ALGORITHMS[algorithm]
            if name in inspect.signature(cls).parameters:
                assert inspect.signature(cls).parameters[name].default == default
            elif algorithm == "ddpg":  # DDPG passes n_critics=1 to its policy
                assert 'self.policy_kwargs["n_critics"] = 1' in inspect.getsource(cls)
            else:  # a policy argument
                policy = cls.policy_aliases["MlpPolicy"]
                assert inspect.signature(policy).parameters[name].default == default


def test_a_huge_grid_is_refused_before_it_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values = ", ".join(f"0.{i:04d}" for i in range(1, 1000))
    text = PPO.replace("gamma: choice(0.95, 0.98, 0.99, 0.995)", f"gamma: grid_search([{values}])")
    text = text.replace("ent_coef: choice(0.0, 0.001, 0.01)", f"ent_coef: grid_search([{values}])")
    err = validate(tmp_path, text, capsys, "grid.yaml")
    assert f"grid.yaml:{line_of(text, 'gamma')}:3: search_space.gamma:" in err
    assert "998,001 combinations" in err
