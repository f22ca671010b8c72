"""Env wrappers named in a study file: the known ones as data, the user's own by import path.

``train.env_wrapper`` takes a name or a list of them, each alone or with keyword arguments, in
rl-baselines3-zoo's forms: ``AtariWrapper``, ``stable_baselines3.common.atari_wrappers.
AtariWrapper``, ``{TimeLimit: {max_episode_steps: 200}}``, or ``my_wrappers:Shaped`` for a class
of the user's, imported like a ``module:Env-v0`` env id (beside the study file or from the
installed packages).

The known wrappers are data here, so that a study is checked without importing torch: SB3's
and sb3-contrib's modules import it. A test compares each entry with the real signature.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rltui.spec.problems import did_you_mean

# Top-level packages whose modules import torch: the spec layer never imports them.
TORCH_PACKAGES = frozenset({"torch", "stable_baselines3", "sb3_contrib", "rl_zoo3"})
_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_NAME = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True)
class KnownWrapper:
    """A wrapper rltui knows by name: where it lives and the keywords it takes."""

    target: str  # "module:Class"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # How a YAML value becomes what the constructor wants: "tuple" (a list -> a tuple) or
    # "array" (a list -> a float32 NumPy array).
    convert: Mapping[str, str] = field(default_factory=dict)
    atari: bool = False  # needs an Atari game (its action meanings or lives)
    opencv: bool = False  # resizes frames with OpenCV (the ``atari`` extra installs it)
    skips_frames: str | None = None  # the keyword that repeats each action (None: it does not)

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def cls(self) -> str:
        return self.target.partition(":")[2]

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.required + self.optional


_SB3_ATARI = "stable_baselines3.common.atari_wrappers"
_GYM = "gymnasium.wrappers"
KNOWN: dict[str, KnownWrapper] = {
    # SB3's Atari preprocessing (the ``atari`` extra brings the games and OpenCV).
    "AtariWrapper": KnownWrapper(
        f"{_SB3_ATARI}:AtariWrapper",
        optional=(
            "noop_max",
            "frame_skip",
            "screen_size",
            "terminal_on_life_loss",
            "clip_reward",
            "action_repeat_probability",
        ),
        atari=True,
        opencv=True,
        skips_frames="frame_skip",
    ),
    "NoopResetEnv": KnownWrapper(f"{_SB3_ATARI}:NoopResetEnv", optional=("noop_max",), atari=True),
    "MaxAndSkipEnv": KnownWrapper(
        f"{_SB3_ATARI}:MaxAndSkipEnv", optional=("skip",), skips_frames="skip"
    ),
    "EpisodicLifeEnv": KnownWrapper(f"{_SB3_ATARI}:EpisodicLifeEnv", atari=True),
    "FireResetEnv": KnownWrapper(f"{_SB3_ATARI}:FireResetEnv", atari=True),
    "WarpFrame": KnownWrapper(f"{_SB3_ATARI}:WarpFrame", optional=("width", "height"), opencv=True),
    "ClipRewardEnv": KnownWrapper(f"{_SB3_ATARI}:ClipRewardEnv"),
    "StickyActionEnv": KnownWrapper(
        f"{_SB3_ATARI}:StickyActionEnv", required=("action_repeat_probability",), atari=True
    ),
    # sb3-contrib's, which rl-baselines3-zoo puts on most MuJoCo tasks.
    "TimeFeatureWrapper": KnownWrapper(
        "sb3_contrib.common.wrappers:TimeFeatureWrapper", optional=("max_steps", "test_mode")
    ),
    # Gymnasium's own (no torch): those that take plain values, not functions.
    "TimeLimit": KnownWrapper(f"{_GYM}:TimeLimit", required=("max_episode_steps",)),
    "ClipAction": KnownWrapper(f"{_GYM}:ClipAction"),
    "RescaleAction": KnownWrapper(
        f"{_GYM}:RescaleAction",
        required=("min_action", "max_action"),
        convert={"min_action": "array", "max_action": "array"},
    ),
    "RescaleObservation": KnownWrapper(
        f"{_GYM}:RescaleObservation",
        required=("min_obs", "max_obs"),
        convert={"min_obs": "array", "max_obs": "array"},
    ),
    "ClipReward": KnownWrapper(f"{_GYM}:ClipReward", optional=("min_reward", "max_reward")),
    "NormalizeObservation": KnownWrapper(f"{_GYM}:NormalizeObservation", optional=("epsilon",)),
    "NormalizeReward": KnownWrapper(f"{_GYM}:NormalizeReward", optional=("gamma", "epsilon")),
    "FlattenObservation": KnownWrapper(f"{_GYM}:FlattenObservation"),
    "FrameStackObservation": KnownWrapper(
        f"{_GYM}:FrameStackObservation", required=("stack_size",), optional=("padding_type",)
    ),
    "GrayscaleObservation": KnownWrapper(f"{_GYM}:GrayscaleObservation", optional=("keep_dim",)),
    "ResizeObservation": KnownWrapper(
        f"{_GYM}:ResizeObservation", required=("shape",), convert={"shape": "tuple"}, opencv=True
    ),
    "ReshapeObservation": KnownWrapper(
        f"{_GYM}:ReshapeObservation", required=("shape",), convert={"shape": "tuple"}
    ),
    "DtypeObservation": KnownWrapper(f"{_GYM}:DtypeObservation", required=("dtype",)),
    "AtariPreprocessing": KnownWrapper(
        f"{_GYM}:AtariPreprocessing",
        optional=(
            "noop_max",
            "frame_skip",
            "screen_size",
            "terminal_on_life_loss",
            "grayscale_obs",
            "grayscale_newaxis",
            "scale_obs",
        ),
        convert={"screen_size": "tuple"},
        atari=True,
        opencv=True,
    ),
    "TimeAwareObservation": KnownWrapper(
        f"{_GYM}:TimeAwareObservation", optional=("flatten", "normalize_time", "dict_time_key")
    ),
    "StickyAction": KnownWrapper(
        f"{_GYM}:StickyAction",
        required=("repeat_action_probability",),
        optional=("repeat_action_duration",),
        convert={"repeat_action_duration": "tuple"},
    ),
    "MaxAndSkipObservation": KnownWrapper(
        f"{_GYM}:MaxAndSkipObservation", optional=("skip",), skips_frames="skip"
    ),
    "DelayObservation": KnownWrapper(f"{_GYM}:DelayObservation", required=("delay",)),
    "FilterObservation": KnownWrapper(f"{_GYM}:FilterObservation", required=("filter_keys",)),
}
# Packages a dotted path may name a known wrapper through (rl-baselines3-zoo's files still
# say ``gym.wrappers.TimeLimit`` in places).
_PACKAGE_ALIASES = {"gym": "gymnasium"}


@dataclass(frozen=True)
class WrapperRef:
    """One wrapper of a study file, resolved: a known one, or a class of the user's."""

    written: str  # as the study file names it
    module: str
    cls: str
    kwargs: Mapping[str, Any]
    known: KnownWrapper | None = None

    @property
    def target(self) -> str:
        return f"{self.module}:{self.cls}"

    @property
    def label(self) -> str:
        """The wrapper as messages name it: ``AtariWrapper`` or ``my_wrappers:Shaped``."""
        return self.cls if self.known is not None else self.target

    @property
    def imports_torch(self) -> bool:
        """True when importing its module imports torch (the spec layer then does not)."""
        return self.module.split(".")[0] in TORCH_PACKAGES


