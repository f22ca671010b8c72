"""A disk that fills up under running trials, staged for real on a small tmpfs that holds the
study's folder (journal, checkpoints, logs): no trial fails, and the study goes on by itself
once space returns."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from rltui.search.storage import StudyHome
from tests.conftest import TINY_PPO
from tests.disks import fill
from tests.worker.helpers import HANG, Lab, wait_for

pytestmark = pytest.mark.slow


def test_a_full_disk_puts_trials_back_and_the_study_goes_on_when_space_returns(
    tmpfs: Callable[[str], Path],
) -> None:
    small_disk = tmpfs("48m")
    path = small_disk / "full.yaml"
    text = TINY_PPO.format(
        name="full", n_trials=2, timesteps=8192, every=512, pruner="none", extra="  retries: 1"
    )
    # The disk stays full longer than the heartbeat grace (4 s): no worker is declared lost
    # for heartbeats it could not write.
    path.write_text(text, encoding="utf-8")
    lab = Lab(path)  # to watch the study while `rltui run` runs it
    run = subprocess.Popen(
        [sys.executable, "-m", "rltui", "run", str(path), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        wait_for(
            lambda: sum(1 for r in lab.snap().rows.values() if (r.timesteps or 0) >= 1024) == 2,
            "both trials training",
        )
        filler = fill(small_disk)
        time.sleep(6)  # how long the disk stays full: every kind of write fails meanwhile
        filler.unlink()
        out, _ = run.communicate(timeout=HANG)
    finally:
        run.kill()
    home = StudyHome.beside(path)
    logs = "\n".join(log.read_text() for log in home.logs.glob("worker-*.log"))
    assert run.returncode == 0, out + logs
    journal = StudyHome.beside(path).journal
    plain = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
    trials = optuna.load_study(study_name="full", storage=plain).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2, logs
    assert "lost" not in logs, logs
    assert "disk full at" in logs and "space is back" in logs, logs
    # `rltui run` said it once, as the window's events pane does (piped, each line starts with
    # the time it was seen).
    lines = [re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", line) for line in out.splitlines()]
    told = [line for line in lines if line.startswith("Disk full: worker")]
    assert told and len(set(told)) == len(told), out  # each thing said once


def test_a_full_disk_under_a_pbt_population_fails_no_segment(
    tmpfs: Callable[[str], Path],
) -> None:
    small_disk = tmpfs("48m")
    path = small_disk / "pbtfull.yaml"
    text = TINY_PPO.format(
        name="pbtfull", n_trials=1, timesteps=4096, every=256, pruner="none", extra=""
    )
    text = text.replace(
        "sampler: {type: random, seed: 0}", "sampler: {type: pbt, population: 2, interval: 512}"
    ).replace("pruner: {type: none}\n", "")
    path.write_text(text, encoding="utf-8")
    lab = Lab(path)
    lab.pool.start(2)
    try:
        # Copies, checkpoints, logs and the journal all meet the full disk: a segment that
        # copies its parent's checkpoint then goes back to the queue to copy it later.
        wait_for(lambda: len(lab.snap().rows) >= 4, "the members' second segments")
        filler = fill(small_disk)
        time.sleep(6)
        filler.unlink()
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    rows = lab.snap().rows.values()
    assert {r.status.value for r in rows} == {"COMPLETE"}, lab.logs()
    ends = sorted(r.segment.end for r in rows if r.segment and r.segment.end == 4096)
    assert ends == [4096, 4096], lab.logs()  # both members trained their whole budget
    assert "disk full at" in lab.logs(), lab.logs()
