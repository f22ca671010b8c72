"""Population-Based Training's decisions: which member starts next, and what a member does
after each segment (go on, copy a stronger member and perturb, or stop).

Asynchronous, as Ray Tune's PBT is: a member is ranked when its own segment ends, against the
other members' latest finished segments, whatever their timesteps. A member in the bottom
``quantile`` copies a member of the top ``quantile`` chosen at random (exploit): the next
segment starts from that member's end checkpoint, with its parameters, and each parameter
that may change during training is multiplied by one of the ``perturb`` factors (clipped to
its range; a list of choices moves one place) or, with ``resample_probability``, drawn anew
from the search space (explore); with ``explore: pb2`` a Gaussian-process bandit chooses the
numeric ones instead (:mod:`rltui.search.pb2`). The donor's checkpoint may be behind the
member's (its next segment still trains): the member then goes on from the donor's timesteps,
as Ray Tune's PBT does, and trains those timesteps again. The window's settings come first:
a frozen member is never replaced nor perturbed, a forced exploit copies the member the user
named, and a population made smaller retires its weakest members as their segments end.

Each next segment is a new WAITING trial (:func:`enqueue`) with its parameters and segment
record; the worker that claims it copies the checkpoint it starts from into its own folder.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rltui.search import attrs
from rltui.search.queue import QUEUE_PRIORITY
from rltui.search.segments import (
    Member,
    Segment,
    Settings,
    members,
    segment_of,
    waiting_trial,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial


def next_member(found: Mapping[int, Member], settings: Settings) -> int | None:
    """The id of a member to start now, or None when the population is full. Members that
    finished or failed still count; retired ones do not, so a grown population refills."""
    live = [m for m in found if m not in settings.retired]
    if len(live) >= settings.population:
        return None
    return max(found, default=-1) + 1


@dataclass(frozen=True)
class Plan:
    """What a member does after the segment that just ended."""

    source: FrozenTrial | None  # the trial whose end checkpoint the next segment starts from
    ended: Segment | None = None  # its segment, naming that checkpoint
    params: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    explore: dict[str, str] = field(default_factory=dict)
    donor: int | None = None  # the member copied (None: the member goes on with its own)
    retire: str | None = None  # why the member stops here instead


def plan_next(
    trial: FrozenTrial,
    segment: Segment,
    value: float,
    trials: list[FrozenTrial],
    settings: Settings,
    *,
    total: int,
    maximize: bool,
    mutable: frozenset[str],
) -> Plan | None:
    """What the member of ``trial`` (its segment just ended with ``value``) does next; None
    when it has trained its whole budget. ``trials`` is the study as read just now."""
    if segment.end >= total:
        return None
    found = members(trials)
    scores = _scores(found, settings, total, exclude=trial.number)
    scores[segment.member] = value
    rng = random.Random(f"{settings.seed}:{trial.number}")
    own = Plan(trial, segment, dict(trial.params), distributions=dict(trial.distributions))
    active = [m for m in scores if m not in settings.retired]
    if len(active) > settings.population and segment.member not in settings.frozen:
        weakest = _ranked([m for m in active if m not in settings.frozen], scores, maximize)
        if weakest and weakest[0] == segment.member:
            return Plan(
                source=None,
                retire=f"retired: the population was made {settings.population}",
            )
    donor = settings.force.get(segment.member)
    if donor is None and segment.member not in settings.frozen:
        donor = _weak_copies(segment.member, scores, settings.quantile, maximize, rng)
    if donor is None or donor == segment.member or segment.checkpoint is None:
        return own
    best = found.get(donor)
    copied = best.latest_complete() if best is not None else None
    if copied is None or copied[1].checkpoint is None or copied[1].end >= total:
        return own  # nothing to copy from that member (yet, or any more)
    source = copied[0]
    if settings.explore == "pb2":
        from rltui.search import pb2

        params, explore = pb2.explore(
            dict(source.params),
            dict(source.distributions),
            mutable,
            settings,
            rng,
            trials,
            now=copied[1].end,
            total=total,
        )
    else:
        params, explore = perturb(
            dict(source.params), dict(source.distributions), mutable, settings, rng
        )
    return Plan(source, copied[1], params, dict(source.distributions), explore, donor=donor)


def _scores(
    found: Mapping[int, Member], settings: Settings, total: int, *, exclude: int
) -> dict[int, float]:
    """Each member's latest finished segment's value, for members still training."""
    scores = {}
    for member in found.values():
        if member.id in settings.retired:
            continue
        latest = member.latest_complete()
        if latest is None or latest[0].number == exclude or latest[1].end >= total:
            continue
        if latest[0].value is not None and math.isfinite(latest[0].value):
            scores[member.id] = latest[0].value
    return scores


def _ranked(ids: list[int], scores: Mapping[int, float], maximize: bool) -> list[int]:
    """``ids`` from the weakest to the strongest (ties: the older member is stronger)."""
    sign = 1.0 if maximize else -1.0
    return sorted(ids, key=lambda m: (sign * scores[m], -m))


def _weak_copies(
    member: int, scores: Mapping[int, float], quantile: float, maximize: bool, rng: random.Random
) -> int | None:
    """The member ``member`` copies when it is in the bottom quantile; None otherwise."""
    ranked = _ranked(list(scores), scores, maximize)
    count = min(math.ceil(len(ranked) * quantile), len(ranked) // 2)
    if count < 1 or member not in ranked[:count]:
        return None
    return rng.choice(ranked[-count:])


def perturb(
    params: dict[str, Any],
    distributions: Mapping[str, BaseDistribution],
    mutable: frozenset[str],
    settings: Settings,
    rng: random.Random,
) -> tuple[dict[str, Any], dict[str, str]]:
    """``params`` with each mutable one perturbed or drawn anew, always inside its
    distribution; and what became of each (``x1.2``, ``resampled``, ``4 -> 8``)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out, told = dict(params), {}
    for name in sorted(mutable & params.keys()):
        dist = distributions.get(name)
        if dist is None:
            continue
        if rng.random() < settings.resample_probability:
            out[name] = _draw(dist, rng)
            told[name] = "resampled"
            continue
        factor = rng.choice(settings.perturb)
        if isinstance(dist, CategoricalDistribution):
            choices = list(dist.choices)
            here = choices.index(params[name]) if params[name] in choices else 0
            step = 1 if factor > 1 else -1 if factor < 1 else 0
            out[name] = choices[min(max(here + step, 0), len(choices) - 1)]
            moved = out[name] != params[name]
            told[name] = f"{params[name]} -> {out[name]}" if moved else f"kept {out[name]} (end)"
        elif isinstance(dist, FloatDistribution | IntDistribution):
            wanted = float(params[name]) * factor
            value = inside(dist, wanted)
            out[name] = round(value) if isinstance(dist, IntDistribution) else value
            told[name] = f"x{factor:g}" + (f", held at {out[name]:g}" if value != wanted else "")
    return out, told


