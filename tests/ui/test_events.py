"""Study events: derived from two hand-built snapshots, and shown by the events pane."""

from __future__ import annotations

from dataclasses import replace

import pytest
from optuna.study import StudyDirection
from textual.app import App, ComposeResult

from rltui.search.events import (
    BUDGET_REACHED,
    DISK_FULL,
    TRIAL_FAILED,
    TRIAL_RETRIED,
    WORKER_ENDED,
    WORKER_EXITED,
    WORKER_LOST,
    StudyEvent,
    events_between,
)
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.search.workers import WorkerRecord
from rltui.ui.widgets.events_view import EMPTY, MAX_EVENTS, EventsView

READ_AT = 1_750_000_000.0


def row(number: int, status: TrialStatus, **fields: object) -> TrialRow:
    base = TrialRow(
        number=number,
        trial_id=number + 1,
        status=status,
        value=None,
        params={},
        curve=(),
        timesteps=0,
        total=None,
        started=None,
        completed=None,
        worker="w1",
        error=None,
        traceback=None,
        pending=None,
        spec_version=1,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def worker(worker_id: str = "w1", state: str = "training", **fields: object) -> WorkerRecord:
    base = WorkerRecord(worker_id, "gpu-01", 4242, "cpu", 0.0, 0.0, state=state)
    return replace(base, **fields)  # type: ignore[arg-type]


def snap(
    rows: dict[int, TrialRow] | None = None, workers: list[WorkerRecord] | None = None
) -> Snapshot:
    rows = rows or {}
    return Snapshot(
        study_name="s",
        direction=StudyDirection.MAXIMIZE,
        rows=rows,
        changed=frozenset(rows),
        workers=workers or [],
        spec_version=1,
        draining=False,
        read_at=READ_AT,
    )


def kinds(events: list[StudyEvent]) -> list[str]:
    return [event.kind for event in events]


# -- events_between --------------------------------------------------------------------------


def test_a_just_opened_study_reports_nothing_of_its_history():
    current = snap(
        {0: row(0, TrialStatus.FAIL, error="OSError: [Errno 28] No space left on device")},
        [worker(state="lost", reason="lost: no heartbeat for 9 s", trial_outcome="retried x")],
    )
    assert events_between(None, current, n_trials=1) == []


def test_a_worker_that_leaves_says_why_once():
    leaving = "left: the study is draining"
    before = snap(workers=[worker(state="idle")])
    after = snap(workers=[worker(state="exited", reason=leaving)])
    [event] = events_between(before, after, None)
    assert event == StudyEvent(
        READ_AT, WORKER_EXITED, "information", f"worker w1 on gpu-01 {leaving}"
    )
    assert event.title == "Worker exited"
    assert events_between(after, after, None) == []


def test_a_worker_that_came_and_went_between_two_reads_is_reported():
    # The draining study's newcomer: it joined and left within one poll.
    before = snap(workers=[worker("old", state="idle")])
    after = snap(
        workers=[
            worker("old", state="idle"),
            worker("new", state="exited", reason="left: the study is draining"),
        ]
    )
    [event] = events_between(before, after, None)
    assert event.text == "worker new on gpu-01 left: the study is draining"


def test_a_worker_ended_after_a_grace_is_a_warning():
    reason = (
        "ended: its trial 3's training did not stop within 10 s of a prune, "
        "so its process was ended"
    )
    [event] = events_between(
        snap(workers=[worker()]), snap(workers=[worker(state="exited", reason=reason)]), None
    )
    assert (event.kind, event.severity) == (WORKER_ENDED, "warning")
    assert reason in event.text


def test_an_old_record_without_a_reason_still_reports_its_exit():
    [event] = events_between(snap(workers=[worker()]), snap(workers=[worker(state="exited")]), None)
    assert (event.kind, event.text) == (WORKER_EXITED, "worker w1 exited")


def test_a_lost_worker_and_its_retried_trial_are_two_events_each_told_once():
    lost = worker(
        state="lost", trial=7, reason="lost: no heartbeat for 23 s (declared by worker b)"
    )
    outcome = "retried from its checkpoint at 12,288 timesteps, retry 1 of 2"
    handled = replace(lost, trial_outcome=outcome)
    alive = snap(workers=[worker(trial=7)])
    # The UI may read between the declaration and the retry, or only after both.
    between = events_between(alive, snap(workers=[lost]), None)
    then = events_between(snap(workers=[lost]), snap(workers=[handled]), None)
    at_once = events_between(alive, snap(workers=[handled]), None)
    assert kinds(between) == [WORKER_LOST] and kinds(then) == [TRIAL_RETRIED]
    assert between + then == at_once
    assert at_once[0].text == (
        "worker w1 on gpu-01 lost: no heartbeat for 23 s (declared by worker b)"
    )
    assert at_once[1].text == f"trial 7 {outcome} (worker w1 lost)"
    assert at_once[1].severity == "warning"
    assert events_between(snap(workers=[handled]), snap(workers=[handled]), None) == []


def test_a_lost_workers_trial_that_failed_is_an_error():
    before = snap(workers=[worker(trial=2)])
    after = snap(
        workers=[
            worker(
                state="lost",
                trial=2,
                reason="lost: its process 4242 on host gpu-01 is gone (declared by worker b)",
                trial_outcome="marked FAIL, the study allows no retries",
            )
        ]
    )
    events = events_between(before, after, None)
    assert kinds(events) == [WORKER_LOST, TRIAL_FAILED]
    assert events[1].severity == "error"
    assert events[1].text == "trial 2 marked FAIL, the study allows no retries (worker w1 lost)"


def test_a_trial_failing_on_a_full_disk_is_told_once_with_what_to_do():
    error = "OSError: [Errno 28] No space left on device: '/data/ckpt/trial-4'"
    before = snap({4: row(4, TrialStatus.RUNNING)})
    after = snap({4: row(4, TrialStatus.FAIL, error=error)})
    [event] = events_between(before, after, None)
    assert (event.kind, event.severity) == (DISK_FULL, "error")
    assert "trial 4 failed on worker w1 because the disk is full" in event.text
    assert "/data/ckpt/trial-4" in event.text and "free space" in event.text
    # Read again, or with another trial changing beside it: not told twice.
    later = snap({4: after.rows[4], 5: row(5, TrialStatus.RUNNING)})
    assert events_between(after, later, None) == []


def test_other_failures_are_not_disk_full_events():
    before = snap({4: row(4, TrialStatus.RUNNING)})
    after = snap({4: row(4, TrialStatus.FAIL, error="ValueError: NaN reward")})
    assert events_between(before, after, None) == []


def test_a_worker_ending_on_a_full_disk_is_a_disk_full_event():
    reason = "ended: OSError: [Errno 28] No space left on device"
    [event] = events_between(
        snap(workers=[worker()]), snap(workers=[worker(state="exited", reason=reason)]), None
    )
    assert (event.kind, event.severity) == (DISK_FULL, "error")
    assert event.text.startswith(f"worker w1 on gpu-01 {reason}; free space")


def test_a_worker_waiting_for_space_then_going_on_is_told_once_each():
    waiting = worker(state="idle", reason="waiting: disk full at /d/study.rltui")
    went_on = worker(
        state="idle", reason="disk full at /d/study.rltui for 7 s: its trial went back to the queue"
    )
    [first] = events_between(snap(workers=[worker()]), snap(workers=[waiting]), None)
    assert (first.kind, first.severity) == (DISK_FULL, "error")
    assert "goes on by itself" in first.text
    assert events_between(snap(workers=[waiting]), snap(workers=[waiting]), None) == []
    [second] = events_between(snap(workers=[waiting]), snap(workers=[went_on]), None)
    assert (second.kind, second.severity) == (DISK_FULL, "warning")
    assert second.text.startswith("worker w1 on gpu-01 went on after a disk full at /d/")


@pytest.mark.parametrize("budget", [3, None, 0])
def test_the_budget_is_reached_once(budget):
    two = {0: row(0, TrialStatus.COMPLETE), 1: row(1, TrialStatus.PRUNED)}
    running = snap({**two, 2: row(2, TrialStatus.RUNNING)})
    done = snap({**two, 2: row(2, TrialStatus.FAIL)})
    events = events_between(running, done, budget)
    if not budget:
        assert events == []
        return
    [event] = events
    assert event.kind == BUDGET_REACHED and event.severity == "information"
    assert event.text.startswith("the budget of 3 trials is reached (1 complete, 1 pruned, 1 fail)")
    beyond = snap({**done.rows, 3: row(3, TrialStatus.COMPLETE)})
    assert events_between(done, beyond, budget) == []


# -- the events pane -------------------------------------------------------------------------


class EventsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield EventsView(id="events")


def texts(view: EventsView) -> list[str]:
    return [strip.text.rstrip() for strip in view.lines]


async def test_the_pane_shows_time_and_text_newest_last_and_never_reads_markup():
    async with EventsApp().run_test(size=(120, 10)) as pilot:
        view = pilot.app.query_one(EventsView)
        await pilot.pause()
        assert texts(view) == [EMPTY]
        tricky = "worker [bold]x[/bold] on host [red] left: the study is draining"
        first = StudyEvent(READ_AT, WORKER_EXITED, "information", tricky)
        second = StudyEvent(READ_AT + 5, WORKER_LOST, "warning", "worker y lost")
        view.add([first])
        view.add([second])
        await pilot.pause()
        lines = texts(view)
        assert len(lines) == 2
        assert lines[0].endswith(f" · {tricky}") and lines[1].endswith(" · worker y lost")
        assert lines[0].split(" · ")[0].count(":") == 2  # HH:MM:SS


async def test_severities_take_the_themes_colours():
    async with EventsApp().run_test(size=(120, 10)) as pilot:
        view = pilot.app.query_one(EventsView)
        view.add(
            [
                StudyEvent(READ_AT, WORKER_EXITED, "information", "calm"),
                StudyEvent(READ_AT, TRIAL_RETRIED, "warning", "careful"),
                StudyEvent(READ_AT, DISK_FULL, "error", "broken"),
            ]
        )
        await pilot.pause()

        def colour_of(word: str, line: int):
            [segment] = [s for s in view.lines[line] if s.text == word]
            assert segment.style is not None
            return segment.style.color

        variables = pilot.app.get_css_variables()
        warning, error = colour_of("careful", 1), colour_of("broken", 2)
        assert warning is not None and warning.triplet is not None
        assert warning.triplet.hex == variables["text-warning"].lower()
        assert error is not None and error.triplet is not None
        assert error.triplet.hex == variables["text-error"].lower()
        assert colour_of("calm", 0) != warning


async def test_the_pane_keeps_the_newest_events_only():
    async with EventsApp().run_test(size=(120, 10)) as pilot:
        view = pilot.app.query_one(EventsView)
        view.add(
            [
                StudyEvent(READ_AT, WORKER_EXITED, "information", f"event {n}")
                for n in range(MAX_EVENTS + 20)
            ]
        )
        await pilot.pause()
        lines = texts(view)
        assert len(lines) == MAX_EVENTS and len(view.events) == MAX_EVENTS
        assert lines[0].endswith(" · event 20")
        assert lines[-1].endswith(f" · event {MAX_EVENTS + 19}")


async def test_a_new_theme_recolours_the_lines_already_written():
    async with EventsApp().run_test(size=(120, 10)) as pilot:
        view = pilot.app.query_one(EventsView)
        view.add([StudyEvent(READ_AT, DISK_FULL, "error", "broken")])
        await pilot.pause()
        pilot.app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        [segment] = [s for s in view.lines[0] if s.text == "broken"]
        assert segment.style is not None and segment.style.color is not None
        expected = pilot.app.get_css_variables()["text-error"].lower()
        assert segment.style.color.triplet is not None
        assert segment.style.color.triplet.hex == expected


async def test_long_lines_wrap_to_the_panes_width():
    async with EventsApp().run_test(size=(50, 10)) as pilot:
        view = pilot.app.query_one(EventsView)
        view.add([StudyEvent(READ_AT, WORKER_EXITED, "information", "word " * 30)])
        await pilot.pause()
        lines = texts(view)
        assert len(lines) > 2 and all(len(line) <= 49 for line in lines)


def test_a_pbt_member_copying_another_or_retiring_is_told_once() -> None:
    from rltui.search.events import MEMBER_COPIED, MEMBER_RETIRED
    from rltui.search.segments import RETIRED, Segment

    first = {0: row(0, TrialStatus.COMPLETE, segment=Segment(0, 0, 0, 256))}
    copied = Segment(1, 1, 256, 512, parent=0, donor=0, explore={"learning_rate": "x1.2"})
    after = {**first, 1: row(1, TrialStatus.WAITING, segment=copied)}
    before, now = snap(first), snap(after)
    now = replace(now, population={f"{RETIRED}2": "retired: the population was made 2"})
    events = events_between(before, now, None)
    assert [(e.kind, e.text) for e in events] == [
        (
            MEMBER_COPIED,
            "member 1 copies member 0 at 256 timesteps (trial 0) and explores: learning_rate x1.2",
        ),
        (MEMBER_RETIRED, "member 2 retired: the population was made 2"),
    ]
    assert events_between(now, replace(now, rows=dict(after)), None) == []


def test_a_trial_reaching_the_target_is_told_once() -> None:
    from rltui.search.events import TARGET_REACHED

    before = snap({0: row(0, TrialStatus.RUNNING)})
    now = snap({0: row(0, TrialStatus.COMPLETE, value=475.3333, target=12288)})
    events = events_between(before, now, None)
    assert [(e.kind, e.text) for e in events] == [
        (
            TARGET_REACHED,
            "trial 0 reached the target at 12,288 timesteps, value 475.3 (1 trial has)",
        )
    ]
    assert events_between(now, snap({0: now.rows[0]}), None) == []


def test_a_pbt_study_announces_no_trial_budget(tmp_path) -> None:
    from rltui.spec import load_study

    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nsampler: {type: pbt, population: 2}\n"
        "train: {algorithm: ppo, env: CartPole-v1, timesteps: 1000}\n"
        "search_space:\n  learning_rate: tag(log, interval(1e-4, 1e-2))\n",
        encoding="utf-8",
    )
    study = load_study(path, check_env=False)
    assert study.n_trials == 20 and study.announced_budget is None
