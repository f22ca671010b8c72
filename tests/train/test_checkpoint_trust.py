"""Checkpoints are loaded only when they are what they claim: under the study's checkpoint
root, written by this worker's user (or signed by a trusted group), and unchanged since saved.

Every hostile checkpoint here is a real crafted file whose payload would create a marker file
when unpickled; each test checks the marker never appears.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import json
import os
import pickle
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from stable_baselines3 import PPO

from rltui.spec import load_study
from rltui.train import checkpoint, trust
from rltui.train.envs import make_envs
from rltui.train.function import load_function, train_function
from rltui.train.trainer import TrialFailed, build_model, train_sb3
from rltui.train.trust import GROUP_ENV, KEY_ENV, MANIFEST, CheckpointRefused
from tests.disks import fill
from tests.train.reporters import ScriptedReporter

PARAMS = {"n_steps": 64, "batch_size": 32, "n_epochs": 1, "net_arch": [8]}
STRANGER = 1001  # a uid that is not this test's user
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


class Payload:
    """Unpickling this creates ``marker``: what a hostile pickle could do, made visible."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


@pytest.fixture(autouse=True)
def no_trust_settings(monkeypatch):
    """No group or key from the environment running the tests."""
    monkeypatch.delenv(GROUP_ENV, raising=False)
    monkeypatch.setenv(KEY_ENV, "/nonexistent/rltui-test.key")


@pytest.fixture
def study(study_file):
    return load_study(study_file(timesteps=256, every=128))


@pytest.fixture
def saved(study, tmp_path) -> Iterator[tuple[Path, Path]]:
    """(root, checkpoint): a real checkpoint written by :func:`checkpoint.save`."""
    root = tmp_path / "checkpoints"
    envs = make_envs(study, 0)
    try:
        model = build_model(study, PARAMS, envs, seed=0, device="cpu")
        model.learn(64)
        path = checkpoint.save(root / "trial-0" / "seed-0", model, envs, checkpoint.TrainerState())
    finally:
        envs.close()
    yield root, path


def _load(study, path: Path, root: Path) -> Any:
    model, envs, _ = checkpoint.load(path, root, PPO, make_envs(study, 0), "cpu")
    envs.close()
    return model


def _plant(folder: Path, marker: Path) -> Path:
    """A crafted checkpoint of the right shape: every pickle in it runs the payload."""
    folder.mkdir(parents=True)
    for name in ("state.pkl", checkpoint.ENVS_FILE, "replay.pkl"):
        (folder / name).write_bytes(pickle.dumps(Payload(marker)))
    return folder


def _refused(study, path: Path, root: Path) -> str:
    with pytest.raises(CheckpointRefused) as caught:
        _load(study, path, root)
    return caught.value.reason


# -- tests -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_a_checkpoint_saved_by_save_loads_through_the_check(study, saved):
    root, path = saved
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["checkpoint"] == "trial-0/seed-0/step-000000000064"
    assert set(manifest["files"]) == {"model.zip", "state.pkl", checkpoint.ENVS_FILE}
    assert _load(study, path, root).num_timesteps == 64


def test_a_save_under_a_lax_umask_still_loads(study, tmp_path):
    root = tmp_path / "checkpoints"
    root.mkdir()
    envs = make_envs(study, 0)
    before = os.umask(0)
    try:
        model = build_model(study, PARAMS, envs, seed=0, device="cpu")
        path = checkpoint.save(root / "trial-0" / "seed-0", model, envs, checkpoint.TrainerState())
    finally:
        os.umask(before)
        envs.close()
    for entry in [root / "trial-0", path.parent, path, *path.iterdir()]:
        assert not entry.stat().st_mode & 0o022, entry
    assert _load(study, path, root).num_timesteps == 0


@pytest.mark.slow
def test_a_crafted_checkpoint_outside_the_root_never_runs(study, saved, tmp_path):
    root, _ = saved
    marker = tmp_path / "pwned"
    evil = _plant(tmp_path / "elsewhere" / "trial-0" / "seed-0" / "step-000000000064", marker)
    reason = _refused(study, evil, root)
    assert "outside the study's checkpoint folder" in reason and str(root) in reason
    # The way a worker gets there: a resume record naming another folder.
    with pytest.raises(CheckpointRefused):
        train_sb3(
            study,
            PARAMS,
            ScriptedReporter(),
            device="cpu",
            seed=0,
            checkpoint_dir=root / "trial-0",
            resume=evil.parent.parent,
        )
    assert not marker.exists()


