"""Objectives and directions in a study file: the defaults, the schema, every refusal."""

from __future__ import annotations

import pytest

from rltui.spec import check_text
from rltui.spec.objectives import MULTI_OBJECTIVE_SAMPLERS
from rltui.spec.optuna_options import SAMPLER_OPTIONS

BASE = """\
name: multi
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: 1000
"""


def checked(extra: str):
    study, problems = check_text(BASE + extra, "study.yaml", check_env=False)
    errors = [p for p in problems if p.severity == "error"]
    return study, "\n".join(p.format("study.yaml") for p in errors)


def test_no_objectives_is_todays_study() -> None:
    study, errors = checked("")
    assert study is not None, errors
    spec = study.spec
    assert spec.direction == "maximize"
    assert spec.directions == ("maximize",)
    assert [o.label for o in spec.objectives] == ["reward"]
    assert not spec.multi_objective
    assert spec.pruner.type == "median" and spec.sampler.type == "tpe"
    assert spec.maximize_reward


def test_a_single_direction_string_still_works() -> None:
    study, errors = checked("direction: minimize\n")
    assert study is not None, errors
    assert study.spec.direction == "minimize" and not study.spec.maximize_reward


def test_one_objective_keeps_a_plain_direction_however_written() -> None:
    study, errors = checked("objectives: auc\ndirection: [minimize]\n")
    assert study is not None, errors
    assert study.spec.direction == "minimize"
    assert [o.name for o in study.spec.objectives] == ["auc"]


def test_several_objectives_take_their_natural_directions_and_no_pruner() -> None:
    study, errors = checked("objectives: [reward, wall_time, auc]\n")
    assert study is not None, errors
    spec = study.spec
    assert spec.directions == ("maximize", "minimize", "maximize")
    assert spec.multi_objective
    assert spec.pruner.type == "none"
    assert spec.sampler.type == "tpe"  # the default stays TPE (see rltui.spec.objectives)


def test_objectives_given_alone_take_their_natural_direction() -> None:
    study, errors = checked("objectives: [wall_time]\n")
    assert study is not None, errors
    assert study.spec.direction == "minimize"


def test_steps_to_mapping_and_explicit_directions() -> None:
    study, errors = checked(
        "objectives: [reward, {name: steps_to, threshold: 475}]\n"
        "direction: [maximize, minimize]\n"
        "sampler: {type: nsgaii, population_size: 4}\n"
        "pruner: none\n"
    )
    assert study is not None, errors
    spec = study.spec
    assert [o.label for o in spec.objectives] == ["reward", "steps_to 475"]
    assert spec.objectives[1].threshold == 475
    assert spec.directions == ("maximize", "minimize")
    assert spec.sampler.type == "nsgaii"


def test_reward_direction_is_the_reward_objectives() -> None:
    study, errors = checked("objectives: [wall_time, reward]\ndirection: [minimize, minimize]\n")
    assert study is not None, errors
    assert not study.spec.maximize_reward


@pytest.mark.parametrize("sampler", MULTI_OBJECTIVE_SAMPLERS)
def test_every_multi_objective_sampler_is_taken(sampler: str) -> None:
    study, errors = checked(f"objectives: [reward, wall_time]\nsampler: {sampler}\n")
    assert study is not None, errors


