"""Whether a study fits the memory of the machine that checks it.

A replay buffer of ``buffer_size`` observations, a rollout of ``n_steps x n_envs``, networks
of ``net_arch`` layers, and one process per worker: each is estimated from the largest value
the study can reach (fixed, listed or at the top of a searched range) and compared with this
machine's physical memory. Only what cannot fit at all is refused; the hint says which machine
was measured, since workers on another machine may have more.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec.environment import EnvShapes
from rltui.spec.grammar import coerce_scalar
from rltui.spec.model import StudySpec
from rltui.spec.problems import KeyPath, Problem, clip
from rltui.spec.space import PRESET, SearchSpace

# SB3's defaults for the sizes estimated here (a test compares them with SB3's signatures).
DEFAULTS: dict[str, dict[str, int]] = {
    "buffer_size": {name: 1_000_000 for name in algos.OFF_POLICY},
    "n_steps": {"ppo": 2048, "a2c": 5},
    "n_critics": {"sac": 2, "td3": 2, "ddpg": 1},
}
_DEFAULT_LAYERS = [64, 64]  # SB3's MLP policies, on- and off-policy alike (DDPG/TD3: 400, 300)
_BYTES_PER_WEIGHT = 16  # the weight, its gradient and Adam's two moments, float32 each
_FLOAT = 4


def check_memory(spec: StudySpec, space: SearchSpace, shapes: EnvShapes | None) -> list[Problem]:
    """Sizes this machine's memory cannot hold: one trial's, or all its workers' together."""
    memory = limits.physical_memory()
    algorithm = spec.train.algorithm
    if memory is None or algorithm not in algos.ALGORITHM_ARGS:
        return []
    assert algorithm is not None
    needs = [_buffer(spec, space, algorithm, shapes), _networks(spec, space, algorithm, shapes)]
    problems = []
    for need in needs:
        if need is not None and need[0] > memory:
            size, path, message, hint = need
            problems.append(
                Problem(
                    path,
                    f"{message} would take about {limits.show_bytes(size)} of memory",
                    f"{hint}; {limits.machine()}",
                )
            )
    if problems:
        return problems
    trial = limits.WORKER_MEMORY + sum(need[0] for need in needs if need is not None)
    workers = spec.workers
    if workers * trial > memory:
        room = max(1, memory // trial)
        total = min(workers * trial, 2**100)  # past any machine, and within what a float holds
        return [
            Problem(
                ("workers",),
                f"{clip(str(workers))} workers at once need about {limits.show_bytes(total)} "
                f"of memory ({limits.show_bytes(trial)} each)",
                f"{limits.machine()}: room for {room} worker{'s' if room > 1 else ''}",
            )
        ]
    return []


Need = tuple[int, KeyPath, str, str]  # bytes, where, what needs them, how to need less


def _buffer(
    spec: StudySpec, space: SearchSpace, algorithm: str, shapes: EnvShapes | None
) -> Need | None:
    if shapes is None:
        return None
    if algorithm in algos.OFF_POLICY:
        size, path = _largest(spec, space, "buffer_size", algorithm)
        # The buffer only fills as far as the trial steps: a larger one is never touched.
        kept = min(size, spec.train.timesteps)
        copies = 1 if _largest(spec, space, "optimize_memory_usage", algorithm)[0] else 2
        each = shapes.obs_bytes * copies + shapes.action_values * _FLOAT + 3 * _FLOAT
        return (
            kept * each,
            path,
            f"a replay buffer of {kept:,} transitions ({each:,} bytes each)",
            "lower buffer_size",
        )
    steps, path = _largest(spec, space, "n_steps", algorithm)
    kept = steps * spec.train.n_envs
    # SB3's rollout buffer keeps float32 observations, actions and six numbers per step.
    each = (shapes.obs_values + shapes.action_values + 6) * _FLOAT
    return (
        kept * each,
        path,
        f"a rollout of {kept:,} transitions ({each:,} bytes each)",
        "lower n_steps or train.n_envs",
    )


def _networks(
    spec: StudySpec, space: SearchSpace, algorithm: str, shapes: EnvShapes | None
) -> Need | None:
    inputs = shapes.obs_values if shapes else 0
    outputs = shapes.action_values if shapes else 0
    weights = 0
    path: KeyPath = ("train", "algorithm")
    for value, where in _candidates(spec, space, "net_arch"):
        for layers in _networks_of(value):
            count = _weights([inputs, *layers, outputs])
            if count > weights:
                weights, path = count, where
    if not weights:
        return None
    critics = _largest(spec, space, "n_critics", algorithm)[0] or 1
    # An actor and a critic for on-policy algorithms; off-policy ones add a target copy of
    # every network, and one critic network per n_critics.
    networks = 2 if algorithm not in algos.OFF_POLICY else 2 + 2 * critics
    return (
        weights * networks * _BYTES_PER_WEIGHT,
        path,
        f"{networks} networks of {weights:,} weights each",
        "use fewer or smaller layers in net_arch",
    )


def _weights(widths: list[int]) -> int:
    widths = [w for w in widths if w > 0]
    return sum(a * b + b for a, b in itertools.pairwise(widths))


def _networks_of(value: Any) -> list[list[int]]:
    """The layer sizes of each network ``net_arch`` describes; none for a value refused
    already (by its fixed bounds, in rltui.spec.hyperparameters)."""
    if isinstance(value, dict):
        return [layers for part in value.values() for layers in _networks_of(part)]
    if isinstance(value, str):
        return [list(algos.NET_ARCH_PRESETS.get(value, _DEFAULT_LAYERS))]
    layers = value if isinstance(value, list) else [value]
    sizes = [_whole(v, "net_arch") for v in layers]
    if len(sizes) > limits.MAX_LAYERS or any(size is None for size in sizes):
        return []
    return [[size for size in sizes if size is not None]]


def _largest(spec: StudySpec, space: SearchSpace, name: str, algorithm: str) -> tuple[int, KeyPath]:
    """The largest whole number ``name`` can take in this study, and where it is set."""
    best = DEFAULTS.get(name, {}).get(algorithm, 0)
    path: KeyPath = ("train", "algorithm")
    found = False
    for value, where in _candidates(spec, space, name):
        number = _whole(value, name)
        if number is not None and (not found or number > best):
            best, path, found = number, where, True
    return best, path


def _candidates(spec: StudySpec, space: SearchSpace, name: str) -> Iterable[tuple[Any, KeyPath]]:
    if name in spec.hyperparameters:
        yield spec.hyperparameters[name], ("hyperparameters", name)
    for key in (name, f"policy_kwargs.{name}"):  # a preset sets policy options in policy_kwargs
        for value, param in space.setting_values(key):
            where = param if param in spec.search_space else PRESET
            yield value, ("search_space", where)


def _whole(value: Any, name: str) -> int | None:
    """``value`` as a whole number of at least 0 within its fixed bound (true is 1), or None."""
    if isinstance(value, str):
        value = coerce_scalar(value)
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    bound = limits.SIZES.get(name)
    if not float(value).is_integer() or value < 0 or (bound and value > bound.most):
        return None
    return int(value)
