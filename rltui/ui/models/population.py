"""A PBT study's population as the window shows it: one row per member, the lineage of who
copied whom, and each member's joined reward curve.

Built from a snapshot's rows in one pass (grouped by member, then each member's few segments
sorted), so that a study of many thousand segments stays cheap. A member's segments join into
one curve at its own timesteps; a segment that starts before the previous one ended (an
exploit copied a checkpoint from behind, or a retry) replaces what the member had trained past
its start, so the curve is the training the member's weights went through.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow
from rltui.search.segments import Segment, Settings

# What a member is doing, from its latest segment and the window's settings.
TRAINING, WAITING, PAUSED, FINISHED, RETIRED, FAILED, STOPPED = (
    "training",
    "waiting",
    "paused",
    "finished",
    "retired",
    "failed",
    "stopped",
)
_STATE_OF = {
    TrialStatus.RUNNING: TRAINING,
    TrialStatus.WAITING: WAITING,
    TrialStatus.PAUSED: PAUSED,
    TrialStatus.FAIL: FAILED,
    TrialStatus.PRUNED: STOPPED,
}
LINEAGE_WIDTH = 78
RUN_SHOWN = 8  # plain segment ends shown in a row; a longer run shows its first and last two
PERTURB_STEP = 0.1  # how far [ and ] move each factor towards or away from 1
PERTURB_SPREAD = (0.05, 0.9)  # the nearest to and furthest from 1 a factor may be moved
_NBSP = "\u00a0"  # glues the words of one lineage step together while the lines are wrapped


@dataclass(frozen=True)
class Exploit:
    """A segment that copied another member's checkpoint."""

    step: int  # the member's timesteps when it copied (where its own training stopped)
    start: int  # the donor's timesteps its next segment starts from
    donor: int
    explore: dict[str, str]
    trial: int


@dataclass(frozen=True)
class MemberCurve:
    """A member's joined curve, and where its exploits are on it: (start, value) each."""

    member: int
    points: tuple[tuple[int, float], ...]
    marks: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class MemberRow:
    """One member as the population table shows it."""

    member: int
    state: str
    timesteps: int
    latest: float | None  # its latest finished segment's value (what PBT ranks it on)
    best: float | None  # its best finished segment's value
    exploits: int
    frozen: bool
    forced: int | None  # the member it copies at its next segment end, as the user asked
    params: dict[str, Any]
    trial: int  # its latest segment's trial number
    why: str | None = None  # why it was retired


@dataclass(frozen=True)
class Population:
    """Everything the population view shows, from one snapshot."""

    members: tuple[MemberRow, ...]  # best first
    lineage: tuple[str, ...]
    curves: dict[int, MemberCurve]
    param_names: tuple[str, ...]
    exploits: dict[int, tuple[Exploit, ...]] = field(default_factory=dict)

    def member(self, member: int) -> MemberRow | None:
        return next((m for m in self.members if m.member == member), None)


def build(
    rows: Iterable[TrialRow],
    settings: Settings,
    total: int,
    maximize: bool,
    width: int = LINEAGE_WIDTH,
) -> Population:
    """The population from a snapshot's ``rows`` (those without a segment are left out),
    with ``settings`` in force and ``total`` timesteps a member's budget."""
    grouped: dict[int, list[tuple[Segment, TrialRow]]] = {}
    for row in rows:
        if row.segment is not None:
            grouped.setdefault(row.segment.member, []).append((row.segment, row))
    members: list[MemberRow] = []
    lineage: list[str] = []
    curves: dict[int, MemberCurve] = {}
    exploits: dict[int, tuple[Exploit, ...]] = {}
    names: set[str] = set()
    for member in sorted(grouped):
        found = sorted(grouped[member], key=lambda sr: (sr[0].index, sr[1].number))
        copied = tuple(_exploits(found))
        curve = _joined(member, found, copied)
        shown = _member_row(member, found, copied, settings, total, maximize)
        members.append(shown)
        names.update(shown.params)
        lineage.extend(_lineage(member, found, shown, width))
        curves[member], exploits[member] = curve, copied
    return Population(
        members=tuple(sorted(members, key=lambda m: _rank_key(m, maximize))),
        lineage=tuple(lineage),
        curves=curves,
        param_names=tuple(sorted(names)),
        exploits=exploits,
    )


def _rank_key(row: MemberRow, maximize: bool) -> tuple[int, float, int]:
    if row.latest is None or math.isnan(row.latest):
        return (1, 0.0, row.member)
    return (0, -row.latest if maximize else row.latest, row.member)


def _exploits(found: Sequence[tuple[Segment, TrialRow]]) -> Iterable[Exploit]:
    reached = 0  # the member's own timesteps before each segment
    for segment, row in found:
        if segment.donor is not None:
            yield Exploit(
                max(reached, segment.start),
                segment.start,
                segment.donor,
                segment.explore,
                row.number,
            )
        if row.status == TrialStatus.COMPLETE:
            reached = segment.end


