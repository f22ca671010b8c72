"""A checkpoint planted by someone who can write the storage (or the checkpoint folder) meets
a real worker: nothing in it is unpickled, the trial goes back to PAUSED saying why, and the
worker goes on with the trials that wait.

The planted files are real hostile pickles: unpickling any of them creates a marker file, so
the marker's absence proves that the worker opened none of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pickle
import zipfile
from pathlib import Path

import pytest
from optuna.trial import TrialState

from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.storage import StudyHome
from rltui.train.trust import MANIFEST
from tests.worker.helpers import HANG, Lab, frozen, wait_for

pytestmark = pytest.mark.slow

STEP = "step-000000000128"
PARAMS = {"learning_rate": 1e-3, "gamma": 0.99}


class Payload:
    """Pickles to a call that creates ``marker``: what a hostile pickle runs, harmlessly."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


def hostile(marker: Path) -> bytes:
    return pickle.dumps(Payload(marker))


def craft(folder: Path, marker: Path) -> Path:
    """Fill ``folder`` with a checkpoint in rltui's layout whose every pickle runs code: the
    trainer state, the envs, the VecNormalize statistics, and an SB3 model.zip whose ``data``
    holds a serialized entry (SB3 unpickles those while loading), with a manifest that
    matches, as a writer who copied a real one would make it."""
    folder.mkdir(parents=True)
    for name in ("state.pkl", "envs.pkl", "normalize.pkl"):
        (folder / name).write_bytes(hostile(marker))
    data = {
        "policy_class": {
            ":type:": "<class 'abc.ABCMeta'>",
            ":serialized:": base64.b64encode(hostile(marker)).decode(),
        }
    }
    with zipfile.ZipFile(folder / "model.zip", "w") as archive:
        archive.writestr("data", json.dumps(data))
    files = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}
    parts = folder.parts
    claim = "/".join(parts[next(i for i, p in enumerate(parts) if p.startswith("trial-")) :])
    manifest = {"format": 1, "checkpoint": claim, "files": files, "hmac": None}
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def plant_resume(lab: Lab, number: int, checkpoint: Path) -> None:
    """Write a resume record on the WAITING trial ``number`` through the storage, as any
    process that can write the storage can."""
    trial = frozen(lab, number)
    assert trial.state == TrialState.WAITING
    record = {"checkpoint": str(checkpoint), "timesteps": 128}
    storage_of(lab.ostudy).set_trial_system_attr(trial_id_of(trial), attrs.RESUME, record)


def paused_with_note(lab: Lab, number: int):
    return wait_for(
        lambda: (r := lab.trial(number)) and r.status == TrialStatus.PAUSED and r.note and r,
        what=f"trial {number} PAUSED with a note",
    )


