"""Checking the env a study sets up: wrappers (by name or the user's own), frame stacking, env
processes, the policy that reads the observations, and the extras that run Atari and MuJoCo."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium
import pytest

from rltui.spec import check_text
from rltui.spec.env_setup import NATURE_CNN_SIDE, is_atari
from rltui.spec.environment import check_env, env_shapes
from rltui.spec.model import POLICIES, TrainSpec
from rltui.spec.wrappers import KNOWN, resolve
from tests.conftest import require_extra

BASE = """\
name: wrapped
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: 1000
{train}
"""


def _text(train: str, *, algorithm: str = "ppo", env: str = "CartPole-v1") -> str:
    body = textwrap.indent(textwrap.dedent(train).strip(), "  ")
    return BASE.format(algorithm=algorithm, env=env, train=body)


def _problems(train: str, **kwargs: str):
    _, problems = check_text(_text(train, **kwargs), "study.yaml", check_env=False)
    return problems


def _train(train: str, **kwargs: str) -> TrainSpec:
    study, problems = check_text(_text(train, **kwargs), "study.yaml", check_env=False)
    assert study is not None, [p.message for p in problems]
    return study.spec.train


def _dynamic(train: str, folder: Path | None = None, **kwargs: str):
    spec = _train(train, **kwargs)
    assert spec.env is not None
    return check_env(spec.env, spec.env_kwargs, spec.algorithm, folder, train=spec)


def test_wrappers_are_read_in_rl_baselines3_zoos_forms():
    spec = _train(
        """
        env_wrapper:
          - stable_baselines3.common.atari_wrappers.AtariWrapper
          - gym.wrappers.TimeLimit: {max_episode_steps: 100}
          - ClipAction
          - my_wrappers:Shaped: {scale: 0.5}
        """
    )
    names = [(w.name, w.kwargs) for w in spec.env_wrapper]
    assert names == [
        ("stable_baselines3.common.atari_wrappers.AtariWrapper", {}),
        ("gym.wrappers.TimeLimit", {"max_episode_steps": 100}),
        ("ClipAction", {}),
        ("my_wrappers:Shaped", {"scale": 0.5}),
    ]
    refs = [resolve(w.name, w.kwargs) for w in spec.env_wrapper]
    assert [r.known is not None for r in refs] == [True, True, True, False]
    assert refs[1].target == "gymnasium.wrappers:TimeLimit"
    # One wrapper alone, or several as a mapping, read the same.
    assert [w.name for w in _train("env_wrapper: AtariWrapper").env_wrapper] == ["AtariWrapper"]
    mapping = _train("env_wrapper: {ClipAction: null, TimeLimit: {max_episode_steps: 9}}")
    assert [w.name for w in mapping.env_wrapper] == ["ClipAction", "TimeLimit"]


def test_an_unknown_wrapper_is_located_with_a_guess():
    [problem] = _problems("env_wrapper:\n  - ClipAction\n  - AtariWraper")
    assert problem.path == ("train", "env_wrapper", 1) and problem.line == 8
    assert "unknown wrapper 'AtariWraper'" in problem.message
    assert "did you mean 'AtariWrapper'?" in problem.message
    [problem] = _problems("env_wrapper: gymnasium.wrappers.TransformObservation")
    assert "class of your own" in problem.message and problem.line == 6


def test_keywords_of_a_known_wrapper_are_checked_against_its_signature():
    [problem] = _problems("env_wrapper:\n  - AtariWrapper:\n      scren_size: 64")
    assert problem.path == ("train", "env_wrapper", 0) and problem.line == 7
    assert "AtariWrapper takes no keyword argument 'scren_size'" in problem.message
    assert "did you mean 'screen_size'?" in problem.message
    [problem] = _problems("env_wrapper: [TimeLimit]")
    assert "TimeLimit needs 'max_episode_steps'" in problem.message
    assert "{TimeLimit: {max_episode_steps: ...}}" in problem.message
    [problem] = _problems("env_wrapper: [{ClipAction: 3}]")
    assert "must be a mapping" in problem.message
    [problem] = _problems("env_wrapper: [{ClipAction: null, ClipReward: null}]")
    assert "one {Name: {keyword: value}} mapping" in problem.message


@pytest.mark.parametrize(
    ("train", "path", "words"),
    [
        ("frame_stack: 0", ("train", "frame_stack"), "must be above 0"),
        ("frame_stack: 5000", ("train", "frame_stack"), "frame_stack is at most 1,024"),
        ("vec_env: threads", ("train", "vec_env"), "must be one of dummy, subproc"),
        ("policy: CnnPolcy", ("train", "policy"), "did you mean 'CnnPolicy'?"),
        ("n_envs: 300\nvec_env: subproc", ("train",), "use at most 256, or vec_env: dummy"),
        (
            "env_kwargs: {max_episode_steps: 5}\n"
            "env_wrapper: [{TimeLimit: {max_episode_steps: 9}}]",
            ("train",),
            "both set the episode length",
        ),
    ],
)
def test_env_setup_values_are_checked(train: str, path: tuple[str, ...], words: str):
    [problem] = _problems(train)
    assert problem.path == path
    assert words in f"{problem.message} {problem.hint}"


def test_a_training_function_takes_no_env_setup():
    text = "name: f\ntrain:\n  function: 'mod:fn'\n  timesteps: 10\n  frame_stack: 4\n"
    [problem] = check_text(text, "f.yaml", check_env=False)[1]
    assert "a training function builds its own envs" in problem.message


def test_the_known_wrappers_are_what_their_libraries_take():
    import importlib

    for name, known in KNOWN.items():
        if known.module.startswith("sb3_contrib"):
            require_extra("sb3_contrib", "contrib")
        cls = getattr(importlib.import_module(known.module), known.cls)
        assert cls.__name__ == name
        params = list(inspect.signature(cls).parameters.values())[1:]
        required = tuple(p.name for p in params if p.default is p.empty)
        optional = tuple(p.name for p in params if p.default is not p.empty)
        assert (required, optional) == (known.required, known.optional), name
        assert set(known.convert) <= set(known.keywords), name


def test_the_policy_names_cover_every_algorithms_own():
    from rltui.train.hyperparams import ALGORITHMS

    classes = list(ALGORITHMS.values())
    try:
        import sb3_contrib
    except ImportError:
        pass
    else:
        classes += [getattr(sb3_contrib, n) for n in ("QRDQN", "TQC", "TRPO", "RecurrentPPO")]
    for cls in classes:
        assert set(cls.policy_aliases) <= set(POLICIES), cls.__name__


def test_the_smallest_image_a_cnn_policy_takes_is_sb3s():
    import numpy as np
    from stable_baselines3.common.torch_layers import NatureCNN

    side = NATURE_CNN_SIDE
    NatureCNN(gymnasium.spaces.Box(0, 255, (1, side, side), np.uint8))
    with pytest.raises(RuntimeError):
        NatureCNN(gymnasium.spaces.Box(0, 255, (1, side - 1, side - 1), np.uint8))


def test_every_atari_id_the_ale_registers_is_known_as_one():
    require_extra("ale_py", "atari")
    ids = [k for k, v in gymnasium.registry.items() if str(v.entry_point).startswith("ale_py")]
    assert len(ids) > 300 and all(is_atari(i) for i in ids)
    assert not any(is_atari(i) for i in ("CartPole-v1", "Pendulum-v1", "InvertedPendulum-v5"))


def test_atari_wrappers_frame_stacking_and_a_cnn_policy_fit_together():
    require_extra("ale_py", "atari")
    train = "env_wrapper: [AtariWrapper]\nframe_stack: 4\npolicy: CnnPolicy"
    assert _dynamic(train, env="PongNoFrameskip-v4") == []
    spec = _train(train, env="PongNoFrameskip-v4")
    shapes = env_shapes(spec.env or "", spec.env_kwargs, train=spec)
    assert shapes is not None and shapes.obs_bytes == 84 * 84 * 4  # grey, resized, stacked


def test_what_the_wrapped_env_gives_is_checked_against_wrappers_and_policy():
    require_extra("ale_py", "atari")
    [problem] = _dynamic("env_wrapper: AtariWrapper")
    assert problem.path == ("train", "env_wrapper", 0)
    assert "AtariWrapper wraps Atari games only" in problem.message
    [problem] = _dynamic("policy: CnnPolicy")
    assert problem.path == ("train", "policy") and "reads images" in problem.message
    assert "Box observations of shape (4,)" in problem.message
    small = "env_wrapper: [{AtariWrapper: {screen_size: 30}}]\npolicy: CnnPolicy"
    [problem] = _dynamic(small, env="PongNoFrameskip-v4")
    assert f"at least {NATURE_CNN_SIDE}x{NATURE_CNN_SIDE}" in problem.message
    assert "ResizeObservation" in (problem.hint or "")
    # ALE v5 games skip 4 frames themselves: AtariWrapper's 4 more are a mistake.
    [problem] = _dynamic("env_wrapper: AtariWrapper", env="ALE/Pong-v5")
    assert problem.severity == "warning" and "each action lasts 16" in problem.message
    assert (
        _dynamic("env_wrapper: AtariWrapper\nenv_kwargs: {frameskip: 1}", env="ALE/Pong-v5") == []
    )


DISCRETE_ACTIONS = """\
import gymnasium
import numpy as np


