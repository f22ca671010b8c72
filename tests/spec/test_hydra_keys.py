"""A Hydra project's search space pastes in: config paths as keys, a setting both fixed and
searched, and lists as choices."""

from __future__ import annotations

import optuna
import pytest

from rltui.cli import main
from rltui.search.sampling import suggest_all
from rltui.spec import StudyFile, check_text
from rltui.spec import policy as pol
from rltui.spec.space import build_space

STUDY = """\
name: hydra
train:
  algorithm: {algorithm}
  env: CartPole-v1
  timesteps: 1000
hyperparameters:
{fixed}
search_space:
{searched}
{enqueue}"""


def check(
    searched: str, fixed: str = "  n_epochs: 1", algorithm: str = "ppo", enqueue: str = ""
) -> tuple[StudyFile | None, list[str]]:
    text = STUDY.format(algorithm=algorithm, fixed=fixed, searched=searched, enqueue=enqueue)
    study, problems = check_text(text, "h.yaml", check_env=False)
    return study, [p.format("h.yaml") for p in problems]


@pytest.mark.parametrize(
    ("key", "setting", "value", "nested"),
    [
        ("agent.gamma", "gamma", 0.9, {"gamma": 0.9}),
        ("agent.algo.gamma", "gamma", 0.9, {"gamma": 0.9}),
        ("model.policy_kwargs.net_arch", "policy_kwargs.net_arch", "small",
         {"policy_kwargs": {"net_arch": "small"}}),
        ("model.net_arch.pi", "net_arch.pi", "small", {"net_arch": {"pi": "small"}}),
        ("agent.clip_range.start", "clip_range.start", 0.2, {"clip_range": {"start": 0.2}}),
    ],
)  # fmt: skip
def test_a_config_path_sets_the_setting_its_last_parts_name(key, setting, value, nested):
    extra = "\n  clip_range.schedule: linear" if "clip_range" in key else ""
    choices = "choice(small, medium)" if isinstance(value, str) else f"choice({value}, 0.3)"
    study, problems = check(f"  {key}: {choices}{extra}")
    assert study is not None, problems
    # Optuna's name is the key as written: what Hydra's sweeper results show.
    assert key in study.space.distributions
    assert study.space.params[key].setting == setting
    assert f"h.yaml:9:3: search_space.{key}: '{key}' is read as {setting}" in problems[0]
    values = study.hyperparameters_for({key: value})
    assert pol.nest(values) == {"n_epochs": 1, **nested, **({"clip_range": {"schedule": "linear",
            **nested["clip_range"]}} if extra else {})}  # fmt: skip


def test_dotted_policy_keys_are_no_config_paths():
    study, problems = check("  policy_kwargs.net_arch: choice(small, medium)")
    assert study is not None and problems == []
    assert study.space.params["policy_kwargs.net_arch"].key is None


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("agent.gama", "PPO has no hyperparameter 'agent.gama' (did you mean 'agent.gamma'?)"),
        ("agnt", "PPO has no hyperparameter 'agnt' (see the README's list)"),
        ("polcy_kwargs.ortho_init", "did you mean 'policy_kwargs.ortho_init'?"),
        ("model.policy_kwargs.net_arhc", "PPO's MlpPolicy has no option 'net_arhc' (did you mean "
         "'net_arch'?)"),
        ("agent.learning_rate.gamma", "'learning_rate' has no part 'gamma'"),
        ("agent.top_quantiles_to_drop_per_net", "(it belongs to tqc)"),
    ],
)  # fmt: skip
def test_a_config_path_naming_nothing_is_refused_with_a_guess(key, words):
    study, problems = check(f"  {key}: choice(0.9, 0.99)")
    assert study is None
    assert any(f"search_space.{key}: {words}" in p or words in p for p in problems), problems


def test_two_config_paths_for_one_setting_are_refused():
    study, problems = check("  agent.gamma: choice(0.9, 0.99)\n  critic.gamma: choice(0.9, 0.99)")
    assert study is None
    assert any("'critic.gamma' and 'agent.gamma' both set gamma" in p for p in problems), problems