class WrapperNameError(ValueError):
    """A wrapper name that names nothing rltui can import; the message says the fix."""


def resolve(written: str, kwargs: Mapping[str, Any] | None = None) -> WrapperRef:
    """The wrapper ``written`` names; raises :class:`WrapperNameError` when it names none."""
    kwargs = dict(kwargs or {})
    if written in KNOWN:
        named = KNOWN[written]
        return WrapperRef(written, named.module, named.cls, kwargs, named)
    module, colon, cls = written.partition(":")
    if not colon:
        module, _, cls = written.rpartition(".")
    if not module:
        guess = did_you_mean(written, KNOWN)
        raise WrapperNameError(
            f"unknown wrapper '{written}': "
            + (f"did you mean '{guess}'?" if guess else "name a known one")
            + " (or a class of your own as 'module:Class', imported from beside the study "
            "file or from the installed packages)"
        )
    if not _PATH.match(module) or not _NAME.match(cls):
        raise WrapperNameError(
            f"'{written}' is not a wrapper name: write a known name such as AtariWrapper, "
            "or 'package.module:Class'"
        )
    top = module.split(".")[0]
    package = _PACKAGE_ALIASES.get(top, top)
    known = KNOWN.get(cls)
    if known is not None and known.module.split(".")[0] == package:
        return WrapperRef(written, known.module, known.cls, kwargs, known)
    if package in ("gymnasium", "stable_baselines3") and known is None:
        # Not one of the wrappers that take plain values: most of the rest take functions.
        raise WrapperNameError(
            f"'{written}' is not one of the wrappers rltui sets up from a study file (those "
            "whose arguments are plain values): put it in a class of your own and name that "
            "as 'module:Class'"
        )
    return WrapperRef(written, module, cls, kwargs)


