"""Checking the env a study trains on: its id, its kwargs, and whether the algorithm can act in it.

Whether SAC can act in an env, or whether the env takes a keyword, is only known once the env
is built. It is built once per (env id, kwargs), closed at once, and the outcome cached: the
editor validates on every pause in typing, and building an env again for each would make it
lag. Gymnasium pulls in numpy only, never torch, so this stays safe for the UI.

An id of the form ``module:Env-v0`` imports ``module`` from the study file's folder or from
the installed packages, never from the current folder (which ``python -m`` puts on
``sys.path``): checking a file must not run code the file does not name. The wrappers of
``train.env_wrapper`` are applied to the built env as training applies them, so the algorithm
and the policy are checked against what they will see; SB3's wrappers import torch and are
stood in for by the spaces they make. An id that needs a missing extra (``atari``,
``mujoco``) says which to install (:mod:`rltui.spec.env_setup`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import math
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rltui.spec import algorithms as algos
from rltui.spec import env_setup
from rltui.spec import wrappers as wraps
from rltui.spec.env_setup import EnvSetup, Observations
from rltui.spec.problems import KeyPath, Problem, did_you_mean

if TYPE_CHECKING:
    from rltui.spec.model import TrainSpec

_CACHE_SIZE = 64  # built envs remembered; typing a kwarg's value builds one per keystroke pause
_UNEXPECTED = re.compile(r"unexpected keyword argument '(\w+)'")


@dataclass(frozen=True)
class _Probe:
    """What building an env once told: its action space, or why it could not be built."""

    space: str = ""  # str() of the action space: Discrete(2)
    space_kinds: tuple[str, ...] = ()  # its class and base class names: ("Discrete", ...)
    error: str | None = None
    type_error: bool = False  # the env's constructor refused its arguments
    shapes: EnvShapes | None = None
    wrapper: int | None = None  # the env_wrapper entry that failed, when one did
    hint: str | None = None
    known: bool = True  # False past a torch-based wrapper of the user's: spaces unknown
    observed: Observations | None = None  # None when it could not be built
    frameskip: int = 1  # frames each action of the env itself lasts (ALE v5 games: 4)


@dataclass(frozen=True)
class EnvShapes:
    """How large one observation and one action of an env are, for memory estimates."""

    obs_values: int  # numbers in one observation
    obs_bytes: int  # bytes of one observation as the env gives it
    action_values: int


_probes: dict[tuple[str, str, str], _Probe] = {}
_lock = threading.Lock()
_path_lock = threading.Lock()  # sys.path is shared by every thread: one change at a time


def check_env(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    algorithm: str | None,
    folder: Path | None = None,
    *,
    train: TrainSpec | None = None,
) -> list[Problem]:
    """Problems with the env id, with ``env_kwargs``, and with ``algorithm`` acting in the env.

    ``algorithm`` is a known lower-case algorithm name, or None when it is not checked.
    ``folder`` is the study file's folder, where a ``module:Env-v0`` id's module may lie (and
    the modules of the user's wrappers). With ``train``, its ``env_wrapper`` entries wrap the
    env and its ``policy`` is checked against the observations.
    """
    if train and train.vec_env == "envpool" and (problem := env_setup.envpool_problem(env_id)):
        return [problem]
    with _without_current_folder(folder):
        return _check_env(env_id, env_kwargs, algorithm, folder, EnvSetup.of(train))


def env_shapes(
    env_id: str, env_kwargs: Mapping[str, Any], *, train: TrainSpec | None = None
) -> EnvShapes | None:
    """The sizes of an env that :func:`check_env` has built without a problem, else None;
    with ``train``, of the env its wrappers and ``frame_stack`` make."""
    setup = EnvSetup.of(train)
    key = (env_id.rpartition(":")[2], _kwargs_key(setup.make_kwargs(env_kwargs)), setup.key)
    with _lock:
        probe = _probes.get(key)
    if probe is None or probe.shapes is None:
        return None
    stack = train.frame_stack or 1 if train is not None else 1
    shapes = probe.shapes
    return EnvShapes(shapes.obs_values * stack, shapes.obs_bytes * stack, shapes.action_values)


def _check_env(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    algorithm: str | None,
    folder: Path | None,
    setup: EnvSetup,
) -> list[Problem]:
    import gymnasium

    if ":" in env_id:
        module = env_id.split(":", 1)[0]
        problem = _import(module, f"env '{env_id}'", ("train", "env"), folder)
        if problem is not None:
            return [problem]
        env_id = env_id.split(":", 1)[1]
    if env_setup.is_atari(env_id) and (missing := env_setup.missing("atari")) is not None:
        return [env_setup.extra_problem(env_id, "an Atari game", "atari", missing)]
    if env_id not in gymnasium.registry:
        guess = did_you_mean(env_id, gymnasium.registry.keys())
        return [
            Problem(
                ("train", "env"),
                f"'{env_id}' is not a registered Gymnasium environment",
                f"did you mean '{guess}'?"
                if guess
                else "use 'package.module:EnvId-v0' to import the package that registers it",
            )
        ]
    entry = str(gymnasium.registry[env_id].entry_point)
    if entry.startswith("gymnasium.envs.mujoco") and (missing := env_setup.missing("mujoco")):
        return [env_setup.extra_problem(env_id, "a MuJoCo task", "mujoco", missing)]
    unknown = _unknown_kwargs(env_id, env_kwargs)
    if unknown:
        return unknown
    problems = _import_wrappers(setup, folder)
    if problems:
        return problems
    probe = _probe(env_id, setup.make_kwargs(env_kwargs), setup)
    if probe.error is not None:
        return [_build_problem(env_id, env_kwargs, probe)]
    problems = env_setup.frame_skip_warnings(env_id, setup, probe.frameskip)
    if not probe.known:
        return problems
    if algorithm is not None:
        problems += _action_space_problems(env_id, algorithm, probe)
    if probe.observed is not None:
        problems += env_setup.policy_problems(env_id, setup.policy, probe.observed)
    return problems


def _import(module: str, what: str, path: KeyPath, folder: Path | None) -> Problem | None:
    """Import ``module`` for ``what`` (an env id, a wrapper); a problem at ``path`` if it fails."""
    try:
        __import__(module)
    except ImportError as exc:
        return _import_problem(what, module, exc, folder, path)
    except Exception as exc:  # the module's own code failed: say so, do not crash
        return Problem(
            path,
            f"importing '{module}' for {what} failed: {type(exc).__name__}: {_first_line(exc)}",
            "every trial would fail the same way; fix the module",
        )
    return None


def _import_problem(
    what: str, module: str, exc: ImportError, folder: Path | None, path: KeyPath
) -> Problem:
    top = module.split(".")[0]
    cwd = _current_folder()
    beside = [Path(cwd) / name for name in (f"{top}.py", top)] if cwd else []
    if any(p.exists() for p in beside) and not _is_folder(cwd, str(folder or "")):
        return Problem(
            path,
            f"cannot import '{module}' for {what}: it is in the current folder, which "
            "rltui does not import from",
            "put it beside the study file, or install its package with pip",
        )
    where = f" (looked beside the study file in {folder} and in the installed packages)"
    return Problem(
        path,
        f"cannot import '{module}' for {what}: {exc}{where if folder else ''}",
        "put the module beside the study file, or install the package it comes from",
    )


def _import_wrappers(setup: EnvSetup, folder: Path | None) -> list[Problem]:
    """Problems importing the wrappers' modules. Those that import torch are only looked for:
    the spec layer stays light, and their keywords were checked from data already."""
    problems = []
    for index, ref in enumerate(setup.wrappers):
        path: KeyPath = ("train", "env_wrapper", index)
        what = f"wrapper '{ref.label}'"
        if ref.known is not None and ref.known.opencv and importlib.util.find_spec("cv2") is None:
            problems.append(
                Problem(
                    path,
                    f"{ref.label} resizes frames with OpenCV (cv2), which is not installed",
                    "install rltui[atari] (pip install 'rltui[atari]')",
                )
            )
        elif ref.imports_torch:
            if importlib.util.find_spec(ref.module.split(".")[0]) is None:
                exc = ImportError(f"No module named '{ref.module.split('.')[0]}'")
                problems.append(_import_problem(what, ref.module, exc, folder, path))
        elif (problem := _import(ref.module, what, path, folder)) is not None:
            problems.append(problem)
    return problems


@contextlib.contextmanager
def _without_current_folder(folder: Path | None) -> Iterator[None]:
    """``sys.path`` without the current folder ('' or its path), with ``folder`` first."""
    with _path_lock:
        saved = list(sys.path)
        cwd = _current_folder()
        keep = [p for p in saved if not _is_folder(p, cwd) or _is_folder(p, str(folder or ""))]
        sys.path[:] = ([str(folder)] if folder is not None else []) + keep
        try:
            yield
        finally:
            sys.path[:] = saved


def _current_folder() -> str:
    try:
        return os.getcwd()
    except OSError:  # the current folder was deleted: nothing can be imported from it
        return ""


def _is_folder(entry: str, folder: str) -> bool:
    if not folder:
        return False
    try:
        return os.path.realpath(entry or os.curdir) == os.path.realpath(folder)
    except (OSError, ValueError):
        return False


def _unknown_kwargs(env_id: str, env_kwargs: Mapping[str, Any]) -> list[Problem]:
    accepted = _accepted_kwargs(env_id)
    if accepted is None:
        return []
    problems = []
    for name in env_kwargs:
        if name not in accepted:
            guess = did_you_mean(name, accepted)
            problems.append(
                Problem(
                    ("train", "env_kwargs", name),
                    f"{env_id} takes no keyword argument '{name}'",
                    f"did you mean '{guess}'?"
                    if guess
                    else f"it takes: {', '.join(sorted(accepted)) or 'none'}",
                )
            )
    return problems


def _accepted_kwargs(env_id: str) -> set[str] | None:
    """The keywords ``gymnasium.make(env_id, ...)`` passes on successfully; None if unknown."""
    import gymnasium
    from gymnasium.envs.registration import load_env_creator

    entry = gymnasium.registry[env_id].entry_point
    try:
        creator = load_env_creator(entry) if isinstance(entry, str) else entry
        if creator is None:
            return None
        params = inspect.signature(creator).parameters.values()
        own = inspect.signature(gymnasium.make).parameters.values()
    except Exception:  # any import or introspection failure: building the env will tell
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    names = {p.name for p in params if p.kind is not p.VAR_POSITIONAL and p.name != "self"}
    return names | {p.name for p in own if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "id"}


def _kwargs_key(env_kwargs: Mapping[str, Any]) -> str:
    return repr(sorted(env_kwargs.items(), key=lambda item: item[0]))


def _probe(env_id: str, env_kwargs: Mapping[str, Any], setup: EnvSetup) -> _Probe:
    key = (env_id, _kwargs_key(env_kwargs), setup.key)
    with _lock:
        probe = _probes.get(key)
    if probe is None:
        probe = _build(env_id, dict(env_kwargs), *setup.wrappers)
        with _lock:
            if len(_probes) >= _CACHE_SIZE:
                _probes.pop(next(iter(_probes)))
            _probes[key] = probe
    return probe


def _build(env_id: str, env_kwargs: dict[str, Any], *wrappers: wraps.WrapperRef) -> _Probe:
    import gymnasium

    # The env checker only warns, and its warnings would reach the editor's terminal.
    kwargs = {"disable_env_checker": True, **env_kwargs}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gymnasium.make(env_id, **kwargs)
            try:
                skip = getattr(env.unwrapped, "_frameskip", 1)  # the ALE's own frame skip
                wrapped, known = wraps.wrap_probe(env, wrappers)
                space, observations = wrapped.action_space, wrapped.observation_space
            finally:
                env.close()
    except wraps.WrapperFailed as failed:
        return _Probe(error=failed.message, hint=failed.hint, wrapper=failed.index)
    except TypeError as exc:
        return _Probe(error=_first_line(exc), type_error=True)
    except Exception as exc:  # an env's constructor may raise anything
        return _Probe(error=_first_line(exc))
    kinds = tuple(cls.__name__ for cls in type(space).__mro__)
    return _Probe(
        space=str(space),
        space_kinds=kinds,
        shapes=_shapes(observations, space),
        known=known,
        observed=Observations.of(observations),
        frameskip=max(skip) if isinstance(skip, tuple) else int(skip),
    )


def _shapes(observations: Any, actions: Any) -> EnvShapes | None:
    """Sizes of spaces that have a fixed shape and dtype (Box, Discrete, ...); else None."""
    try:
        obs = math.prod(observations.shape)
        return EnvShapes(obs, obs * observations.dtype.itemsize, max(1, math.prod(actions.shape)))
    except (AttributeError, TypeError):  # a Dict or Tuple space, or one without a dtype
        return None


def _build_problem(env_id: str, env_kwargs: Mapping[str, Any], probe: _Probe) -> Problem:
    error = probe.error or ""
    if probe.wrapper is not None:
        return Problem(("train", "env_wrapper", probe.wrapper), error, probe.hint)
    name = _UNEXPECTED.search(error)
    if probe.type_error and name and name[1] in env_kwargs:
        return Problem(
            ("train", "env_kwargs", name[1]),
            f"{env_id} takes no keyword argument '{name[1]}'",
            "remove it, or check the env's documentation for its arguments",
        )
    if env_kwargs and probe.type_error:
        return Problem(
            ("train", "env_kwargs"),
            f"{env_id} refused these env_kwargs: {error}",
            "check each value's type against the env's documentation",
        )
    return Problem(
        ("train", "env"),
        f"cannot build {env_id}: {error}",
        "every trial would fail the same way; fix the env or its env_kwargs",
    )


def _action_space_problems(env_id: str, algorithm: str, probe: _Probe) -> list[Problem]:
    needs = algos.ACTION_SPACES[algorithm]
    if set(needs) & set(probe.space_kinds):
        return []
    fitting = [
        a for a, spaces in algos.ACTION_SPACES.items() if set(spaces) & set(probe.space_kinds)
    ]
    wanted = " or ".join(algos.SPACE_WORDS.get(n, n) for n in needs)
    if fitting:
        others = ", ".join(fitting[:-1]) + (" or " if len(fitting) > 1 else "") + fitting[-1]
        way_out = f"use {others}"
    else:
        way_out = "no supported algorithm acts in it; wrap the env to change its action space"
    return [
        Problem(
            ("train", "algorithm"),
            f"{algorithm.upper()} cannot act in {env_id}'s action space",
            f"{algorithm.upper()} needs a {wanted} action space; {env_id} has {probe.space}: "
            f"{way_out}",
        )
    ]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