@pytest.mark.parametrize(
    ("fixed", "key", "words"),
    [
        ("  gamma: 0.9", "gamma",
         "'gamma' is in 'hyperparameters' too: the search space's value wins"),
        ("  gamma: 0.9", "agent.gamma",
         "'agent.gamma' is searched, so 'gamma' in hyperparameters is not used"),
    ],
)  # fmt: skip
def test_a_setting_fixed_and_searched_takes_the_searched_value(fixed, key, words, tmp_path, capsys):
    study, problems = check(f"  {key}: choice(0.95, 0.99)", fixed=fixed)
    assert study is not None, problems
    assert any(words in p for p in problems), problems
    assert study.hyperparameters_for({key: 0.99})["gamma"] == 0.99
    assert study.hyperparameters_for({key: 0.99}).keys() == {"gamma"}
    path = tmp_path / "h.yaml"
    path.write_text(STUDY.format(algorithm="ppo", fixed=fixed, searched=f"  {key}: 0.99",
                                 enqueue=""))  # fmt: skip
    assert main(["validate", str(path)]) == 0  # a note is printed, and the file is good
    assert "h.yaml:9:3:" in capsys.readouterr().out


def test_a_training_function_keeps_its_names_and_the_search_wins():
    text = (
        "name: f\ntrain: {function: 'pkg.mod:train', timesteps: 10}\n"
        "hyperparameters: {agent.lr: 0.1, depth: 2}\nsearch_space:\n  agent.lr: choice(0.2, 0.3)\n"
    )
    study, problems = check_text(text, "f.yaml", check_env=False)
    assert study is not None, problems
    assert study.hyperparameters_for({"agent.lr": 0.3}) == {"agent.lr": 0.3, "depth": 2}


LISTS = {
    "hydra": "  net_arch: choice([32, 16], [64, 32], small)",
    "mapping": "  net_arch: {type: categorical, choices: [[32, 16], [64, 32], small]}",
    "grid": "  net_arch: grid_search([[32, 16], [64, 32], small])",
}


@pytest.mark.parametrize("form", LISTS)
def test_a_list_is_a_choice_and_the_trial_gets_the_list(form):
    study, problems = check(LISTS[form])
    assert study is not None, problems
    assert study.space.distributions["net_arch"] == optuna.distributions.CategoricalDistribution(
        ("[32, 16]", "[64, 32]", "small")
    )
    assert study.space.params["net_arch"].values() == ([32, 16], [64, 32], "small")
    assert study.hyperparameters_for({"net_arch": "[64, 32]"})["net_arch"] == [64, 32]
    # What the storage holds, and the trial table shows, reads as the list it is.
    ostudy = optuna.create_study()
    ostudy.enqueue_trial({"net_arch": "[32, 16]"})
    trial = ostudy.ask()
    assert suggest_all(trial, study.space) == {"net_arch": "[32, 16]"}
    assert ostudy.trials[0].params == {"net_arch": "[32, 16]"}


def test_mappings_and_lists_of_other_settings_are_choices_too():
    study, problems = check(
        "  net_arch: {type: categorical, choices: [{pi: [64], vf: [32]}, [16]]}",
    )
    assert study is not None, problems
    assert study.hyperparameters_for({"net_arch": "{pi: [64], vf: [32]}"})["net_arch"] == {
        "pi": [64],
        "vf": [32],
    }
    study, problems = check(
        "  train_freq: choice([4, episode], [1, step])", fixed="  gamma: 0.9", algorithm="dqn"
    )
    assert study is not None, problems
    assert study.hyperparameters_for({"train_freq": "[4, episode]"})["train_freq"] == [4, "episode"]


@pytest.mark.parametrize(
    ("searched", "words"),
    [
        ("  net_arch: choice([32, -1], [64])", "net_arch[1]: a layer size must be above 0"),
        ("  net_arch: {type: categorical, choices: [[32, 0.5]]}", "a layer size must be a whole"),
        ("  net_arch: choice([64], [64])", "'[64]' is listed twice"),
        ("  train_freq: choice([4, epsiode])", "train_freq"),
    ],
)
def test_a_bad_list_choice_is_refused_as_the_list(searched, words):
    dqn = "train_freq" in searched
    study, problems = check(searched, "  gamma: 0.9", algorithm="dqn" if dqn else "ppo")
    assert study is None
    assert any(words in p for p in problems), problems


def test_a_list_choice_may_be_enqueued_as_the_list_or_its_label():
    for entry in ("{net_arch: [64, 32]}", "{net_arch: '[64, 32]'}"):
        study, problems = check(LISTS["hydra"], enqueue=f"enqueue:\n  - {entry}\n")
        assert study is not None and problems == [], problems
    study, problems = check(LISTS["hydra"], enqueue="enqueue:\n  - {net_arch: [8]}\n")
    assert any("lies outside the search space of 'net_arch'" in p for p in problems), problems
    assert study is not None and study.space.optuna_values({"net_arch": [64, 32]}) == {
        "net_arch": "[64, 32]"
    }


def test_build_space_without_an_algorithm_maps_no_key():
    space, problems = build_space({"agent.gamma": "choice(0.9, 0.99)"})
    assert problems == [] and space.params["agent.gamma"].setting == "agent.gamma"