def check_keywords(ref: WrapperRef) -> str | None:
    """What is wrong with a known wrapper's keyword arguments, or None (a user's class is
    checked once imported, by :func:`signature_problem`)."""
    if ref.known is None:
        return None
    return _keyword_problem(ref.label, ref.kwargs, ref.known.required, ref.known.keywords)


def signature_problem(ref: WrapperRef, params: Mapping[str, Any]) -> str | None:
    """What is wrong with ``ref``'s keyword arguments for a constructor whose parameters
    (``inspect.signature(cls).parameters``) are ``params``, or None."""
    values = list(params.values())[1:]  # the env comes first
    if any(p.kind is p.VAR_KEYWORD for p in values):
        return None
    names = [p.name for p in values if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = [
        p.name
        for p in values
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.default is p.empty
    ]
    return _keyword_problem(ref.label, ref.kwargs, tuple(required), tuple(names))


def _keyword_problem(
    label: str, kwargs: Mapping[str, Any], required: tuple[str, ...], accepted: tuple[str, ...]
) -> str | None:
    for name in kwargs:
        if name not in accepted:
            guess = did_you_mean(name, accepted)
            return f"{label} takes no keyword argument '{name}': " + (
                f"did you mean '{guess}'?"
                if guess
                else f"it takes {', '.join(accepted)}"
                if accepted
                else "it takes none"
            )
    missing = [name for name in required if name not in kwargs]
    if missing:
        example = ", ".join(f"{name}: ..." for name in missing)
        return (
            f"{label} needs {', '.join(repr(m) for m in missing)}: "
            f"write it as {{{label}: {{{example}}}}}"
        )
    return None


def call_kwargs(ref: WrapperRef) -> dict[str, Any]:
    """The keyword arguments to construct ``ref`` with, YAML lists turned into what the
    constructor wants."""
    kwargs = dict(ref.kwargs)
    if ref.known is None:
        return kwargs
    for name, kind in ref.known.convert.items():
        value = kwargs.get(name)
        if isinstance(value, list):
            if kind == "tuple":
                kwargs[name] = tuple(value)
            else:
                import numpy as np

                kwargs[name] = np.asarray(value, dtype=np.float32)
    return kwargs


def stand_in_space(ref: WrapperRef, space: Any) -> Any:
    """The observation space a torch-side known wrapper turns ``space`` into, so that the spec
    layer can check a study without importing torch."""
    import numpy as np
    from gymnasium import spaces

    cls = ref.known.cls if ref.known else ""
    if cls == "AtariWrapper":
        size = int(ref.kwargs.get("screen_size", 84))
        return spaces.Box(0, 255, (size, size, 1), np.uint8)
    if cls == "WarpFrame":
        shape = (int(ref.kwargs.get("height", 84)), int(ref.kwargs.get("width", 84)), 1)
        return spaces.Box(0, 255, shape, np.uint8)
    if cls == "TimeFeatureWrapper":
        if not isinstance(space, spaces.Box) or len(space.shape) != 1:
            raise ValueError(f"TimeFeatureWrapper needs a flat Box observation space, not {space}")
        low, high = np.append(space.low, 0.0), np.append(space.high, 1.0)
        return spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
    return space


def frames_per_action(ref: WrapperRef) -> int:
    """How many frames each action lasts under ``ref`` (1 for wrappers that skip none)."""
    keyword = ref.known.skips_frames if ref.known else None
    if keyword is None:
        return 1
    default = 4  # every frame-skipping wrapper of the table defaults to 4
    value = ref.kwargs.get(keyword, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def is_time_limit(ref: WrapperRef) -> bool:
    """Gymnasium's TimeLimit, which rltui applies as ``gym.make(max_episode_steps=...)``."""
    return ref.known is KNOWN["TimeLimit"]


def load_class(ref: WrapperRef) -> Any:
    """The class ``ref`` names, imported from ``sys.path`` as it is; raises ImportError (or
    what the module raises) when it cannot be imported, and TypeError when it is no class."""
    import importlib

    module = importlib.import_module(ref.module)
    cls = getattr(module, ref.cls, None)
    if cls is None:
        raise TypeError(f"module '{ref.module}' has no class '{ref.cls}'")
    if not isinstance(cls, type):
        raise TypeError(f"'{ref.target}' is not a class")
    return cls


class WrapperFailed(Exception):
    """Wrapping an env failed at ``env_wrapper`` entry ``index``, for the reason given."""

    def __init__(self, index: int, message: str, hint: str | None = None):
        super().__init__(message)
        self.index, self.message, self.hint = index, message, hint


def wrap_probe(env: Any, refs: Sequence[WrapperRef]) -> tuple[Any, bool]:
    """``env`` wrapped by ``refs`` as training wraps it, as far as the spec layer can without
    torch, and whether its spaces are then known (not past a torch-based class of the user's).
    Torch-side known wrappers are stood in for by the spaces they make; TimeLimit is left out
    (it is a ``gym.make`` keyword). Raises :class:`WrapperFailed`."""
    import gymnasium

    for index, ref in enumerate(refs):
        if is_time_limit(ref):
            continue
        atari = hasattr(env.unwrapped, "get_action_meanings")
        if ref.known is not None and ref.known.atari and not atari:
            raise WrapperFailed(
                index,
                f"{ref.label} wraps Atari games only",
                "use an Atari env id, such as ALE/Pong-v5 or PongNoFrameskip-v4",
            )
        if ref.imports_torch:
            if ref.known is None:
                return env, False
            try:
                space = stand_in_space(ref, env.observation_space)
            except (ValueError, TypeError) as exc:
                raise WrapperFailed(index, str(exc)) from None
            env = gymnasium.Wrapper(env)
            env.observation_space = space
            continue
        env = _construct(index, ref, env)
    return env, True


def _construct(index: int, ref: WrapperRef, env: Any) -> Any:
    try:
        cls = load_class(ref)
    except Exception as exc:
        raise WrapperFailed(index, f"cannot use '{ref.target}': {_line(exc)}") from None
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # a class whose signature Python cannot tell
        params = None
    problem = signature_problem(ref, params) if params else None
    if problem is not None:
        raise WrapperFailed(index, problem)
    try:
        return cls(env, **call_kwargs(ref))
    except Exception as exc:  # a wrapper's constructor may raise anything
        raise WrapperFailed(
            index,
            f"{ref.label} could not wrap the env: {type(exc).__name__}: {_line(exc)}",
            "every trial would fail the same way: check its keyword arguments and what it "
            "expects of the env",
        ) from None


def _line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