REFUSALS = {
    "unknown objective": (
        "objectives: [reward, wal_time]\n",
        [
            "study.yaml:6:",
            "objectives[1]: unknown objective 'wal_time'",
            "did you mean 'wall_time'",
        ],
    ),
    "steps_to without threshold": (
        "objectives: [reward, steps_to]\n",
        ["objectives[1]: steps_to needs the reward to reach", "{name: steps_to, threshold: 475}"],
    ),
    "threshold on another objective": (
        "objectives: [{name: auc, threshold: 3}]\n",
        ["objectives[0]: only steps_to takes a threshold; remove it from auc"],
    ),
    "threshold not a number": (
        "objectives: [{name: steps_to, threshold: true}]\n",
        ["threshold must be a number, not true"],
    ),
    "unknown key in an objective": (
        "objectives: [{name: steps_to, treshold: 3}]\n",
        ["unknown key 'treshold' in an objective", "did you mean 'threshold'"],
    ),
    "mapping without a name": (
        "objectives: [{threshold: 3}]\n",
        ["an objective mapping needs a name"],
    ),
    "not a name": (
        "objectives: [reward, 3]\n",
        ["objectives[1]: an objective is a name (reward, auc, steps_to, wall_time)"],
    ),
    "not a list": (
        "objectives: 3\n",
        ["objectives: must be a list such as [reward, wall_time], got 3"],
    ),
    "empty": ("objectives: []\n", ["objectives: is empty: name at least one objective"]),
    "listed twice": (
        "objectives: [reward, wall_time, reward]\n",
        ["objective 'reward' is listed twice: keep one"],
    ),
    "one direction for two objectives": (
        "objectives: [reward, wall_time]\ndirection: maximize\n",
        [
            "study.yaml:7:",
            "direction: direction gives 1 direction for 2 objectives (reward, wall_time)",
            "such as [maximize, minimize]",
        ],
    ),
    "two directions for the default objective": (
        "direction: [maximize, minimize]\n",
        ["direction gives 2 directions for 1 objective (reward)"],
    ),
    "misspelt direction in a list": (
        "objectives: [reward, wall_time]\ndirection: [maximize, minimise]\n",
        ["must be one of maximize, minimize, got 'minimise'", "did you mean 'minimize'"],
    ),
    "empty direction": (
        "objectives: [reward, wall_time]\ndirection: []\n",
        ["direction: is empty: give one direction per objective"],
    ),
    "a pruner with several objectives": (
        "objectives: [reward, wall_time]\npruner: {type: median, n_startup_trials: 3}\n",
        [
            "study.yaml:7:",
            "pruner: Optuna cannot prune a study with several objectives",
            "set pruner: none",
        ],
    ),
    "cmaes with several objectives": (
        "objectives: [reward, wall_time]\nsampler: cmaes\n",
        [
            "sampler: the cmaes sampler cannot optimise several objectives",
            "use one of tpe, nsgaii, random, qmc, gp, grid",
        ],
    ),
    "policy gradient with several objectives": (
        "objectives: [reward, wall_time]\nsampler: policy_gradient\n",
        ["the policy_gradient sampler cannot optimise several objectives"],
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_say_where_what_and_how_to_fix(case: str) -> None:
    extra, fragments = REFUSALS[case]
    study, errors = checked(extra)
    assert study is None
    for fragment in fragments:
        assert fragment in errors, errors
    assert "Traceback" not in errors


def test_a_pruner_is_fine_with_one_objective() -> None:
    study, errors = checked("objectives: [auc]\npruner: median\nsampler: cmaes\n")
    assert study is not None, errors


def test_the_refused_samplers_are_the_others_optuna_knows() -> None:
    # A new sampler in the options table must be placed on one side or the other.
    assert set(MULTI_OBJECTIVE_SAMPLERS) < set(SAMPLER_OPTIONS)
    others = set(SAMPLER_OPTIONS) - set(MULTI_OBJECTIVE_SAMPLERS)
    assert others == {"cmaes", "policy_gradient", "pbt"}


@pytest.mark.parametrize("sampler", [*MULTI_OBJECTIVE_SAMPLERS, "cmaes"])
def test_the_list_is_what_optuna_takes_with_two_objectives(sampler: str) -> None:
    import optuna

    from rltui.search.sampling import make_sampler

    text = (
        BASE
        + f"search_space:\n  gamma: {{type: float, low: 0.9, high: 0.99}}\nsampler: {sampler}\n"
    )
    study, _ = check_text(text, "study.yaml", check_env=False)
    assert study is not None
    ostudy = optuna.create_study(directions=["maximize", "minimize"], sampler=make_sampler(study))

    def run() -> None:
        # Past the startup trials, so that the sampler itself is asked.
        for _ in range(12):
            trial = ostudy.ask()
            x = trial.suggest_float("gamma", 0.9, 0.99)
            ostudy.tell(trial, [x, -x])

    if sampler in MULTI_OBJECTIVE_SAMPLERS:
        run()
    else:
        with pytest.raises(ValueError):
            run()