def test_a_checkpoint_planted_outside_the_root_is_refused_and_the_worker_goes_on(
    study_file, tmp_path
):
    path = study_file(name="planted", n_trials=6, timesteps=256, every=128)
    lab = Lab(path)
    root = StudyHome.beside(path).make().checkpoints
    marker = tmp_path / "unpickled"
    elsewhere = tmp_path / "elsewhere" / "checkpoints"
    outside = f"outside the study's checkpoint folder {root.resolve()}"
    # What each planted resume record names, and what its trial's note must say: a folder laid
    # out as the SB3 trainer lays out a trial's checkpoints (the record names the trial's
    # folder); a step, as a training function's pause records it; the trial's own folder with
    # a link to a planted seed folder in it (the trainer finds the step; the load refuses it);
    # a link to a planted folder in place of the trial's own; another trial's folder.
    craft(elsewhere / "trial-0" / "seed-0" / STEP, marker)
    craft(elsewhere / "trial-1" / STEP, marker)
    craft(elsewhere / "trial-2" / "seed-0" / STEP, marker)
    (root / "trial-2").mkdir()
    (root / "trial-2" / "seed-0").symlink_to(elsewhere / "trial-2" / "seed-0")
    craft(elsewhere / "trial-3" / STEP, marker)
    (root / "trial-3").symlink_to(elsewhere / "trial-3")
    craft(root / "trial-9" / "seed-0" / STEP, marker)
    planted = [
        (elsewhere / "trial-0", outside),
        (elsewhere / "trial-1" / STEP, outside),
        (root / "trial-2", outside),
        (root / "trial-3", outside),
        (root / "trial-9", f"outside trial 4's folder {root.resolve() / 'trial-4'}"),
    ]
    for _ in range(len(planted) + 1):
        lab.ostudy.enqueue_trial(PARAMS)
    for number, (checkpoint, _) in enumerate(planted):
        plant_resume(lab, number, checkpoint)
    lab.pool.start(1)
    try:
        assert lab.pool.wait(HANG), lab.logs()  # the budget is spent: the worker leaves
    finally:
        lab.stop()
    logs = lab.logs()
    assert not marker.exists(), logs
    assert "Traceback" not in logs, logs
    for number, (_, why) in enumerate(planted):
        row = lab.trial(number)
        assert row.status == TrialStatus.PAUSED, logs
        assert frozen(lab, number).state == TrialState.RUNNING  # PAUSED on top of Optuna
        assert attrs.PAUSED in frozen(lab, number).system_attrs
        assert why in (row.note or ""), row.note
    honest = lab.trial(len(planted))  # waited behind the planted ones, and ran
    assert honest.status == TrialStatus.COMPLETE and honest.timesteps == 256, logs


def test_a_file_swapped_into_a_real_checkpoint_is_refused(study_file, tmp_path):
    path = study_file(name="swapped", n_trials=1, timesteps=8192, every=512)
    lab = Lab(path)
    lab.pool.start(1)
    try:
        wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.RUNNING and r.timesteps > 600,
            what="trial 0 running",
        )
        Controller(lab.ostudy).request(0, "pause")
        paused = wait_for(
            lambda: (r := lab.trial(0)) and r.status == TrialStatus.PAUSED and r, what="PAUSED"
        )
        assert lab.pool.wait(HANG), lab.logs()
        # Someone who can write the checkpoint folder swaps the trainer state for their own.
        trial_folder = StudyHome.beside(path).checkpoints / "trial-0"
        (step,) = (trial_folder / "seed-0").glob("step-*")
        marker = tmp_path / "unpickled"
        state = step / "state.pkl"
        state.unlink()
        state.write_bytes(hostile(marker))
        Controller(lab.ostudy).request(0, "resume")
        lab.ostudy.enqueue_trial(PARAMS)  # waits behind the resume: the worker goes on to it
        lab.pool.start(1)
        row = paused_with_note(lab, 0)
        done = wait_for(
            lambda: (r := lab.trial(1)) and r.status == TrialStatus.COMPLETE and r,
            what="trial 1 COMPLETE",
        )
        assert lab.pool.wait(HANG), lab.logs()
    finally:
        lab.stop()
    logs = lab.logs()
    assert not marker.exists(), logs
    assert "Traceback" not in logs, logs
    assert "state.pkl is not the file that was saved" in (row.note or ""), row.note
    assert frozen(lab, 0).state == TrialState.RUNNING
    assert row.timesteps == paused.timesteps  # nothing of its training is lost
    assert step.exists()
    assert done.timesteps == 8192


def test_the_planted_files_would_run_code_if_unpickled(tmp_path):
    """The marker's absence above means something: each crafted file does create it when
    loaded the way a checkpoint load would (pickle, and SB3 reading model.zip's data)."""
    from stable_baselines3.common.save_util import json_to_data

    marker = tmp_path / "unpickled"
    folder = craft(tmp_path / "checkpoints" / "trial-0" / "seed-0" / STEP, marker)
    for name in ("state.pkl", "envs.pkl", "normalize.pkl"):
        pickle.loads((folder / name).read_bytes()).close()
        assert marker.exists(), name
        marker.unlink()
    with zipfile.ZipFile(folder / "model.zip") as archive:
        json_to_data(archive.read("data").decode())["policy_class"].close()
    assert marker.exists()