class Discretized(gymnasium.ActionWrapper):
    def __init__(self, env, n=5):
        super().__init__(env)
        self.values = np.linspace(env.action_space.low, env.action_space.high, n)
        self.action_space = gymnasium.spaces.Discrete(n)

    def action(self, action):
        return self.values[action]
"""


def test_a_wrapper_of_the_users_beside_the_study_file_is_applied_before_checking(tmp_path):
    module = "rltui_test_discretized"
    (tmp_path / f"{module}.py").write_text(DISCRETE_ACTIONS, encoding="utf-8")
    # DQN acts in Pendulum once the wrapper has made its actions discrete.
    [problem] = _dynamic("", tmp_path, algorithm="dqn", env="Pendulum-v1")
    assert problem.path == ("train", "algorithm")
    wrapped = f"env_wrapper: [{{'{module}:Discretized': {{n: 7}}}}]"
    assert _dynamic(wrapped, tmp_path, algorithm="dqn", env="Pendulum-v1") == []
    [problem] = _dynamic(wrapped.replace("n: 7", "m: 7"), tmp_path, env="Pendulum-v1")
    assert problem.path == ("train", "env_wrapper", 0)
    assert f"{module}:Discretized takes no keyword argument 'm'" in problem.message
    [problem] = _dynamic(f"env_wrapper: '{module}:Nothing'", tmp_path, env="Pendulum-v1")
    assert f"module '{module}' has no class 'Nothing'" in problem.message


def test_a_wrapper_module_in_the_current_folder_only_is_not_imported(tmp_path, monkeypatch):
    here, study_folder = tmp_path / "here", tmp_path / "study"
    here.mkdir(), study_folder.mkdir()
    module = "rltui_test_only_here"
    (here / f"{module}.py").write_text(DISCRETE_ACTIONS, encoding="utf-8")
    monkeypatch.chdir(here)
    [problem] = _dynamic(f"env_wrapper: '{module}:Discretized'", study_folder)
    assert problem.path == ("train", "env_wrapper", 0)
    assert "it is in the current folder, which rltui does not import from" in problem.message
    assert module not in sys.modules


# Run in a fresh interpreter: what it imports, and what it cannot find, must not leak into
# (or come from) the test process.
CHECK = """\
import importlib.abc, json, sys
hidden = set(sys.argv[1].split(",")) - {""}

