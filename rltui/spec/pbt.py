"""Population-Based Training as a way to run a study: its options, and what may change.

``sampler: {type: pbt, population: 8, interval: 20000, quantile: 0.25, perturb: [0.8, 1.2],
resample_probability: 0.25}`` trains ``population`` members side by side. Each member trains
in segments of ``interval`` timesteps; after each, the members are ranked on their latest
segment's value, a member in the bottom ``quantile`` copies the checkpoint of one in the top
``quantile`` (exploit) and perturbs the hyperparameters that may change during training
(explore): each is multiplied by one of the ``perturb`` factors, or drawn anew from the search
space with ``resample_probability``; ``explore: pb2`` has PB2's Gaussian-process bandit
choose the numeric ones instead (``rltui.search.pb2``). The rest go on with theirs. A member's
other parameters (network shape, n_envs, ...) are drawn once, when it starts, and copied with
the weights.

Which hyperparameters may change during training is data, per algorithm (:data:`MUTABLE`):
what the algorithm reads afresh at each update. Everything else is built into the model or
its buffers when the model is made.

Every segment is one Optuna trial (``rltui.search.pbt`` records it), so the study's trial
count follows from the population and the budget: ``population`` times the segments of
``train.timesteps`` (fewer when exploits skip ahead). ``n_trials`` is not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltui.spec import schedules
from rltui.spec.problems import Problem

if TYPE_CHECKING:
    from rltui.spec.model import StudySpec
    from rltui.spec.space import SearchSpace

PBT = "pbt"
OPTIONS = frozenset(
    {"population", "interval", "quantile", "perturb", "resample_probability", "explore", "seed"}
)
EXPLORES = ("perturb", "pb2")

_ON_POLICY = frozenset({"learning_rate", "gamma", "gae_lambda", "ent_coef", "vf_coef"})
_PPO = _ON_POLICY | {"clip_range", "max_grad_norm", "n_epochs", "batch_size", "target_kl"}
_OFF_POLICY = frozenset({"learning_rate", "gamma", "batch_size", "tau", "gradient_steps"})
_DQN = _OFF_POLICY | {"target_update_interval", "exploration_final_eps", "max_grad_norm"}
MUTABLE: dict[str, frozenset[str]] = {
    "ppo": _PPO,
    "recurrentppo": _PPO,
    "a2c": _ON_POLICY | {"max_grad_norm"},
    "trpo": frozenset({"learning_rate", "gamma", "gae_lambda", "target_kl", "batch_size"}),
    "dqn": _DQN,
    "qrdqn": _DQN,
    "sac": _OFF_POLICY,
    "tqc": _OFF_POLICY | {"top_quantiles_to_drop_per_net"},
    "crossq": frozenset({"learning_rate", "gamma", "batch_size", "gradient_steps", "policy_delay"}),
    "td3": _OFF_POLICY | {"policy_delay", "target_policy_noise", "target_noise_clip"},
    "ddpg": _OFF_POLICY,
    "ars": frozenset({"learning_rate", "delta_std"}),
}
"""Hyperparameters each algorithm reads afresh at every update, so that a member's value can
change between two segments (``rltui.train.retune`` applies them to a loaded model)."""


@dataclass(frozen=True)
class PbtOptions:
    """The ``pbt`` sampler's options, with their defaults filled in."""

    population: int = 8
    interval: int = 0  # 0: train.eval.every
    quantile: float = 0.25
    perturb: tuple[float, ...] = (0.8, 1.2)
    resample_probability: float = 0.25
    explore: str = "perturb"  # or pb2: a Gaussian-process bandit picks the numeric values
    seed: int | None = None


def is_pbt(spec: StudySpec) -> bool:
    return spec.sampler.type == PBT


def options_of(spec: StudySpec) -> PbtOptions:
    """The options as given (values already checked by :func:`check`)."""
    raw = spec.sampler.options
    interval = int(raw.get("interval") or spec.train.eval_every)
    return PbtOptions(
        population=int(raw.get("population", PbtOptions.population)),
        interval=interval,
        quantile=float(raw.get("quantile", PbtOptions.quantile)),
        perturb=tuple(float(f) for f in raw.get("perturb", PbtOptions.perturb)),
        resample_probability=float(
            raw.get("resample_probability", PbtOptions.resample_probability)
        ),
        explore=str(raw.get("explore", PbtOptions.explore)),
        seed=raw.get("seed"),
    )


def segments(spec: StudySpec) -> int:
    """Segments a member trains in when it never skips ahead."""
    return math.ceil(spec.train.timesteps / options_of(spec).interval)


def with_defaults(data: Any) -> Any:
    """A PBT study's defaults: no pruner (PBT replaces the weak members instead), and two
    retries, so that a member whose worker is lost resumes from its last checkpoint."""
    if not isinstance(data, dict):
        return data
    sampler = data.get("sampler")
    kind = sampler.get("type") if isinstance(sampler, Mapping) else sampler
    if kind != PBT:
        return data
    data = dict(data)
    data.setdefault("pruner", "none")
    control = data.get("control")
    if control is None:
        data["control"] = {"retries": 2}
    elif isinstance(control, Mapping) and "retries" not in control:
        data["control"] = {**control, "retries": 2}
    return data


def mutable_names(spec: StudySpec, space: SearchSpace) -> tuple[list[str], list[str]]:
    """The searched parameters a member may change during training, and those drawn once."""
    algorithm = spec.train.algorithm or ""
    allowed = MUTABLE.get(algorithm, frozenset())
    mutable: list[str] = []
    fixed: list[str] = []
    for name, param in space.params.items():
        if param.is_fixed or param.source:
            continue
        (mutable if param.setting in allowed else fixed).append(name)
    return mutable, fixed


