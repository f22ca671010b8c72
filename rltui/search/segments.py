"""A PBT study's records in the storage: each trial a segment of one member, and the settings
the window changes while the population trains.

A segment is one Optuna trial: it trains one member from ``start`` to ``end`` timesteps with
one set of hyperparameters (the trial's parameters), from the checkpoint its ``parent`` trial
ended with (none for a member's first segment). ``donor`` names the member whose checkpoint it
copied when it exploited (None when the member went on with its own), and ``explore`` what
became of each parameter that may change (``x1.2``, ``resampled``, ``4 -> 8``). Its
intermediate values are at the member's own timesteps, so a member's segments join into one
curve. The record is a system attribute (rltui reads it) and is copied into user attributes
(``pbt_member``, ``pbt_parent``, ...) for optuna-dashboard and ``trials_dataframe()``.

The settings the window changes are study attributes, one per fact, so that two writers never
rewrite each other's: a frozen member (never replaced, never perturbed), an exploit forced at a
member's next segment end, the population's size and the perturbation factors. Each one
overrides the study file's value while it is set.

Everything read here may have been written by anyone who can write the storage: a record that
does not have the expected shape reads as no record, never as an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from rltui.search import attrs
from rltui.spec.pbt import PbtOptions

if TYPE_CHECKING:
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial

SEGMENT = attrs.PREFIX + "pbt_segment"
FROZEN = attrs.PREFIX + "pbt_frozen:"  # + member: true while the member is frozen
FORCE = attrs.PREFIX + "pbt_force:"  # + member: the member to copy at its next segment end
RETIRED = attrs.PREFIX + "pbt_retired:"  # + member: why it stopped before its budget
POPULATION = attrs.PREFIX + "pbt_population"
PERTURB = attrs.PREFIX + "pbt_perturb"
USER_PREFIX = "pbt_"


@dataclass(frozen=True)
class Segment:
    """One trial's place in its member's training."""

    member: int
    index: int  # 0 for the member's first segment
    start: int
    end: int
    parent: int | None = None  # the trial whose end checkpoint it starts from
    previous: int | None = None  # the member's segment before it (its parent, unless copied)
    donor: int | None = None  # the member it copied, when it exploited
    explore: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # the parent's end checkpoint, which it copies before training
    checkpoint: str | None = None  # its own end checkpoint, once it ended

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def read(cls, record: Any) -> Segment | None:
        """The segment a stored record describes; None for anything else."""
        if not isinstance(record, Mapping):
            return None
        try:
            whole = {k: record[k] for k in ("member", "index", "start", "end")}
            if not all(_whole(v) and v >= 0 for v in whole.values()):
                return None
            parent, donor = record.get("parent"), record.get("donor")
            previous = record.get("previous")
            explore = record.get("explore") or {}
            if not all(v is None or _whole(v) for v in (parent, donor, previous)):
                return None
            if not isinstance(explore, Mapping):
                return None
            source, checkpoint = record.get("source"), record.get("checkpoint")
            if not all(v is None or isinstance(v, str) for v in (source, checkpoint)):
                return None
            return cls(
                **whole,
                parent=parent,
                previous=previous,
                donor=donor,
                explore={str(k): str(v) for k, v in explore.items()},
                source=source,
                checkpoint=checkpoint,
            )
        except KeyError:
            return None

    def user_attrs(self) -> dict[str, Any]:
        """The record as optuna-dashboard shows it."""
        return {
            f"{USER_PREFIX}member": self.member,
            f"{USER_PREFIX}segment": self.index,
            f"{USER_PREFIX}steps": f"{self.start}-{self.end}",
            f"{USER_PREFIX}parent": self.parent,
            f"{USER_PREFIX}donor": self.donor,
            f"{USER_PREFIX}explore": ", ".join(f"{k} {v}" for k, v in self.explore.items()),
        }

    def ended_with(self, checkpoint: str) -> Segment:
        return replace(self, checkpoint=checkpoint)


def segment_of(trial: FrozenTrial) -> Segment | None:
    return Segment.read(trial.system_attrs.get(SEGMENT))


def waiting_trial(
    segment: Segment,
    params: dict[str, Any],
    distributions: dict[str, Any],
    system_attrs: dict[str, Any] | None = None,
) -> FrozenTrial:
    """A WAITING trial for ``segment`` with its parameters, to create with the storage's
    ``create_new_trial(study_id, template_trial=...)``: the record and its copy for other
    tools are part of the trial from its first line in the storage."""
    from optuna.trial import FrozenTrial, TrialState

    return FrozenTrial(
        number=-1,
        state=TrialState.WAITING,
        value=None,
        datetime_start=None,
        datetime_complete=None,
        params=params,
        distributions=distributions,
        user_attrs=segment.user_attrs(),
        system_attrs={**(system_attrs or {}), SEGMENT: segment.record()},
        intermediate_values={},
        trial_id=-1,
    )


def write(storage: BaseStorage, trial_id: int, segment: Segment) -> None:
    """Record ``segment`` on the trial, and its copy for other tools."""
    storage.set_trial_system_attr(trial_id, SEGMENT, segment.record())
    for key, value in segment.user_attrs().items():
        storage.set_trial_user_attr(trial_id, key, value)


@dataclass(frozen=True)
class Settings:
    """The population's settings in force: the study file's, with the window's overrides."""

    population: int
    interval: int
    quantile: float
    perturb: tuple[float, ...]
    resample_probability: float
    seed: int | None
    explore: str = "perturb"
    frozen: frozenset[int] = frozenset()
    force: Mapping[int, int] = field(default_factory=dict)
    retired: Mapping[int, str] = field(default_factory=dict)


