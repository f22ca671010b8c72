"""A trial's training log never goes backwards: a resumed trial drops the rows its lost run
wrote past the checkpoint, and a write on a full disk leaves no torn line behind."""

from __future__ import annotations

import errno
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rltui.search.trial_logs import read_progress
from rltui.spec import load_study
from rltui.train import checkpoint
from rltui.train.progress import ProgressLog
from rltui.train.trainer import train_sb3
from tests.disks import fill
from tests.train.reporters import ScriptedReporter

PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8]}


def _row(step: int, **extra: object) -> bytes:
    return (json.dumps({"timesteps": step, **extra}) + "\n").encode()


@pytest.mark.slow
def test_a_retried_trial_drops_the_rows_its_lost_run_wrote_past_the_checkpoint(
    study_file, tmp_path
):
    study = load_study(study_file(timesteps=384, every=128))
    trial = tmp_path / "checkpoints" / "trial-0"
    path = tmp_path / "trials" / "trial-0" / "progress.jsonl"

    def run(resume: Path | None = None) -> None:
        log = ProgressLog(path)
        try:
            train_sb3(
                study,
                PARAMS,
                ScriptedReporter(),
                device="cpu",
                seed=0,
                checkpoint_dir=trial,
                resume=resume,
                log=log,
                checkpoint_on_eval=True,  # as with retries: a checkpoint at each evaluation
            )
        finally:
            log.close()

    run()  # the run that is lost after its last checkpoint (at 256) and trained on to 384
    lost = [r["timesteps"] for r in read_progress(path)]
    assert max(lost) == 384
    at = checkpoint.latest(trial / "seed-0").name
    assert at == "step-000000000256"
    run(resume=trial)  # the retry, from the checkpoint
    steps = [r["timesteps"] for r in read_progress(path)]
    assert steps == sorted(steps), "the log went backwards"
    assert steps == lost  # the retry wrote again exactly what the lost run wrote past 256
    evals = [r["timesteps"] for r in read_progress(path) if "eval/mean_reward" in r]
    assert evals == [128, 256, 384]


def test_truncation_keeps_whole_rows_up_to_the_step(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_bytes(_row(64) + _row(128) + _row(192) + b"not json\n" + _row(256) + b'{"times')
    log = ProgressLog(path)
    try:
        assert log.truncate_after(128) == 4  # 192, the broken line, 256, the torn tail
        log.write({"eval/mean_reward": 9.0}, {}, 192)
    finally:
        log.close()
    assert [r["timesteps"] for r in read_progress(path)] == [64, 128, 192]
    assert path.read_bytes().endswith(b"}\n")


def test_nothing_to_drop_leaves_the_file_alone(tmp_path):
    path = tmp_path / "progress.jsonl"
    path.write_bytes(_row(64) + _row(128))
    inode = path.stat().st_ino
    log = ProgressLog(path)
    try:
        assert log.truncate_after(128) == 0
    finally:
        log.close()
    assert path.stat().st_ino == inode


def test_a_torn_last_line_is_skipped(tmp_path):
    path = tmp_path / "progress.jsonl"
    row = _row(128, **{"eval/mean_reward": 1.5})
    path.write_bytes(_row(64) + row[: len(row) // 2])  # a worker killed mid-write
    assert [r["timesteps"] for r in read_progress(path)] == [64]


@pytest.fixture
def tiny_disk(tmpfs: Callable[[str], Path]) -> Path:
    return tmpfs("64k")


def test_a_write_on_a_full_disk_leaves_no_torn_line(tiny_disk):
    path = tiny_disk / "progress.jsonl"
    log = ProgressLog(path)
    try:
        log.write({"eval/mean_reward": 1.0}, {}, 64)
        filler = fill(tiny_disk)
        before = path.read_bytes()
        # Longer than what is left of the file's last page: part of it is written, then the
        # disk is full.
        with pytest.raises(OSError) as caught:
            log.write({"note": "y" * 6000}, {}, 128)
        assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
        assert path.read_bytes() == before
        filler.unlink()  # space again: the next row lands on a line of its own
        log.write({"eval/mean_reward": 2.0}, {}, 192)
    finally:
        log.close()
    assert [r["timesteps"] for r in read_progress(path)] == [64, 192]