class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named '{name}'")
        return None

sys.meta_path.insert(0, Missing())
import importlib.util
real_find_spec = importlib.util.find_spec
importlib.util.find_spec = lambda name, *a: None if name in hidden else real_find_spec(name, *a)

from rltui.spec import check_text
from rltui.spec.environment import check_env
out = []
for text in json.loads(sys.argv[2]):
    study, problems = check_text(text, None, check_env=False)
    t = study.spec.train
    out += [[p.message, p.hint] for p in check_env(t.env, t.env_kwargs, t.algorithm, train=t)]
print(json.dumps({"problems": out, "torch": "torch" in sys.modules}))
"""


def _check_apart(texts: list[str], hidden: str = "") -> dict:
    run = subprocess.run(
        [sys.executable, "-c", CHECK, hidden, json.dumps(texts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_an_env_that_needs_a_missing_extra_says_which_to_install():
    pong = _text("policy: CnnPolicy", env="ALE/Pong-v5")
    hopper = _text("", algorithm="sac", env="Hopper-v5")
    resize = _text("env_wrapper: [{ResizeObservation: {shape: [40, 40]}}]", env="CartPole-v1")
    seen = _check_apart([pong, hopper, resize], hidden="ale_py,mujoco,cv2")
    messages = [f"{m} ({h})" for m, h in seen["problems"]]
    assert len(messages) == 3, messages
    assert "ALE/Pong-v5 is an Atari game, and 'ale_py'" in messages[0]
    assert "install rltui[atari]" in messages[0]
    assert "Hopper-v5 is a MuJoCo task, and 'mujoco'" in messages[1]
    assert "install rltui[mujoco]" in messages[1]
    assert "OpenCV (cv2), which is not installed" in messages[2]
    assert "install rltui[atari]" in messages[2]


def test_checking_sb3_and_sb3_contrib_wrappers_never_imports_torch():
    require_extra("ale_py", "atari")
    atari = _text("env_wrapper: [AtariWrapper, ClipRewardEnv]\nframe_stack: 4\npolicy: CnnPolicy",
                  env="PongNoFrameskip-v4")  # fmt: skip
    time_feature = _text("env_wrapper: TimeFeatureWrapper", algorithm="sac", env="Pendulum-v1")
    seen = _check_apart([atari, time_feature])
    assert seen == {"problems": [], "torch": False}