@pytest.mark.slow
def test_a_link_inside_the_root_pointing_out_is_refused(study, saved, tmp_path):
    root, path = saved
    marker = tmp_path / "pwned"
    evil = _plant(tmp_path / "elsewhere" / "trial-0" / "seed-0" / "step-000000000128", marker)
    link = path.parent / "step-000000000128"
    link.symlink_to(evil)
    assert "resolves to" in _refused(study, link, root)
    # A link to the payload in place of a file of a real checkpoint.
    (path / "state.pkl").unlink()
    (path / "state.pkl").symlink_to(evil / "state.pkl")
    assert "not a plain file or folder" in _refused(study, path, root)
    assert not marker.exists()


@pytest.mark.slow
def test_a_world_writable_file_in_a_real_checkpoint_is_refused(study, saved):
    root, path = saved
    (path / "model.zip").chmod(0o666)
    reason = _refused(study, path, root)
    assert "writable by every user" in reason and "chmod o-w" in reason
    assert str(path / "model.zip") in reason


@pytest.mark.slow
@needs_root
def test_a_group_writable_folder_above_the_checkpoint_is_refused(study, saved):
    root, path = saved
    os.chown(root / "trial-0", -1, STRANGER)  # a group with other members than this user
    (root / "trial-0").chmod(0o775)
    reason = _refused(study, path, root)
    assert "writable by group" in reason and GROUP_ENV in reason


@pytest.mark.slow
@needs_root
def test_a_file_of_another_user_is_refused(study, saved, tmp_path):
    root, path = saved
    marker = tmp_path / "pwned"
    (path / "state.pkl").write_bytes(pickle.dumps(Payload(marker)))
    os.chown(path / "state.pkl", STRANGER, STRANGER)
    reason = _refused(study, path, root)
    assert f"uid {STRANGER}" in reason and "not by this worker's user" in reason
    assert "could run code" in reason
    assert not marker.exists()


@pytest.mark.slow
def test_a_file_changed_after_the_save_is_refused(study, saved, tmp_path):
    root, path = saved
    marker = tmp_path / "pwned"
    (path / "state.pkl").write_bytes(pickle.dumps(Payload(marker)))
    assert "not the file that was saved" in _refused(study, path, root)
    (path / "extra.pkl").write_bytes(b"")
    assert "added since: extra.pkl" in _refused(study, path, root)
    assert not marker.exists()


@pytest.mark.slow
def test_only_the_shape_rltui_writes_is_loaded(study, saved):
    root, path = saved
    odd = root / "somewhere" / path.name
    shutil.copytree(path, odd)
    assert "not a checkpoint rltui writes" in _refused(study, odd, root)
    with pytest.raises(CheckpointRefused, match="belongs to trial-0, not to trial-1"):
        checkpoint.load(path, root, PPO, make_envs(study, 0), "cpu", trial="trial-1")


@needs_root
def test_a_group_shares_checkpoints_only_when_signed(study, tmp_path, monkeypatch):
    gid = grp.getgrall()[-1].gr_gid if os.getgid() == 0 else os.getgid()
    key = tmp_path / "checkpoint.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o600)
    monkeypatch.setenv(GROUP_ENV, str(gid))
    monkeypatch.setenv(KEY_ENV, str(key))
    root = tmp_path / "checkpoints"
    envs = make_envs(study, 0)
    try:
        model = build_model(study, PARAMS, envs, seed=0, device="cpu")
        path = checkpoint.save(root / "trial-3" / "seed-0", model, envs, checkpoint.TrainerState())
    finally:
        envs.close()
    # As a teammate's worker would have left it: their files, the group's folders.
    for entry in [root / "trial-3", path.parent, path, *path.iterdir()]:
        os.chown(entry, STRANGER, gid)
        entry.chmod(0o775 if entry.is_dir() else 0o664)
    assert json.loads((path / MANIFEST).read_text())["hmac"]
    assert _load(study, path, root).num_timesteps == 0

    marker = tmp_path / "pwned"
    good = (path / "state.pkl").read_bytes()
    (path / "state.pkl").write_bytes(pickle.dumps(Payload(marker)))  # a member without the key
    assert "not the file that was saved" in _refused(study, path, root)
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["files"]["state.pkl"] = trust._digest(path / "state.pkl")
    (path / MANIFEST).write_text(json.dumps(manifest))
    assert "signature is wrong" in _refused(study, path, root)
    (path / "state.pkl").write_bytes(good)
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "missing.key"))
    assert "cannot read the signing key" in _refused(study, path, root)
    assert not marker.exists()