def check(spec: StudySpec, space: SearchSpace, *, options_given: bool = True) -> list[Problem]:
    """What is wrong with a PBT study: its options, and a search space or setting PBT cannot
    run. Located by key path; the loader adds lines."""
    if not is_pbt(spec):
        return []
    problems = _option_problems(spec)
    where = ("sampler", "type")
    if spec.pruner.type != "none":
        problems.append(
            Problem(
                ("pruner", "type"),
                f"a PBT study is not pruned: the {spec.pruner.type} pruner would stop members "
                "that PBT is about to replace",
                "remove the pruner block (PBT's default is none), or set pruner: none",
            )
        )
    if spec.train.time_limit is not None:
        problems.append(
            Problem(
                ("train", "time_limit"),
                "a PBT study's segments are not cut short: a member pruned at a time limit "
                "would leave the population",
                "remove train.time_limit, or use another sampler",
            )
        )
    if spec.train.function:
        problems.append(
            Problem(
                ("train", "function"),
                "PBT trains members in segments from rltui's checkpoints, which a "
                "train.function does not write",
                "train an algorithm (train.algorithm) or use another sampler",
            )
        )
    if space.grid:
        name = next(iter(space.grid))
        problems.append(
            Problem(
                ("search_space", name),
                "a grid does not mix with PBT: its members draw their values at random",
                "give a range or a list of choices instead of a grid",
            )
        )
    if spec.train.algorithm is None or problems or not space.params:
        return problems
    mutable, fixed = mutable_names(spec, space)
    algorithm = spec.train.algorithm
    if not mutable:
        allowed = ", ".join(sorted(MUTABLE.get(algorithm, ()))) or "none"
        problems.append(
            Problem(
                where,
                f"nothing in the search space can change during training, so PBT would only "
                f"copy weights: {algorithm} can change {allowed}",
                "search at least one of those, or use another sampler",
            )
        )
    for name in mutable:
        param = space.params[name]
        if any(schedules.read(v) is not None for v in param.values() if isinstance(v, str)):
            problems.append(
                Problem(
                    ("search_space", name),
                    f"'{name}' lists schedules, which PBT cannot perturb",
                    "search plain numbers: PBT's own changes make the schedule",
                )
            )
    if fixed:
        problems.append(
            Problem(
                where,
                f"drawn once per member and never changed: {', '.join(fixed)} (they cannot "
                "change during training)",
                severity="note",
            )
        )
    if "n_trials" in spec.model_fields_set:
        problems.append(
            Problem(
                ("n_trials",),
                "a PBT study's trials are its members' segments: n_trials is not used",
                "set sampler.population and train.timesteps instead",
                severity="note",
            )
        )
    return problems


def _option_problems(spec: StudySpec) -> list[Problem]:
    raw = spec.sampler.options
    problems = []

    def bad(option: str, message: str, hint: str) -> None:
        problems.append(Problem(("sampler", option), message, hint))

    population = raw.get("population", PbtOptions.population)
    if not _whole(population) or population < 2:
        bad(
            "population",
            f"population must be a whole number of 2 or more, not {population!r}",
            "a population of 4 to 32 is usual",
        )
    interval = raw.get("interval")
    every = spec.train.eval_every
    if interval is not None:
        if not _whole(interval) or interval < 1:
            bad(
                "interval",
                f"interval must be a whole number of timesteps, not {interval!r}",
                f"for example {every * 2}",
            )
        elif interval % every:
            bad(
                "interval",
                f"interval {interval:,} is not a multiple of train.eval.every "
                f"({every:,}): members are ranked on the evaluation at each segment's end",
                f"use {max(every, round(interval / every) * every):,}",
            )
        elif interval >= spec.train.timesteps:
            bad(
                "interval",
                f"interval {interval:,} is not below train.timesteps "
                f"({spec.train.timesteps:,}): the members would never exploit",
                "a tenth to a fiftieth of the budget is usual",
            )
    quantile = raw.get("quantile", PbtOptions.quantile)
    if not _number(quantile) or not 0 < quantile <= 0.5:
        bad(
            "quantile",
            f"quantile must be a number above 0 and at most 0.5, not {quantile!r}",
            "0.25: the bottom quarter copies the top quarter",
        )
    perturb = raw.get("perturb", PbtOptions.perturb)
    factors = perturb if isinstance(perturb, list | tuple) else None
    if not factors or not all(_number(f) and f > 0 for f in factors):
        bad(
            "perturb",
            f"perturb must be a list of positive factors, not {perturb!r}",
            "for example [0.8, 1.2]",
        )
    chance = raw.get("resample_probability", PbtOptions.resample_probability)
    if not _number(chance) or not 0 <= chance <= 1:
        bad(
            "resample_probability",
            f"resample_probability must be from 0 to 1, not {chance!r}",
            "0.25: one change in four draws anew",
        )
    explore = raw.get("explore", PbtOptions.explore)
    if explore not in EXPLORES:
        bad(
            "explore",
            f"explore must be perturb or pb2, not {explore!r}",
            "perturb: PBT's random factors; pb2: a Gaussian-process bandit (PB2)",
        )
    seed = raw.get("seed")
    if seed is not None and not _whole(seed):
        bad("seed", f"seed must be a whole number, not {seed!r}", "for example 0")
    return problems


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
