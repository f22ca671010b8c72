"""Study events: what happened between two reads of a study that the user did not ask for.

Workers leave (the study drains, the budget is spent), are ended (training that ignored a
prune), or are lost; a lost worker's trial is retried or failed; the budget is reached; a
worker waits for space on a full disk (its trial back in the queue). None of these answers a
key the user pressed, so each is told once.

Events are derived, not stored: :func:`events_between` compares the previous snapshot with the
current one, so an event is reported exactly when its change is first seen, and never again.
Everything it reads is written by the workers and reapers (see :mod:`rltui.search.workers` for
the worker records' ``reason`` and ``trial_outcome``).

When the study has just been opened there is no previous snapshot, and nothing is reported:
the history of a long study would bury the screen, and what is still true is already shown
where it belongs (lost and exited workers in the workers view with their reasons, failed
trials in the table with their errors, the budget in the status bar).

Pure Python, beside the reader whose snapshots it compares: the window notifies each event
and lists it in its events pane; `rltui run` prints it under its live table.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from rltui.search import endings
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.search.segments import RETIRED, Segment
from rltui.search.workers import WorkerRecord
from rltui.spec.wording import counted, verb

Severity = Literal["information", "warning", "error"]

# Kinds of events; each is also the notification's title, capitalised.
WORKER_EXITED = "worker exited"
WORKER_ENDED = "worker ended"
WORKER_LOST = "worker lost"
TRIAL_RETRIED = "trial retried"
TRIAL_FAILED = "trial failed"
BUDGET_REACHED = "budget reached"
TARGET_REACHED = "target reached"
MEMBER_COPIED = "member copied"  # a PBT member exploited another
MEMBER_RETIRED = "member retired"
# Events that are a study's routine: listed, never popped up (a population of 16 copies
# every few seconds; the population view shows the lineage).
ROUTINE = frozenset({MEMBER_COPIED})
DISK_FULL = endings.DISK_FULL

# How the operating system words a full disk (ENOSPC; errno 28 on Linux and macOS).
_DISK_FULL_SIGNS = ("No space left on device", "[Errno 28]")
_FINISHED = (TrialStatus.COMPLETE, TrialStatus.PRUNED, TrialStatus.FAIL)
_FREE_SPACE = "free space on that disk, then start the workers again"


@dataclass(frozen=True)
class StudyEvent:
    """One event: when it was seen, its kind (one of this module's constants), how much it
    matters, and one line of plain text (never Rich markup: it quotes workers and errors)."""

    time: float
    kind: str
    severity: Severity
    text: str

    @property
    def title(self) -> str:
        """The notification title: the kind, capitalised."""
        return self.kind[:1].upper() + self.kind[1:]


def events_between(
    previous: Snapshot | None, current: Snapshot, n_trials: int | None
) -> list[StudyEvent]:
    """The events that happened between ``previous`` and ``current``, two snapshots of the
    same study, oldest concern first: workers, then trials, then the budget.

    ``n_trials`` is the study's trial budget (None: no budget). With ``previous`` None (the
    study was just opened, or another study was) there are none; see the module docstring.
    """
    if previous is None:
        return []
    at = current.read_at
    return [
        *_worker_events(previous, current, at),
        *_trial_events(previous, current, at),
        *_population_events(previous, current, at),
        *_budget_events(previous, current, n_trials, at),
    ]


def _worker_events(previous: Snapshot, current: Snapshot, at: float) -> Iterator[StudyEvent]:
    before = {record.id: record for record in previous.workers}
    for record in current.workers:
        was = before.get(record.id)
        # A record new since the previous read counts too: a worker that joined a draining
        # study leaves within a second, before the UI has ever seen it alive.
        if not record.alive and (was is None or was.alive):
            yield _ended(record, at)
        elif was is not None and was.state == "lost" and record.state == "exited":
            # Declared lost while it was silent (stopped, frozen): it ran again, and left.
            text = f"worker {record.id} on {record.host} {record.reason or 'exited'}"
            yield StudyEvent(at, WORKER_EXITED, "information", text)
        elif _met_a_full_disk(record) and (was is None or was.reason != record.reason):
            yield _disk_full_met(record, at)
        if record.trial_outcome and (was is None or not was.trial_outcome):
            yield _trial_outcome(record, at)


def _ended(record: WorkerRecord, at: float) -> StudyEvent:
    reason = record.reason
    if record.state == "lost":
        text = f"worker {record.id} on {record.host} {reason or 'lost'}"
        return StudyEvent(at, WORKER_LOST, "warning", text)
    if reason is None:  # written by a worker from before records said why
        return StudyEvent(at, WORKER_EXITED, "information", f"worker {record.id} exited")
    text = f"worker {record.id} on {record.host} {reason}"
    if _disk_full(reason):
        return StudyEvent(at, DISK_FULL, "error", f"{text}; {_FREE_SPACE}")
    if reason.startswith("ended"):
        return StudyEvent(at, WORKER_ENDED, "warning", text)
    return StudyEvent(at, WORKER_EXITED, "information", text)


def _trial_outcome(record: WorkerRecord, at: float) -> StudyEvent:
    trial = "its trial" if record.trial is None else f"trial {record.trial}"
    text = f"{trial} {record.trial_outcome} (worker {record.id} lost)"
    if record.trial_retried:
        return StudyEvent(at, TRIAL_RETRIED, "warning", text)
    return StudyEvent(at, TRIAL_FAILED, "error", text)


def _trial_events(previous: Snapshot, current: Snapshot, at: float) -> Iterator[StudyEvent]:
    if current.rows is previous.rows:  # the reader reuses the rows while nothing changed
        return
    earlier = previous.rows
    reached = None
    for number, row in current.rows.items():
        was = earlier.get(number)
        # Unchanged trials keep their row object: an identity test skips them cheaply.
        if was is row:
            continue
        if was is None and row.segment is not None and row.segment.donor is not None:
            yield _copied(row.segment, at)
        if row.target is not None and (was is None or was.target is None):
            if reached is None:
                reached = sum(r.target is not None for r in current.rows.values())
            value = "-" if row.value is None else f"{row.value:.4g}"
            text = (
                f"trial {number} reached the target at {row.target:,} timesteps, value "
                f"{value} ({counted(reached, 'trial')} {verb(reached, 'has', 'have')})"
            )
            yield StudyEvent(at, TARGET_REACHED, "information", text)
        if row.status != TrialStatus.FAIL:
            continue
        if was is not None and was.status == TrialStatus.FAIL:
            continue
        if _disk_full(row.error) or _disk_full(row.traceback):
            yield StudyEvent(at, DISK_FULL, "error", _disk_full_text(row))


def _copied(segment: Segment, at: float) -> StudyEvent:
    """A PBT member copied another: its next segment, starting from that member's, appeared."""
    changes = ", ".join(f"{k} {v}" for k, v in segment.explore.items()) or "no change"
    return StudyEvent(
        at,
        MEMBER_COPIED,
        "information",
        f"member {segment.member} copies member {segment.donor} at {segment.start:,} "
        f"timesteps (trial {segment.parent}) and explores: {changes}",
    )


