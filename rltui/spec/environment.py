"""Checking the env a study trains on: its id, its kwargs, and whether the algorithm can act in it.

Whether SAC can act in an env, or whether the env takes a keyword, is only known once the env
is built. It is built once per (env id, kwargs), closed at once, and the outcome cached: the
editor validates on every pause in typing, and building an env again for each would make it
lag. Gymnasium pulls in numpy only, never torch, so this stays safe for the UI.

An id of the form ``module:Env-v0`` imports ``module`` from the study file's folder or from
the installed packages, never from the current folder (which ``python -m`` puts on
``sys.path``): checking a file must not run code the file does not name.
"""

from __future__ import annotations

import contextlib
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
from typing import Any

from rltui.spec import algorithms as algos
from rltui.spec.problems import Problem, did_you_mean

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


@dataclass(frozen=True)
class EnvShapes:
    """How large one observation and one action of an env are, for memory estimates."""

    obs_values: int  # numbers in one observation
    obs_bytes: int  # bytes of one observation as the env gives it
    action_values: int


_probes: dict[tuple[str, str], _Probe] = {}
_lock = threading.Lock()
_path_lock = threading.Lock()  # sys.path is shared by every thread: one change at a time


def check_env(
    env_id: str,
    env_kwargs: Mapping[str, Any],
    algorithm: str | None,
    folder: Path | None = None,
) -> list[Problem]:
    """Problems with the env id, with ``env_kwargs``, and with ``algorithm`` acting in the env.

    ``algorithm`` is a known lower-case algorithm name, or None when it is not checked.
    ``folder`` is the study file's folder, where a ``module:Env-v0`` id's module may lie.
    """
    with _without_current_folder(folder):
        return _check_env(env_id, env_kwargs, algorithm, folder)


def env_shapes(env_id: str, env_kwargs: Mapping[str, Any]) -> EnvShapes | None:
    """The sizes of an env that :func:`check_env` has built without a problem, else None."""
    key = (env_id.rpartition(":")[2], _kwargs_key(env_kwargs))
    with _lock:
        probe = _probes.get(key)
    return probe.shapes if probe is not None else None


def _check_env(
    env_id: str, env_kwargs: Mapping[str, Any], algorithm: str | None, folder: Path | None
) -> list[Problem]:
    import gymnasium

    if ":" in env_id:
        module = env_id.split(":", 1)[0]
        try:
            __import__(module)
        except ImportError as exc:
            return [_import_problem(env_id, module, exc, folder)]
        except Exception as exc:  # the module's own code failed: say so, do not crash
            return [
                Problem(
                    ("train", "env"),
                    f"importing '{module}' for env '{env_id}' failed: "
                    f"{type(exc).__name__}: {_first_line(exc)}",
                    "every trial would fail the same way; fix the module",
                )
            ]
        env_id = env_id.split(":", 1)[1]
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
    unknown = _unknown_kwargs(env_id, env_kwargs)
    if unknown:
        return unknown
    probe = _probe(env_id, env_kwargs)
    if probe.error is not None:
        return [_build_problem(env_id, env_kwargs, probe)]
    if algorithm is None:
        return []
    return _action_space_problems(env_id, algorithm, probe)


def _import_problem(env_id: str, module: str, exc: ImportError, folder: Path | None) -> Problem:
    top = module.split(".")[0]
    cwd = _current_folder()
    beside = [Path(cwd) / name for name in (f"{top}.py", top)] if cwd else []
    if any(p.exists() for p in beside) and not _is_folder(cwd, str(folder or "")):
        return Problem(
            ("train", "env"),
            f"cannot import '{module}' for env '{env_id}': it is in the current folder, which "
            "rltui does not import from",
            "put it beside the study file, or install its package with pip",
        )
    where = f" (looked beside the study file in {folder} and in the installed packages)"
    return Problem(
        ("train", "env"),
        f"cannot import '{module}' for env '{env_id}': {exc}{where if folder else ''}",
        "put the module beside the study file, or install the package that registers it",
    )


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


def _probe(env_id: str, env_kwargs: Mapping[str, Any]) -> _Probe:
    key = (env_id, _kwargs_key(env_kwargs))
    with _lock:
        probe = _probes.get(key)
    if probe is None:
        probe = _build(env_id, dict(env_kwargs))
        with _lock:
            if len(_probes) >= _CACHE_SIZE:
                _probes.pop(next(iter(_probes)))
            _probes[key] = probe
    return probe


def _build(env_id: str, env_kwargs: dict[str, Any]) -> _Probe:
    import gymnasium

    # The env checker only warns, and its warnings would reach the editor's terminal.
    kwargs = {"disable_env_checker": True, **env_kwargs}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            env = gymnasium.make(env_id, **kwargs)
            try:
                space, observations = env.action_space, env.observation_space
            finally:
                env.close()
    except TypeError as exc:
        return _Probe(error=_first_line(exc), type_error=True)
    except Exception as exc:  # an env's constructor may raise anything
        return _Probe(error=_first_line(exc))
    kinds = tuple(cls.__name__ for cls in type(space).__mro__)
    return _Probe(space=str(space), space_kinds=kinds, shapes=_shapes(observations, space))


def _shapes(observations: Any, actions: Any) -> EnvShapes | None:
    """Sizes of spaces that have a fixed shape and dtype (Box, Discrete, ...); else None."""
    try:
        obs = math.prod(observations.shape)
        return EnvShapes(obs, obs * observations.dtype.itemsize, max(1, math.prod(actions.shape)))
    except (AttributeError, TypeError):  # a Dict or Tuple space, or one without a dtype
        return None


def _build_problem(env_id: str, env_kwargs: Mapping[str, Any], probe: _Probe) -> Problem:
    error = probe.error or ""
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
