"""``rltui import`` and ``rltui export --format zoo`` as users run them: real commands, real
studies, and the zoo's own trainer on the exported file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import needs_extra, zoo_folder

pytestmark = needs_extra("rl_zoo3", "zoo")


def rltui(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rltui", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def zoo_hyperparams(name: str) -> Path:
    return zoo_folder() / "hyperparams" / name


@pytest.mark.slow
def test_the_zoos_own_ppo_cartpole_entry_imports_validates_and_runs(tmp_path):
    done = rltui("import", "zoo", str(zoo_hyperparams("ppo.yml")), "CartPole-v1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    study = tmp_path / "cartpole-v1-ppo.yaml"
    assert f"wrote {study.name}" in done.stdout
    text = study.read_text()
    assert "learning_rate: lin_0.001" in text and "timesteps: 100000" in text
    assert rltui("validate", str(study), cwd=tmp_path).returncode == 0
    # The zoo's budget is 100,000 steps: run the same study for 1,024 of them.
    short = text.replace("timesteps: 100000", "timesteps: 1024").replace(
        "every: 25000", "every: 512"
    )
    study.write_text(short)
    run = rltui("run", str(study), "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["counts"]["COMPLETE"] == 1, summary
    again = rltui("import", "zoo", str(zoo_hyperparams("ppo.yml")), "CartPole-v1", cwd=tmp_path)
    assert again.returncode == 1 and "--force" in again.stderr  # the study is not written over


@pytest.mark.slow
def test_the_best_trial_exported_as_a_zoo_file_trains_in_the_zoo(tmp_path):
    study = tmp_path / "tiny.yaml"
    study.write_text(
        "name: tiny\nn_trials: 2\nworkers: 1\ndevice: cpu\n"
        "train:\n  algorithm: ppo\n  env: CartPole-v1\n  timesteps: 256\n"
        "  eval: {every: 128, episodes: 2}\n"
        "hyperparameters:\n  n_steps: 64\n  batch_size: 32\n  n_epochs: 1\n  net_arch: [8]\n"
        "search_space:\n  preset: zoo\n"
    )
    run = rltui("run", str(study), cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    out = tmp_path / "out"
    done = rltui("export", str(study), "--format", "zoo", "--out", str(out), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [conf] = json.loads(done.stdout)["files"]
    entry = Path(conf).read_text()
    assert "batch_size_pow" not in entry and "one_minus_gamma" not in entry  # SB3's names
    logs = tmp_path / "logs"
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1"]
    command += ["-conf", conf, "-n", "1000", "--log-folder", str(logs), "--device", "cpu"]
    zoo = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert zoo.returncode == 0, zoo.stdout[-3000:] + zoo.stderr[-3000:]
    [trained] = (logs / "ppo").glob("CartPole-v1_*")
    assert (trained / "0.monitor.csv").read_text().count("\n") > 3  # episodes were played
    missing = rltui("export", str(study), "--format", "zoo", "--trial", "9", cwd=tmp_path)
    assert missing.returncode == 1 and "no trial 9" in missing.stderr
