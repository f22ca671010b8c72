"""rl-baselines3-zoo hyperparams entries as study files: the zoo's own files convert into
studies that check clean, every key lands in its setting or in the list of what was left out,
and a hostile or foreign file gets one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rltui.convert import ConversionError
from rltui.convert.zoo_import import import_zoo
from rltui.convert.zoo_yaml import read_hyperparams
from rltui.spec import check_text, limits
from tests.conftest import needs_extra, require_extra, zoo_folder

pytestmark = needs_extra("rl_zoo3", "zoo")


def zoo_file(name: str) -> Path:
    """One of the hyperparams files rl_zoo3 ships (found without importing rl_zoo3)."""
    return zoo_folder() / "hyperparams" / name


def checked(text: str):
    study, problems = check_text(text)
    assert problems == [], "\n".join(p.format() for p in problems)
    assert study is not None
    return study


@pytest.mark.parametrize(
    ("file", "env", "algorithm", "expected"),
    [
        (
            "ppo.yml",
            "CartPole-v1",
            "ppo",
            {"learning_rate": "lin_0.001", "clip_range": "lin_0.2", "n_steps": 32},
        ),
        (
            "dqn.yml",
            "CartPole-v1",
            "dqn",
            {"policy_kwargs": "dict(net_arch=[256, 256])", "train_freq": 256},
        ),
        ("sac.yml", "Pendulum-v1", "sac", {"learning_rate": 1e-3}),
    ],
)
def test_the_zoos_own_entries_become_studies_that_check_clean(file, env, algorithm, expected):
    original = yaml.safe_load(zoo_file(file).read_text())[env]
    done = import_zoo(zoo_file(file), env)
    assert done.problems == () and done.unmapped == ()
    study = checked(done.text)
    spec = study.spec
    assert (spec.direction, spec.n_trials, spec.train.algorithm) == ("maximize", 1, algorithm)
    assert spec.name == done.name == f"{env.lower()}-{algorithm}"
    assert spec.train.env == env and spec.train.timesteps == int(original["n_timesteps"])
    assert spec.train.n_envs == original.get("n_envs", 1)
    assert spec.train.policy == original["policy"]
    assert 4 <= spec.train.timesteps // spec.train.eval_every <= 50
    for name, value in expected.items():
        assert spec.hyperparameters[name] == value
    moved = {"n_timesteps", "n_envs", "policy"}
    assert spec.hyperparameters.keys() == original.keys() - moved


def test_an_atari_game_takes_the_atari_entry_with_its_env_setup():
    require_extra("ale_py", "atari")
    done = import_zoo(zoo_file("ppo.yml"), "PongNoFrameskip-v4", vec_env="subproc")
    assert done.problems == () and done.unmapped == ()
    assert any("'atari' entry" in note for note in done.notes)
    assert "'atari' entry" in done.text.splitlines()[1]
    train = checked(done.text).spec.train
    assert [w.name for w in train.env_wrapper] == [
        "stable_baselines3.common.atari_wrappers.AtariWrapper"
    ]
    assert (train.frame_stack, train.policy, train.n_envs) == (4, "CnnPolicy", 8)
    assert train.vec_env == "subproc"  # the zoo's --vec-env, which its file cannot hold
    assert train.eval.deterministic is False  # the zoo evaluates Atari games stochastically


def test_keys_without_a_setting_are_listed_with_a_hint_and_the_rest_still_runs(tmp_path):
    path = tmp_path / "td3.yml"
    path.write_text(
        """
Pendulum-v1:
  n_timesteps: !!float 2e4
  policy: 'MlpPolicy'
  normalize: "{'norm_obs': True, 'norm_reward': False, 'clip_obs': 5.0}"
  noise_type: 'ornstein-uhlenbeck'
  noise_std: 0.3
  learning_rate: !!float 1e-3
  gamma: 0.98
  n_epochs: 3
  policy_kwargs: "dict(net_arch=[64, 64], ortho_init=False)"
  callback:
    - rl_zoo3.callbacks.ParallelTrainCallback
  monitor_kwargs: "dict(info_keywords=('is_success',))"
  env_kwargs: {g: 9.81}
  "odd\\x07key": "two\\nlines\\x1b[2J"