def test_a_function_trial_resumes_only_from_its_own_checkpoints(study_file, tmp_path):
    text = "name: fn\ntrain:\n  function: 'tests.train.test_function:counter'\n  timesteps: 50\n"
    fn_study = load_study(study_file(name="fn", text=text))
    evil = tmp_path / "elsewhere" / "trial-0" / "step-000000000020"
    evil.mkdir(parents=True)
    (evil / "rltui-function.json").write_text('{"evaluations": [], "timesteps": 20, "state": 1}')
    (tmp_path / "checkpoints" / "trial-0").mkdir(parents=True)
    with pytest.raises(CheckpointRefused, match="outside the study's checkpoint folder"):
        train_function(
            fn_study,
            {"lr": 0.5},
            ScriptedReporter(),
            device="cpu",
            seed=0,
            checkpoint_dir=tmp_path / "checkpoints" / "trial-0",
            resume=evil,
        )


@pytest.fixture
def study_folder(tmp_path, study_file) -> Iterator[tuple[Any, Path, Path]]:
    """(study, folder, marker): a study whose function lives in a module beside it; importing
    the module creates the marker."""
    folder = tmp_path / "project"
    folder.mkdir()
    name = f"trust_fn_{uuid.uuid4().hex}"
    marker = tmp_path / "imported"
    (folder / f"{name}.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef train(params, ctx):\n    return 1.0\n"
    )
    text = f"name: fn\ntrain:\n  function: '{name}:train'\n  timesteps: 10\n"
    path = study_file(name="fn", text=text)
    shutil.move(path, folder / path.name)
    fn_study = load_study(folder / path.name)
    yield fn_study, folder, marker
    with contextlib.suppress(ValueError):
        sys.path.remove(str(folder.resolve()))
    sys.modules.pop(name, None)


def test_a_private_study_folder_goes_on_sys_path(study_folder):
    fn_study, _folder, marker = study_folder
    assert load_function(fn_study)(None, None) == 1.0
    assert marker.exists()


def test_a_study_folder_everyone_can_write_is_never_imported_from(study_folder):
    fn_study, folder, marker = study_folder
    folder.chmod(0o777)
    with pytest.raises(TrialFailed, match=r"study folder: .* writable by every user"):
        load_function(fn_study)
    assert str(folder) not in sys.path and not marker.exists()


@needs_root
def test_a_study_folder_a_group_can_write_is_never_imported_from(study_folder):
    fn_study, folder, marker = study_folder
    os.chown(folder, -1, STRANGER)  # a group with other members than this user
    folder.chmod(0o775)
    with pytest.raises(TrialFailed, match=r"study folder: .* writable by group .*chmod g-w"):
        load_function(fn_study)
    assert not marker.exists()


@needs_root
def test_a_module_file_of_another_user_is_never_imported(study_folder):
    fn_study, folder, marker = study_folder
    for module in folder.glob("*.py"):
        os.chown(module, STRANGER, STRANGER)
    # By name where the uid has one (CI adds a user for its SSH tests), else by number.
    with pytest.raises(TrialFailed, match=rf"owned by (\S+ \()?uid {STRANGER}"):
        load_function(fn_study)
    assert not marker.exists()


@pytest.fixture
def tiny_disk(tmpfs: Callable[[str], Path]) -> Path:
    return tmpfs("256k")


@pytest.mark.slow
def test_a_save_on_a_full_disk_keeps_the_last_checkpoint(study, tiny_disk):
    root = tiny_disk / "checkpoints"
    envs = make_envs(study, 0)
    try:
        model = build_model(study, PARAMS, envs, seed=0, device="cpu")
        first = checkpoint.save(root / "trial-0" / "seed-0", model, envs, checkpoint.TrainerState())
        model.learn(64, reset_num_timesteps=False)
        fill(tiny_disk)
        with pytest.raises(OSError) as caught:
            checkpoint.save(root / "trial-0" / "seed-0", model, envs, checkpoint.TrainerState())
    finally:
        envs.close()
    assert caught.value.errno == errno.ENOSPC
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # the partial one is gone
    assert _load(study, first, root).num_timesteps == 0