def _joined(
    member: int, found: Sequence[tuple[Segment, TrialRow]], copied: Sequence[Exploit]
) -> MemberCurve:
    points: list[tuple[int, float]] = []
    marks = []
    copied_at = {e.trial for e in copied}
    for segment, row in found:
        while points and points[-1][0] > segment.start:
            points.pop()  # trained past this segment's start, then replaced
        if row.number in copied_at:
            at = points[-1][1] if points else next((v for _, v in row.curve), None)
            if at is not None:
                marks.append((segment.start, at))
        points.extend(
            (step, value) for step, value in row.curve if step > segment.start or segment.index == 0
        )
    return MemberCurve(member, tuple(points), tuple(marks))


def _member_row(
    member: int,
    found: Sequence[tuple[Segment, TrialRow]],
    copied: Sequence[Exploit],
    settings: Settings,
    total: int,
    maximize: bool,
) -> MemberRow:
    segment, row = found[-1]
    values = [
        r.value
        for _, r in found
        if r.status == TrialStatus.COMPLETE and r.value is not None and not math.isnan(r.value)
    ]
    latest = next((r.value for _, r in reversed(found) if r.status == TrialStatus.COMPLETE), None)
    if row.status == TrialStatus.COMPLETE:
        timesteps = segment.end
    elif row.status == TrialStatus.RUNNING:
        timesteps = max(segment.start, row.timesteps)
    else:
        timesteps = segment.start
    return MemberRow(
        member=member,
        state=_state(member, segment, row, settings, total),
        timesteps=timesteps,
        latest=latest,
        best=(max(values) if maximize else min(values)) if values else None,
        exploits=len(copied),
        frozen=member in settings.frozen,
        forced=settings.force.get(member),
        params=dict(row.params),
        trial=row.number,
        why=settings.retired.get(member),
    )


def _state(member: int, segment: Segment, row: TrialRow, settings: Settings, total: int) -> str:
    if member in settings.retired and row.status.is_finished:
        return RETIRED
    if row.status == TrialStatus.COMPLETE:
        return FINISHED if segment.end >= total else WAITING  # its next segment is on its way
    return _STATE_OF[row.status]


def _lineage(
    member: int, found: Sequence[tuple[Segment, TrialRow]], row: MemberRow, width: int
) -> list[str]:
    """The member's training as one wrapped line of steps: ``─ 2,048`` for each segment it
    finished, ``← m3 @4,096 (explore)`` where it copied another member, ``┄ 8,192`` for the
    segment it is on, then its state."""
    steps: list[str] = []
    run: list[str] = []  # plain segment ends since the last exploit

    def flush() -> None:
        if len(run) > RUN_SHOWN:
            steps.extend([run[0], f"─ …{len(run) - 3} more", *run[-2:]])
        else:
            steps.extend(run)
        run.clear()

    last = len(found) - 1
    for i, (segment, trial) in enumerate(found):
        if segment.donor is not None:
            flush()
            steps.append(f"← m{segment.donor} @{segment.start:,}")
            changes = [f"{k} {v}," for k, v in sorted(segment.explore.items())]
            if changes:  # one word each, so that lines break between them
                changes[0], changes[-1] = "(" + changes[0], changes[-1][:-1] + ")"
                steps.extend(changes)
        if trial.status == TrialStatus.COMPLETE:
            run.append(f"─ {segment.end:,}")
        elif i == last and not trial.status.is_finished:
            run.append(f"┄ {segment.end:,}")
    flush()
    state = row.state
    if row.why:  # pbt's own reason starts with the word already
        state = row.why if row.why.startswith(RETIRED) else f"{RETIRED}: {row.why}"
    flags = " · frozen" if row.frozen else ""
    if row.forced is not None:
        flags += f" · copies m{row.forced} next"
    words = [f"m{member}", *(s.replace(" ", _NBSP) for s in steps), "·", state + flags]
    text = " ".join(words)
    lines = textwrap.wrap(
        text,
        width=max(20, width),
        subsequent_indent="    ",
        break_on_hyphens=False,
    )
    return [line.replace(_NBSP, " ") for line in lines]


def moved_factors(factors: Sequence[float], wider: bool) -> tuple[float, ...]:
    """``factors`` moved ``PERTURB_STEP`` away from 1 (``wider``) or towards it, each kept
    between ``PERTURB_SPREAD`` from 1 (so positive, and around 1); 1 stays 1."""
    near, far = PERTURB_SPREAD
    moved = []
    for factor in factors:
        spread = abs(factor - 1)
        if spread < 1e-9:
            moved.append(1.0)
            continue
        spread = spread + PERTURB_STEP if wider else spread - PERTURB_STEP
        spread = min(max(spread, near), far)
        moved.append(round(1 + math.copysign(spread, factor - 1), 2))
    return tuple(moved)


def grown(size: int, more: bool) -> int:
    """The population one member larger or smaller; never below 2."""
    return size + 1 if more else max(2, size - 1)