def _population_events(previous: Snapshot, current: Snapshot, at: float) -> Iterator[StudyEvent]:
    """A PBT member that retired (a member's copies are told with the trials)."""
    for key, why in current.population.items():
        if key.startswith(RETIRED) and key not in previous.population:
            text = f"member {key[len(RETIRED) :]} {why}"
            yield StudyEvent(at, MEMBER_RETIRED, "information", text)


def _met_a_full_disk(record: WorkerRecord) -> bool:
    """A live worker whose record says it waits for space on a full disk, or waited (the
    storage may be on that disk: then only the second is ever written)."""
    return record.alive and DISK_FULL in (record.reason or "")


def _disk_full_met(record: WorkerRecord, at: float) -> StudyEvent:
    who = f"worker {record.id} on {record.host}"
    if (record.reason or "").startswith("waiting"):
        text = (
            f"{who} is {record.reason}: its trial went back to the queue to resume from its "
            "checkpoint; free space there and the study goes on by itself"
        )
        return StudyEvent(at, DISK_FULL, "error", text)
    text = f"{who} went on after a {record.reason}; free space there before it fills again"
    return StudyEvent(at, DISK_FULL, "warning", text)


def _disk_full(text: str | None) -> bool:
    return text is not None and any(sign in text for sign in _DISK_FULL_SIGNS)


def _disk_full_text(row: TrialRow) -> str:
    where = f" on worker {row.worker}" if row.worker else ""
    said = (row.error or "").strip().splitlines()
    detail = f": {said[-1]}" if said else ""
    return (
        f"trial {row.number} failed{where} because the disk is full{detail}; "
        f"free space on the disk that holds the study's storage and checkpoints, "
        "then enqueue the trial again"
    )


def _budget_events(
    previous: Snapshot, current: Snapshot, n_trials: int | None, at: float
) -> Iterator[StudyEvent]:
    if not n_trials:
        return
    done_before = sum(previous.counts[status] for status in _FINISHED)
    counts = current.counts
    done = sum(counts[status] for status in _FINISHED)
    if done_before < n_trials <= done:
        split = ", ".join(
            f"{counts[status]} {status.value.lower()}" for status in _FINISHED if counts[status]
        )
        yield StudyEvent(
            at,
            BUDGET_REACHED,
            "information",
            f"the budget of {n_trials} trials is reached ({split}); "
            "raise n_trials in the study file to run more",
        )


def clock(event: StudyEvent) -> str:
    """The event's time of day as the events pane shows it (local time, to the second)."""
    return time.strftime("%H:%M:%S", time.localtime(event.time))