def settings(options: PbtOptions, system: Mapping[str, Any]) -> Settings:
    """``options`` (the study file's) with the overrides among the study's attributes."""
    population: Any = system.get(POPULATION)
    perturb: Any = system.get(PERTURB)
    good_perturb = isinstance(perturb, list) and perturb and all(_positive(f) for f in perturb)
    return Settings(
        population=population if _whole(population) and population >= 1 else options.population,
        interval=options.interval,
        quantile=options.quantile,
        perturb=tuple(float(f) for f in perturb) if good_perturb else options.perturb,
        resample_probability=options.resample_probability,
        seed=options.seed,
        explore=options.explore,
        frozen=frozenset(_members(system, FROZEN, lambda v: v is True)),
        force={m: v for m, v in _members(system, FORCE, _whole).items()},
        retired={m: str(v) for m, v in _members(system, RETIRED, bool).items()},
    )


def population_attrs(system: Mapping[str, Any]) -> dict[str, Any]:
    """The study attributes :func:`settings` reads, and nothing else."""
    prefixes = (FROZEN, FORCE, RETIRED, POPULATION, PERTURB)
    return {k: v for k, v in system.items() if k.startswith(prefixes)}


def _members(system: Mapping[str, Any], prefix: str, keep: Any) -> dict[int, Any]:
    found = {}
    for key, value in system.items():
        if key.startswith(prefix) and key[len(prefix) :].isdigit() and keep(value):
            found[int(key[len(prefix) :])] = value
    return found


def set_frozen(storage: BaseStorage, study_id: int, member: int, frozen: bool) -> None:
    storage.set_study_system_attr(study_id, f"{FROZEN}{member}", True if frozen else None)


def force_exploit(storage: BaseStorage, study_id: int, member: int, donor: int | None) -> None:
    """Make ``member`` copy ``donor`` at its next segment end (None: no longer)."""
    storage.set_study_system_attr(study_id, f"{FORCE}{member}", donor)


def retire(storage: BaseStorage, study_id: int, member: int, why: str) -> None:
    storage.set_study_system_attr(study_id, f"{RETIRED}{member}", why)


def set_population(storage: BaseStorage, study_id: int, size: int) -> None:
    storage.set_study_system_attr(study_id, POPULATION, int(size))


def set_perturb(storage: BaseStorage, study_id: int, factors: Iterable[float]) -> None:
    storage.set_study_system_attr(study_id, PERTURB, [float(f) for f in factors])


@dataclass(frozen=True)
class Member:
    """One member's segments, oldest first, each with its trial."""

    id: int
    segments: tuple[tuple[FrozenTrial, Segment], ...]

    @property
    def latest(self) -> tuple[FrozenTrial, Segment]:
        return self.segments[-1]

    def latest_complete(self) -> tuple[FrozenTrial, Segment] | None:
        from optuna.trial import TrialState

        done = [(t, s) for t, s in self.segments if t.state == TrialState.COMPLETE]
        return done[-1] if done else None


def members(trials: Iterable[FrozenTrial]) -> dict[int, Member]:
    """The study's members by id, from its trials' segment records."""
    grouped: dict[int, list[tuple[FrozenTrial, Segment]]] = {}
    for trial in trials:
        segment = segment_of(trial)
        if segment is not None:
            grouped.setdefault(segment.member, []).append((trial, segment))
    return {
        member: Member(member, tuple(sorted(found, key=lambda ts: (ts[1].index, ts[0].number))))
        for member, found in sorted(grouped.items())
    }


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive(value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value) and value > 0


@dataclass(frozen=True)
class Stretch:
    """Timesteps ``start`` to ``end`` of a member's training, trained by ``trial`` (of
    ``member``) with its parameters."""

    start: int
    end: int
    trial: int
    member: int
    params: dict[str, Any]


def schedule(trials: Iterable[FrozenTrial], last: FrozenTrial) -> list[Stretch]:
    """What trained the weights ``last`` ended with, from the first timestep: ``last`` and its
    parents, through every exploit (a copied checkpoint's history is its donor's), each for the
    timesteps it trained before its child started from it. Empty when ``last`` is no segment."""
    by_number = {t.number: t for t in trials}
    out: list[Stretch] = []
    trial: FrozenTrial | None = last
    until: int | None = None
    seen: set[int] = set()
    while trial is not None and trial.number not in seen:
        seen.add(trial.number)
        segment = segment_of(trial)
        if segment is None:
            break
        end = segment.end if until is None else min(segment.end, until)
        if end > segment.start:
            out.append(
                Stretch(segment.start, end, trial.number, segment.member, dict(trial.params))
            )
        until = segment.start
        trial = by_number.get(segment.parent) if segment.parent is not None else None
    return out[::-1]


class _Segmented(Protocol):
    """A trial as a row or as Optuna's FrozenTrial: what :func:`best_final` reads."""

    @property
    def number(self) -> int: ...

    @property
    def value(self) -> float | None: ...


T = TypeVar("T", bound=_Segmented)


def best_final(trials: Iterable[tuple[T, Segment, bool]], total: int, maximize: bool) -> T | None:
    """The last segment of the best member that trained its whole budget, among ``(trial,
    its segment, whether it is COMPLETE)``; None when no member has. A member's best segment
    along the way is no agent anyone has: its weights trained on."""
    final = [t for t, s, done in trials if done and t.value is not None and s.end >= total]
    if not final:
        return None
    sign = 1.0 if maximize else -1.0
    return max(final, key=lambda t: (sign * float(t.value or 0.0), -t.number))


def counts(segments: Iterable[Segment]) -> dict[str, int]:
    """A population's members, segments and exploits."""
    found = list(segments)
    return {
        "members": len({s.member for s in found}),
        "segments": len(found),
        "exploits": sum(s.donor is not None for s in found),
    }
