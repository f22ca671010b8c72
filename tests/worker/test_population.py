"""A PBT population trained by real worker processes: every segment recorded in Optuna, an
exploit starting from the right checkpoint, explore inside the space, and a population that
survives a pause and a worker killed mid-segment."""

from __future__ import annotations

import fcntl
import os
import signal

import pytest

from rltui.search import segments
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import Snapshot
from rltui.search.storage import StudyHome
from tests.worker.helpers import HANG, Lab, wait_for, waits_on_flock

pytestmark = pytest.mark.slow

PBT = "sampler: {{type: pbt, population: {population}, interval: {interval}, seed: 0}}"


def population(
    study_file,
    name: str,
    members: int = 2,
    timesteps: int = 1024,
    extra: str = "",
    interval: int = 256,
):
    path = study_file(name=name, timesteps=timesteps, every=128, extra=extra)
    text = path.read_text(encoding="utf-8")
    sampler = PBT.format(population=members, interval=interval)
    text = text.replace("sampler: {type: random, seed: 0}", sampler)
    text = text.replace("pruner: {type: none}\n", "")
    path.write_text(text, encoding="utf-8")
    return Lab(path)


def chains(snap: Snapshot) -> dict[int, list]:
    """Each member's segments, first to last, following each one's ``previous``."""
    rows = [r for r in snap.rows.values() if r.segment is not None]
    by_previous = {r.segment.previous: r for r in rows}
    out = {}
    for first in (r for r in rows if r.segment.index == 0):
        chain = [first]
        while (nxt := by_previous.get(chain[-1].number)) is not None:
            chain.append(nxt)
        out[first.segment.member] = chain
    return out


def running_segment(lab: Lab, wanted, what: str):
    """The first RUNNING segment ``wanted(row)`` accepts, once there is one."""
    return wait_for(
        lambda: next(
            (
                r
                for r in lab.snap().rows.values()
                if r.status == TrialStatus.RUNNING and r.segment is not None and wanted(r)
            ),
            None,
        ),
        what,
    )


def check_population(lab: Lab, members: int, total: int) -> dict[int, list]:
    snap = lab.snap()
    found = chains(snap)
    assert sorted(found) == list(range(members))
    linked = sum(len(c) for c in found.values())
    assert linked == len(snap.rows), "a segment outside every member's chain (a duplicate?)"
    for chain in found.values():
        assert all(r.status == TrialStatus.COMPLETE for r in chain), [r.status for r in chain]
        assert chain[-1].segment.end == total
        for row in chain:
            seg = row.segment
            assert row.curve and all(seg.start < step <= seg.end for step, _ in row.curve)
            assert 1e-4 <= row.params["learning_rate"] <= 1e-2
            assert row.params["gamma"] in (0.95, 0.99)
            assert set(seg.explore) <= {"learning_rate", "gamma"}
    return found


def test_a_population_trains_together_and_an_exploit_copies_the_donors_end(study_file):
    lab = population(study_file, "pbt-run", extra="  keep_checkpoints: true")
    storage, study_id = storage_of(lab.ostudy), study_id_of(lab.ostudy)
    segments.force_exploit(storage, study_id, 1, 0)  # member 1 copies member 0 when it can
    lab.run_to_end(1)
    found = check_population(lab, 2, 1024)
    rows = lab.snap().rows
    copied = [r for c in found.values() for r in c if r.segment.donor is not None]
    assert any(r.segment.member == 1 and r.segment.donor == 0 for r in copied), lab.logs()
    for row in copied:
        donor = rows[row.segment.parent]
        assert donor.segment.member == row.segment.donor != row.segment.member
        assert row.segment.start == donor.segment.end  # it starts where the donor ended
        assert row.segment.source == donor.segment.checkpoint
        assert set(row.segment.explore) == {"learning_rate", "gamma"}
        assert trial_attr(lab, row.number, "pbt_donor") == row.segment.donor
    # With one worker the members take turns: every member's first segment comes first.
    firsts = max(c[0].started for c in found.values())
    assert all(r.started > firsts for c in found.values() for r in c[1:])
    assert "every member of the population has ended" in lab.logs()
    # The schedule that trained the best member, from the first timestep, through its copies.
    from rltui.cli import main

    assert lab.study.path is not None
    out = lab.study.path.parent / "export"
    assert main(["export", str(lab.study.path), "--format", "schedule", "--out", str(out)]) == 0
    (written,) = out.glob("*-schedule.yaml")
    text = written.read_text(encoding="utf-8")
    last = max((c[-1] for c in found.values()), key=lambda r: (r.value, -r.number))
    assert f"to trial {last.number}'s" in text and "from: 0, to: 256" in text
    assert text.count("- {from:") == 4  # 1,024 timesteps in segments of 256


