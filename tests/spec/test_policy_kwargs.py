"""Policy options: flat, in a policy_kwargs mapping, as rl-baselines3-zoo's "dict(...)" string,
or one at a time by a dotted name; each checked against the policy class it is for."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rltui.spec import check_text
from rltui.spec import policy as pol
from rltui.spec.zoo import LiteralError, parse_zoo
from tests.conftest import needs_extra

# sb3-contrib's algorithms are valid only where it is installed (CI installs it).
needs_contrib = needs_extra("sb3_contrib", "contrib")

STUDY = """\
name: policy
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: 1000
{train}hyperparameters:
{fixed}
search_space:
{searched}
"""


def check(
    fixed: str = "",
    searched: str = "",
    algorithm: str = "ppo",
    env: str = "CartPole-v1",
    train: str = "",
    enqueue: str = "",
) -> tuple[object, list[str]]:
    """The study (None when refused) and its problems as the CLI prints them."""
    text = STUDY.format(
        algorithm=algorithm,
        env=env,
        train=train,
        fixed=fixed or "  gamma: 0.99",
        searched=searched or "  learning_rate: interval(1e-4, 1e-3)",
    )
    study, problems = check_text(text + enqueue, "p.yaml")
    return study, [p.format("p.yaml") for p in problems]


def test_a_mapping_of_policy_options_is_accepted():
    study, problems = check(
        "  policy_kwargs:\n"
        "    net_arch: {pi: [64, 64], vf: [64, 64]}\n"
        "    activation_fn: relu\n"
        "    ortho_init: false\n"
        "    log_std_init: -1.0\n"
        "    optimizer_class: rmsprop\n"
        "    optimizer_kwargs: {eps: 1.0e-5, alpha: 0.99, betas: [0.9, 0.999]}",
        env="Pendulum-v1",
    )
    assert study is not None, problems


def test_the_zoo_string_is_read_into_the_same_options():
    zoo = "dict(net_arch=dict(pi=[64], vf=[64]), activation_fn=nn.ReLU, ortho_init=False)"
    study, problems = check(f'  policy_kwargs: "{zoo}"')
    assert study is not None, problems
    assert parse_zoo(zoo) == {
        "net_arch": {"pi": [64], "vf": [64]},
        "activation_fn": "relu",
        "ortho_init": False,
    }
    assert parse_zoo(
        "dict(log_std_init=-2, optimizer_class=th.optim.RMSprop, "
        "optimizer_kwargs=dict(eps=1e-5, alpha=0.99))"
    ) == {
        "log_std_init": -2,
        "optimizer_class": "rmsprop",
        "optimizer_kwargs": {"eps": 1e-5, "alpha": 0.99},
    }


def test_dotted_names_search_one_option_each():
    study, problems = check(
        "  policy_kwargs: {net_arch: [64, 64]}",
        "  policy_kwargs.ortho_init: choice(true, false)\n"
        "  policy_kwargs.log_std_init: interval(-2, 1)\n"
        "  policy_kwargs.activation_fn: choice(tanh, relu)\n"
        "  policy_kwargs.optimizer_kwargs.eps: tag(log, interval(1e-8, 1e-4))",
        env="Pendulum-v1",
        enqueue="enqueue:\n  - {policy_kwargs.ortho_init: false, policy_kwargs.log_std_init: 0}\n",
    )
    assert study is not None, problems
    assert set(study.space.distributions) == {  # type: ignore[attr-defined]
        "policy_kwargs.ortho_init",
        "policy_kwargs.log_std_init",
        "policy_kwargs.activation_fn",
        "policy_kwargs.optimizer_kwargs.eps",
    }


@pytest.mark.parametrize(
    ("fixed", "searched", "words"),
    [
        (
            "  policy_kwargs: {ortho_int: false}",
            "",
            ["p.yaml:7:19: hyperparameters.policy_kwargs.ortho_int:", "no option 'ortho_int'",
             "did you mean 'ortho_init'?"],
        ),
        (
            "",
            "  policy_kwargs.gamma: choice(0.9, 0.99)",
            ["p.yaml:9:3: search_space.policy_kwargs.gamma:", "PPO's MlpPolicy has no option",
             "'gamma' is an argument of the algorithm: set it as gamma"],
        ),
        (
            "  policy_kwargs: {activation_fn: rellu}",
            "",
            ["'rellu' is not a known activation_fn", "did you mean 'relu'?"],
        ),
        (
            "  policy_kwargs: {net_arch: {pi: [64], qf: [64]}}",
            "",
            ["PPO's net_arch has no network 'qf'", "use pi (the policy) and vf"],
        ),
        (
            "  policy_kwargs: [64, 64]",
            "",
            ["policy_kwargs must be a mapping of policy options, got [64, 64]"],
        ),
        (
            "",
            "  policy_kwargs.ortho_init: interval(0, 1)",
            ["ortho_init is true or false", "choice(true, false)"],
        ),
        (
            "",
            "  policy_kwargs.optimizer_class: choice(adam, lbfgs)",
            ["'lbfgs' is not a known optimizer_class"],
        ),
        (
            "  policy_kwargs: {optimizer_kwargs: {eps: {a: 1}}}",
            "",
            ["optimizer_kwargs's eps must be a number"],
        ),
        (
            "  policy_kwargs.net_arch.pi.x: [8]",
            "",
            ["'net_arch' has no part 'pi.x'"],
        ),
    ],
)  # fmt: skip
def test_bad_policy_options_are_located_and_explained(fixed, searched, words):
    study, problems = check(fixed, searched)
    assert study is None
    rendered = "\n".join(problems)
    for word in words:
        assert word in rendered


@pytest.mark.parametrize(
    ("fixed", "searched", "names"),
    [
        ("  net_arch: [64]\n  policy_kwargs: {net_arch: [32]}", "", ("policy_kwargs", "net_arch")),
        ("  net_arch: small", "  net_arch.pi: choice(tiny, small)", ("net_arch.pi", "net_arch")),
        ("", "  net_arch: choice(tiny, small)\n  policy_kwargs.net_arch: choice(tiny, small)",
         ("policy_kwargs.net_arch", "net_arch")),
    ],
)  # fmt: skip
def test_an_option_set_twice_is_refused_whichever_would_win(fixed, searched, names):
    # Both fixed, both searched, or a part searched of a value fixed whole: no order of the
    # two would be the obvious one.
    study, problems = check(fixed, searched)
    assert study is None
    entry, other = names
    assert any(f"'{entry}' and '{other}' both set" in p for p in problems), problems


@pytest.mark.parametrize(
    ("fixed", "searched", "trial", "nested"),
    [
        ("  ortho_init: false", "  policy_kwargs.ortho_init: choice(true, false)",
         {"policy_kwargs.ortho_init": True}, {"policy_kwargs": {"ortho_init": True}}),
        ('  policy_kwargs: "dict(ortho_init=False, log_std_init=-1.0)"',
         "  policy_kwargs.ortho_init: choice(true, false)",
         {"policy_kwargs.ortho_init": True},
         {"policy_kwargs": {"ortho_init": True, "log_std_init": -1.0}}),
        ("  policy_kwargs: {net_arch: [32], ortho_init: false}", "  net_arch: choice(tiny, small)",
         {"net_arch": "small"}, {"net_arch": "small", "policy_kwargs": {"ortho_init": False}}),
        ("  net_arch: [32]", "  policy_kwargs.net_arch: choice(tiny, small)",
         {"policy_kwargs.net_arch": "tiny"}, {"policy_kwargs": {"net_arch": "tiny"}}),
    ],
)  # fmt: skip
def test_a_searched_option_wins_over_a_fixed_one_however_written(fixed, searched, trial, nested):
    study, problems = check(fixed + "\n  gamma: 0.99", searched)
    assert study is not None, problems
    assert any("is searched, so" in p and "in hyperparameters is not used" in p for p in problems)
    values = study.hyperparameters_for(trial)  # type: ignore[attr-defined]
    assert {k: v for k, v in pol.nest(values).items() if k != "gamma"} == nested


def test_options_set_in_different_places_are_merged():
    study, problems = check(
        '  policy_kwargs: "dict(net_arch=[64, 64])"\n  activation_fn: relu',
        "  policy_kwargs.ortho_init: choice(true, false)",
    )
    assert study is not None, problems
    values = {"policy_kwargs": "dict(net_arch=[64, 64])", "policy_kwargs.ortho_init": False}
    assert pol.nest(values) == {"policy_kwargs": {"net_arch": [64, 64], "ortho_init": False}}


@pytest.mark.parametrize(
    ("text", "words", "column"),
    [
        ("__import__('os').system('true')", "write it as dict(key=value, ...)", 1),
        ("dict(net_arch=eval('[64]'))", "cannot be read", 15),
        ("dict(act=nn.Relu)", "nn.Relu is not a class rltui knows (did you mean nn.ReLU?)", 10),
        ("dict(act=torch.nn.modules.Foo)", "is not a class rltui knows", 10),
        ("dict(f=lambda x: x)", "cannot be read", 8),
        ("dict(**other)", "**mapping cannot be read", 6),
        ("dict([('a', 1)])", "keyword arguments only", 6),
        ("dict(a=1, a=2)", "'a' is given twice", None),
        ("dict(net_arch=[64, 64]", "'(' was never closed", 5),
        ("dict(a=1j)", "cannot be read", 8),
    ],
)
def test_the_zoo_string_is_never_run(text, words, column):
    with pytest.raises(LiteralError) as caught:
        parse_zoo(text)
    assert words in caught.value.message
    if column is not None:
        assert caught.value.column == column


def test_a_zoo_string_that_would_write_a_file_only_gets_a_message(tmp_path: Path):
    target = tmp_path / "written"
    text = f"dict(net_arch=open({str(target)!r}, 'w'))"
    study, problems = check(f'  policy_kwargs: "{text}"')
    assert study is None and not target.exists()
    assert any("policy_kwargs cannot be read (at column 15 of the string)" in p for p in problems)


def test_a_huge_or_deep_zoo_string_is_refused_quickly():
    with pytest.raises(LiteralError, match="characters long"):
        parse_zoo("dict(a=[" + "1, " * 10_000 + "])")
    with pytest.raises(LiteralError, match="nests deeper"):
        parse_zoo("dict(a=" + "[" * 20 + "]" * 20 + ")")
    with pytest.raises(LiteralError):
        parse_zoo("dict(a=" + "[" * 1000 + "]" * 1000 + ")")


@pytest.mark.parametrize(
    ("algorithm", "env", "net_arch", "ok"),
    [
        ("ppo", "CartPole-v1", "{pi: [64], vf: [32]}", True),
        ("sac", "Pendulum-v1", "{pi: [64], qf: [32]}", True),
        ("sac", "Pendulum-v1", "{pi: [64], vf: [32]}", False),
        ("dqn", "CartPole-v1", "{pi: [64], qf: [32]}", False),
        ("ppo", "CartPole-v1", "[64, {pi: [64], vf: [64]}]", False),
    ],
)
def test_net_arch_names_the_networks_of_its_algorithm(algorithm, env, net_arch, ok):
    study, problems = check(
        f"  policy_kwargs: {{net_arch: {net_arch}}}", algorithm=algorithm, env=env
    )
    assert (study is not None) == ok, problems
    if net_arch.startswith("[64,"):
        assert any("layers shared by the networks" in p for p in problems)


def test_the_zoos_older_net_arch_in_a_list_is_read_with_a_warning():
    # rl-baselines3-zoo's hyperparams/ppo.yml for HalfCheetah-v3, as it is written there.
    zoo = (
        '"dict(\n'
        "                    log_std_init=-2,\n"
        "                    ortho_init=False,\n"
        "                    activation_fn=nn.ReLU,\n"
        "                    net_arch=[dict(pi=[256, 256], vf=[256, 256])]\n"
        '                  )"'
    )
    study, problems = check(f"  policy_kwargs: {zoo}", env="Pendulum-v1")
    assert study is not None, problems
    warnings = study.warnings  # type: ignore[attr-defined]
    assert [p.severity for p in warnings] == ["warning"]
    assert "net_arch: net_arch is a list holding a mapping" in warnings[0].message
    options = pol.nest({"policy_kwargs": study.spec.hyperparameters["policy_kwargs"]})  # type: ignore[attr-defined]
    assert options["policy_kwargs"]["net_arch"] == [{"pi": [256, 256], "vf": [256, 256]}]


def test_each_policy_class_has_its_own_options():
    assert "net_arch" in pol.accepted_hyperparameters("ars", "MlpPolicy")
    assert "net_arch" not in pol.accepted_hyperparameters("ars", "LinearPolicy")
    assert "lstm_hidden_size" in pol.accepted_hyperparameters("recurrentppo")
    assert "lstm_hidden_size" not in pol.accepted_hyperparameters("ppo")
    assert pol.policy_names("recurrentppo")[0] == "MlpLstmPolicy"


@pytest.mark.parametrize(
    ("algorithm", "env", "fixed", "ok"),
    [
        ("recurrentppo", "CartPole-v1", "  policy_kwargs: {lstm_hidden_size: 16}", True),
        ("qrdqn", "CartPole-v1", '  policy_kwargs: "dict(net_arch=[64], n_quantiles=10)"', True),
        ("tqc", "Pendulum-v1", "  policy_kwargs: {n_quantiles: 10, net_arch: {pi: [8], qf: [8]}}",
         True),
        ("crossq", "Pendulum-v1", "  policy_kwargs: {batch_norm_momentum: 2}", False),
        ("ppo", "CartPole-v1", "  policy_kwargs: {n_quantiles: 10}", False),
    ],
)  # fmt: skip
@needs_contrib
def test_contrib_policies_take_their_own_options(algorithm, env, fixed, ok):
    study, problems = check(fixed, algorithm=algorithm, env=env)
    assert (study is not None) == ok, problems


@needs_contrib
def test_the_default_policy_is_the_algorithms_own():
    # RecurrentPPO has no MlpPolicy: a study that names no policy trains its MlpLstmPolicy.
    study, problems = check(algorithm="recurrentppo")
    assert study is not None, problems
    assert pol.policy_of(study.spec.train) == "MlpLstmPolicy"  # type: ignore[attr-defined]
    study, problems = check(algorithm="recurrentppo", train="  policy: MlpPolicy\n")
    assert study is None
    assert any("RecurrentPPO has no policy 'MlpPolicy'" in p for p in problems), problems


def test_a_contrib_algorithm_without_the_extra_says_how_to_install_it(monkeypatch):
    # None in sys.modules is how Python marks a module that cannot be imported.
    monkeypatch.setitem(sys.modules, "sb3_contrib", None)
    study, problems = check(algorithm="tqc", env="Pendulum-v1")
    assert study is None
    assert any(
        "p.yaml:3:3: train.algorithm: TQC comes from sb3-contrib, which is not installed here "
        "(install rltui[contrib] (pip install 'rltui[contrib]'))" in p
        for p in problems
    ), problems