def inside(dist: Any, value: float) -> float:
    value = min(max(value, dist.low), dist.high)
    if dist.step is not None:
        value = dist.low + round((value - dist.low) / dist.step) * dist.step
        value = min(value, dist.high)
    return value


def _draw(dist: Any, rng: random.Random) -> Any:
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return rng.choice(list(dist.choices))
    if dist.log:
        value = math.exp(rng.uniform(math.log(dist.low), math.log(dist.high)))
    else:
        value = rng.uniform(dist.low, dist.high)
    value = inside(dist, value)
    return round(value) if isinstance(dist, IntDistribution) else value


def successor(trials: list[FrozenTrial], trial: FrozenTrial) -> FrozenTrial | None:
    """The segment already enqueued after ``trial`` (a retried ending must not add another)."""
    for other in trials:
        segment = segment_of(other)
        if segment is not None and segment.previous == trial.number:
            return other
    return None


def enqueue(
    storage: BaseStorage,
    study_id: int,
    plan: Plan,
    after: Segment,
    previous: int,
    *,
    interval: int,
    total: int,
    version: int,
) -> int:
    """Add the member's next segment as a WAITING trial, with its parameters and record;
    returns its trial id."""
    source = plan.ended
    assert plan.source is not None and source is not None and source.checkpoint is not None
    start = source.end
    segment = Segment(
        member=after.member,
        index=after.index + 1,
        start=start,
        end=min(start + interval, total),
        parent=plan.source.number,
        previous=previous,
        donor=plan.donor,
        explore=plan.explore,
        source=source.checkpoint,
    )
    # Workers take the segment furthest behind first, so the members train together.
    system = {attrs.TRIAL_SPEC_VERSION: version, QUEUE_PRIORITY: -start}
    template = waiting_trial(segment, plan.params, plan.distributions, system)
    return storage.create_new_trial(study_id, template_trial=template)


def collectable(trials: list[FrozenTrial], total: int) -> list[FrozenTrial]:
    """Finished segments whose end checkpoints nobody needs any more: not a member's latest
    finished one (a donor, or its own next start), and not the start of a segment that has
    not ended (it copies the checkpoint when a worker claims it)."""
    from optuna.trial import TrialState

    needed = set()
    for trial in trials:
        segment = segment_of(trial)
        if segment is not None and segment.parent is not None and not trial.state.is_finished():
            needed.add(segment.parent)
    for member in members(trials).values():
        latest = member.latest_complete()
        if latest is not None and latest[1].end < total:
            needed.add(latest[0].number)
    return [
        t
        for t in trials
        if t.state == TrialState.COMPLETE and segment_of(t) is not None and t.number not in needed
    ]