def trial_attr(lab: Lab, number: int, name: str):
    return lab.ostudy.trials[number].user_attrs.get(name)


def test_end_checkpoints_go_once_no_member_needs_them(study_file):
    lab = population(study_file, "pbt-gc", members=2, timesteps=768)
    lab.run_to_end(2)
    check_population(lab, 2, 768)
    assert lab.study.path is not None
    root = StudyHome.beside(lab.study.path).checkpoints
    assert not [p for p in root.glob("trial-*") if any(p.rglob("step-*"))]


def test_a_segment_ends_under_the_study_lock(study_file):
    # Two workers whose segments end at once must not interleave plan, enqueue and the removal
    # of end checkpoints (a plan read before the other ending could pick a checkpoint the
    # other worker then removes). The test holds the lock the workers share while a segment
    # trains: its worker must wait for it before it records anything of the ending.
    lab = population(study_file, "pbt-lock", members=2, timesteps=512)
    assert lab.study.path is not None
    lock_path = StudyHome.beside(lab.study.path).root / "claim.lock"
    lab.pool.start(1)
    try:
        wait_for(lambda: lab.trial(0) and lab.trial(0).status == TrialStatus.RUNNING, "a segment")
        with open(lock_path, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            pid = lab.pool.started[0].pid
            wait_for(lambda: waits_on_flock(pid, lock_path), "the worker waiting on the lock")
            snap = lab.snap()
            assert snap.rows[0].status == TrialStatus.RUNNING, lab.logs()
            assert list(snap.rows) == [0], "the next segment was enqueued outside the lock"
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    check_population(lab, 2, 512)


def test_a_paused_member_resumes_and_the_population_finishes(study_file):
    # Segments long enough that the pause lands while the second one trains.
    lab = population(study_file, "pbt-pause", members=2, timesteps=16384, interval=8192)
    lab.pool.start(1)
    try:
        row = running_segment(
            lab,
            lambda r: (
                r.segment.index == 1 and r.segment.start < r.timesteps < r.segment.start + 2048
            ),
            "a second segment training",
        )
        Controller(lab.ostudy).request(row.number, "pause")
        wait_for(lambda: lab.trial(row.number).status == TrialStatus.PAUSED, "the pause")
        assert lab.pool.wait(HANG), lab.logs()  # the other member finishes; the worker leaves
        Controller(lab.ostudy).request(row.number, "resume")
        lab.pool.start(1, first_index=1)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    check_population(lab, 2, 16384)
    assert lab.ostudy.trials[row.number].system_attrs.get("rltui:elapsed")  # it was paused


def test_a_member_whose_worker_is_killed_goes_on_from_its_checkpoint(study_file):
    lab = population(study_file, "pbt-kill", members=2, timesteps=2048)
    lab.pool.start(2)
    try:
        victim = running_segment(
            lab,
            lambda r: r.segment.index >= 1 and r.timesteps > r.segment.start + 128,
            "a later segment past its first evaluation",
        )
        pid = next(w.pid for w in lab.snap().workers if w.id == victim.worker)
        os.kill(pid, signal.SIGKILL)
        lab.pool.start(1, first_index=2)
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    found = check_population(lab, 2, 2048)
    retried = lab.ostudy.trials[victim.number].system_attrs.get("rltui:retries")
    assert retried == 1, lab.logs()
    assert any(victim.number in [r.number for r in c] for c in found.values())


def test_a_planted_segment_that_names_a_checkpoint_elsewhere_fails_with_the_reason(
    study_file, tmp_path
):
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    lab = population(study_file, "pbt-planted", members=2, timesteps=512)
    elsewhere = tmp_path / "elsewhere" / "trial-0" / "seed-0" / "step-000000000256"
    elsewhere.mkdir(parents=True)
    (elsewhere / "model.zip").write_bytes(b"planted")
    planted = segments.Segment(
        member=0, index=1, start=256, end=512, parent=0, source=str(elsewhere.parents[1])
    )
    distributions = {
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
        "gamma": CategoricalDistribution([0.95, 0.99]),
    }
    params = {"learning_rate": 1e-3, "gamma": 0.99}
    template = segments.waiting_trial(planted, params, distributions)
    storage_of(lab.ostudy).create_new_trial(study_id_of(lab.ostudy), template_trial=template)
    # The worker starts member 1 first (the population has room), then takes the planted one.
    lab.pool.start(1, max_trials=2)
    try:
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    row = lab.trial(0)
    assert row.status == TrialStatus.FAIL, lab.logs()
    assert "outside the study's checkpoint folder" in (row.error or ""), row.error
    # Nothing was copied in, and so nothing was sealed as this study's own.
    root = StudyHome.beside(lab.study.path).checkpoints
    assert not list(root.glob("trial-0/seed-*/step-*"))
