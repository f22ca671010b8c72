"""A Hydra project tuned with Hydra's Optuna sweeper, composed by Hydra itself and turned into a
study: the sweeper's composed params become the search space, keys find their settings by name,
and what has no setting is listed with a hint.

The project in ``hydra_project/`` is a real one: a defaults list with config groups (agent,
env), a ``search_spaces`` group placed at ``hydra.sweeper.params`` by
``search_spaces@hydra.sweeper.params``, and the Optuna sweeper's configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rltui.convert import ConversionError
from rltui.convert.hydra_import import import_hydra
from rltui.spec import check_text
from tests.conftest import needs_extra

pytestmark = needs_extra("hydra", "hydra")
PROJECT = Path(__file__).resolve().parent / "hydra_project"


def checked(text: str):
    study, problems = check_text(text)
    assert problems == [], "\n".join(p.format() for p in problems)
    assert study is not None
    return study


def test_the_project_becomes_a_study_with_the_sweepers_composed_search_space():
    done = import_hydra(PROJECT, None, [])
    assert done.problems == ()
    study = checked(done.text)
    spec = study.spec
    assert (spec.name, spec.n_trials, spec.direction) == ("cartpole-ppo-hydra", 12, "maximize")
    assert spec.sampler.type == "tpe" and spec.sampler.options == {"seed": 0, "n_startup_trials": 5}
    train = spec.train
    assert (train.algorithm, train.env, train.n_envs, train.timesteps, train.seed) == (
        "ppo",
        "CartPole-v1",
        4,
        20000,
        7,
    )
    # search_spaces/ppo.yaml, as Hydra placed it at hydra.sweeper.params, expressions kept.
    assert spec.search_space == {
        "learning_rate": "tag(log, interval(1e-4, 1e-2))",
        "gamma": "choice(0.95, 0.98, 0.99)",
        "n_steps": "choice(32, 64, 128)",
        "gae_lambda": "interval(0.8, 0.99)",
    }
    space = study.space.distributions
    assert space["learning_rate"].log and space["learning_rate"].low == 1e-4
    assert space["gamma"].choices == (0.95, 0.98, 0.99)
    # The agent's values that are searched are not fixed as well.
    assert spec.hyperparameters == {
        "batch_size": 64,
        "policy_kwargs": {"net_arch": [32, 32], "activation_fn": "tanh"},
    }
    left = {item.key: item.hint for item in done.unmapped}
    assert set(left) == {
        "agent.verbose",
        "experiment.log_dir",
        "hydra.sweeper.params.env.n_envs",
        "hydra.sweeper.max_failure_rate",
    }
    assert "same for every trial" in left["hydra.sweeper.params.env.n_envs"]
    assert any(line.startswith("#   agent.verbose: 1 -- ") for line in done.text.splitlines())


def test_overrides_choose_other_configs_and_another_search_space():
    overrides = ["agent=a2c", "search_spaces@hydra.sweeper.params=small", "env.n_envs=2"]
    done = import_hydra(PROJECT, "config", overrides)
    study = checked(done.text)
    assert study.spec.train.algorithm == "a2c" and study.spec.train.n_envs == 2
    assert study.spec.search_space == {
        "learning_rate": "tag(log, interval(1e-4, 1e-3))",
        "gamma": "range(0.9, 0.99, step=0.03)",
    }
    assert study.spec.hyperparameters == {"n_steps": 8, "ent_coef": 0.0}
    assert "agent=a2c" in done.text.splitlines()[0]


def test_a_project_without_an_algorithm_or_budget_takes_them_from_the_caller(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "env_id: Pendulum-v1\neval_freq: 2000\nn_eval_episodes: 3\n"
        "model:\n  gamma: 0.97\n  tau: 0.01\n  activation_fn: torch.nn.ReLU"
        "\nhydra:\n  sweeper:\n    params:\n      model.learning_rate: tag(log, interval(1e-4,"
        " 1e-3))\n      model: choice(a, b)\n"
    )
    with pytest.raises(ConversionError, match=r"no algorithm found .*--algo ppo"):
        import_hydra(tmp_path, None, [])
    done = import_hydra(tmp_path, None, [], algorithm="sac")
    study = checked(done.text)
    assert study.spec.hyperparameters == {"gamma": 0.97, "tau": 0.01, "activation_fn": "relu"}
    assert study.spec.search_space == {"learning_rate": "tag(log, interval(1e-4, 1e-3))"}
    assert study.spec.train.timesteps == 100_000
    assert (study.spec.train.eval.every, study.spec.train.eval.episodes) == (2000, 3)
    assert any("no budget" in note for note in done.notes)
    left = {item.key: item.hint for item in done.unmapped}
    assert "a config group" in left["hydra.sweeper.params.model"]


def test_the_callers_algorithm_and_env_win_over_the_configs():
    done = import_hydra(PROJECT, None, [], algorithm="a2c", env_id="Acrobot-v1")
    spec = checked(done.text).spec
    assert (spec.train.algorithm, spec.train.env) == ("a2c", "Acrobot-v1")
    left = {item.key: item.hint for item in done.unmapped}
    assert left["agent._target_"] == "the study takes algorithm from the command line"
    assert left["env.id"] == "the study takes env from the command line"
    assert "a hyperparameter of PPO" in left["agent.batch_size"]


def test_a_value_the_check_refuses_is_moved_out(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "algorithm: ppo\nenv: CartPole-v1\ntotal_timesteps: 5000\nagent:\n  gamma: 2.0\n"
        "  n_steps: 64\nhydra:\n  sweeper:\n    params:\n      agent.ent_coef: interval(1, 0)\n"
    )
    done = import_hydra(tmp_path, None, [])
    left = {item.key: item.hint for item in done.unmapped}
    assert set(left) == {"agent.gamma", "hydra.sweeper.params.agent.ent_coef"}
    assert all(hint.startswith("refused by rltui's check:") for hint in left.values())
    assert checked(done.text).spec.hyperparameters == {"n_steps": 64}


@pytest.mark.parametrize(
    ("name", "overrides", "words"),
    [
        ("config", ["agent=sac"], "Could not find 'agent/sac'"),
        ("missing", [], "Cannot find primary config 'missing'"),
        ("config", ["+=x"], "with \\+=x"),
    ],
)
def test_a_project_hydra_cannot_compose_gets_hydras_message(name, overrides, words):
    with pytest.raises(ConversionError, match=words):
        import_hydra(PROJECT, name, overrides)


def test_a_folder_that_is_not_a_project_gets_a_clear_error(tmp_path):
    with pytest.raises(ConversionError, match="is not a folder"):
        import_hydra(tmp_path / "nothing", None, [])
    (tmp_path / "a.yaml").write_text("x: 1\n")
    (tmp_path / "b.yaml").write_text(": : :\n")
    with pytest.raises(ConversionError, match=r"has no config.yaml.*one of a, b"):
        import_hydra(tmp_path, None, [])
    with pytest.raises(ConversionError, match="Hydra could not compose"):
        import_hydra(tmp_path, "b", [])


def test_composing_changes_no_folder_and_leaves_hydra_as_it_was(tmp_path, monkeypatch):
    from hydra.core.global_hydra import GlobalHydra

    monkeypatch.chdir(tmp_path)
    import_hydra(PROJECT, None, [])
    assert Path.cwd() == tmp_path and os.listdir(tmp_path) == []  # no outputs/, no logs
    assert not GlobalHydra.instance().is_initialized()