""",
        encoding="utf-8",
    )
    done = import_zoo(path, "Pendulum-v1")
    left = {item.key: item.hint for item in done.unmapped}
    assert set(left) == {
        "normalize.clip_obs",
        "n_epochs",
        "policy_kwargs.ortho_init",
        "callback",
        "monitor_kwargs",
        "odd\x07key",
    }
    assert "an argument of PPO" in left["n_epochs"]
    assert "own evaluation" in left["callback"]
    for key in left:  # each is said in the file too, on one line of printable text
        shown = key.replace("\x07", "\\x07")
        assert any(line.startswith(f"#   {shown}:") for line in done.text.splitlines())
    study = checked(done.text)
    assert study.spec.train.normalize.model_dump() == {"obs": True, "reward": False}
    assert study.spec.train.env_kwargs == {"g": 9.81}
    fixed = study.spec.hyperparameters
    assert fixed["action_noise"] == "ornstein_uhlenbeck" and fixed["action_noise_sigma"] == 0.3
    assert fixed["policy_kwargs"] == {"net_arch": [64, 64]}  # what TD3's policy takes


def test_a_policy_kwargs_string_in_the_old_net_arch_form_becomes_the_mapping(tmp_path):
    path = tmp_path / "a2c.yml"
    path.write_text(
        "CartPole-v1:\n  n_timesteps: 5000\n  policy: MlpPolicy\n"
        '  policy_kwargs: "dict(net_arch=[dict(pi=[32], vf=[32])], activation_fn=nn.ReLU)"\n'
    )
    done = import_zoo(path, "CartPole-v1")
    study = checked(done.text)  # no warning about the old form either
    assert study.spec.hyperparameters["policy_kwargs"] == {
        "net_arch": {"pi": [32], "vf": [32]},
        "activation_fn": "relu",
    }


def test_a_setting_the_check_refuses_is_moved_out_with_the_checks_message(tmp_path):
    path = tmp_path / "ppo.yml"
    path.write_text(
        "CartPole-v1:\n  n_timesteps: 5000\n  policy: MlpPolicy\n  gamma: 1.5\n"
        "  env_wrapper: no_such_module.Wrapper\n  batch_size: 64\n  n_steps: 128\n"
    )
    done = import_zoo(path, "CartPole-v1")
    left = {item.key: item.hint for item in done.unmapped}
    assert set(left) == {"gamma", "env_wrapper"}
    assert left["gamma"].startswith("refused by rltui's check:")
    assert checked(done.text).spec.hyperparameters == {"batch_size": 64, "n_steps": 128}


def test_anchors_and_merge_keys_read_as_the_zoo_reads_them():
    for path in sorted(zoo_file("ppo.yml").parent.glob("*.yml")):
        expected = yaml.safe_load(path.read_text())
        document = read_hyperparams(path)
        assert list(document.entries) == list(expected)
        for key in document.entries:
            assert document.entry(key) == expected[key], (path.name, key)


def test_an_env_missing_from_the_file_uses_default_or_is_refused_with_a_guess(tmp_path):
    done = import_zoo(zoo_file("ppo.yml"), "Acrobot-v1")
    assert done.problems == ()
    path = tmp_path / "ppo.yml"
    path.write_text("CartPole-v1:\n  n_timesteps: 1000\n")
    with pytest.raises(ConversionError, match=r"no entry for CartPol-v1.*did you mean CartPole-v1"):
        import_zoo(path, "CartPol-v1")
    default = tmp_path / "sac.yml"
    default.write_text("default:\n  n_timesteps: 1000\n  policy: MlpPolicy\n")
    done = import_zoo(default, "Pendulum-v1")
    assert "'default' entry" in done.notes[0] and done.problems == ()


@pytest.mark.parametrize(
    ("name", "algorithm", "words"),
    [
        ("her.yml", None, "HER's entries need its replay buffer"),
        ("my_params.yml", None, "the file name my_params.yml does not name an algorithm"),
        ("ppo.yml", "ppp", "did you mean 'ppo'"),
    ],
)
def test_an_algorithm_rltui_does_not_train_is_refused(tmp_path, name, algorithm, words):
    path = tmp_path / name
    path.write_text("CartPole-v1:\n  n_timesteps: 1000\n")
    with pytest.raises(ConversionError, match=words):
        import_zoo(path, "CartPole-v1", algorithm)


LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
HOSTILE = {
    "laughs": (
        LAUGHS + "CartPole-v1: {n_timesteps: 1000, policy_kwargs: *i}\n",
        "expands to more than 20,000 values",
    ),
    "merge_laughs": (
        "a: &a {x: 1}\n"
        + "".join(
            f"{c}: &{c} {{<<: [*{p}, *{p}, *{p}, *{p}]}}\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "CartPole-v1:\n  <<: *i\n  n_timesteps: 1000\n",
        "expands to more than",
    ),
    "recursive": ("CartPole-v1: &x {n_timesteps: 1000, more: [*x]}\n", "expands|nests"),
    "deep": ("CartPole-v1: " + "[" * 200 + "]" * 200 + "\n", "nests more than 64 levels"),
    "a_list": ("- CartPole-v1\n- n_timesteps\n", "not a zoo hyperparams file"),
    "a_word": ("hello\n", "not a zoo hyperparams file"),
    "empty": ("", "not a zoo hyperparams file"),
    "bad_yaml": ("CartPole-v1: {n_timesteps: [1000\n", ":2:1: not valid YAML"),
    "two_documents": ("a: 1\n---\nb: 2\n", "more than one YAML document"),
    "python_tag": (
        'CartPole-v1:\n  n_timesteps: !!python/object/apply:os.system ["echo hi"]\n',
        "the tag tag:yaml.org,2002:python/object/apply:os.system is not read",
    ),
    "timestamp": ("CartPole-v1:\n  n_timesteps: 2024-01-01\n", "a date value is not read"),
    "huge_int": ("CartPole-v1:\n  n_timesteps: " + "9" * 5000 + "\n", "cannot read this value"),
    "no_timesteps": ("CartPole-v1:\n  policy: MlpPolicy\n", "no number of timesteps"),
    "text_timesteps": ("CartPole-v1:\n  n_timesteps: many\n", "it gives 'many'"),
    "entry_not_mapping": ("CartPole-v1: 1000\n", "is not a mapping of settings"),
    "study_file": (
        "name: s\ntrain: {algorithm: ppo, env: CartPole-v1, timesteps: 1000}\n",
        "is an rltui study file",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_or_foreign_file_gets_one_clear_error(tmp_path, case):
    text, words = HOSTILE[case]
    path = tmp_path / "ppo.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConversionError, match=words) as caught:
        import_zoo(path, "CartPole-v1")
    assert str(path) in caught.value.message


def test_a_file_that_is_not_text_or_not_there_gets_one_clear_error(tmp_path):
    binary = tmp_path / "ppo.yml"
    binary.write_bytes(b"CartPole-v1:\n  n_timesteps: \xff\xfe\n")
    with pytest.raises(ConversionError, match=r"ppo.yml:2:16: not UTF-8 text"):
        import_zoo(binary, "CartPole-v1")
    large = tmp_path / "large" / "ppo.yml"
    large.parent.mkdir()
    large.write_text("# padding\n" * (limits.MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(ConversionError, match="larger than 1,000,000 bytes"):
        import_zoo(large, "CartPole-v1")
    with pytest.raises(ConversionError, match="no such file"):
        import_zoo(tmp_path / "missing" / "ppo.yml", "CartPole-v1")
    with pytest.raises(ConversionError, match="is a folder"):
        import_zoo(large.parent, "CartPole-v1", "ppo")
