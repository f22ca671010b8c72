"""Opening storages: a journal replays to exactly what Optuna itself reads."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState, create_trial

from rltui.search.storage import mask_url, open_storage


def _write(path: Path, n: int) -> None:
    space = {
        "lr": FloatDistribution(1e-5, 1e-2, log=True),
        "layers": IntDistribution(1, 4),
        "act": CategoricalDistribution(["tanh", "relu"]),
    }
    study = optuna.create_study(storage=JournalStorage(JournalFileBackend(str(path))))
    study.add_trials(
        create_trial(
            state=TrialState.COMPLETE,
            value=float(i),
            params={"lr": 10 ** -(2 + i % 3), "layers": 1 + i % 4, "act": ["tanh", "relu"][i % 2]},
            distributions=space,
            intermediate_values={10: float(i)},
        )
        for i in range(n)
    )
    # A trial told its parameters one by one, as a worker does.
    trial = study.ask()
    trial.suggest_float("lr", 1e-5, 1e-2, log=True)
    trial.suggest_categorical("act", ["tanh", "relu"])


def test_a_journal_replays_to_the_same_trials_as_optuna_reads(tmp_path: Path) -> None:
    path = tmp_path / "study.journal"
    _write(path, 50)
    ours = open_storage(str(path)).get_all_trials(0, deepcopy=False)
    plain = JournalStorage(JournalFileBackend(str(path))).get_all_trials(0, deepcopy=False)
    assert ours == plain and len(ours) == 51
    assert [t.distributions for t in ours] == [t.distributions for t in plain]
    assert [t.params for t in ours] == [t.params for t in plain]


def test_passwords_are_masked() -> None:
    assert mask_url("postgresql://me:secret@db/x") == "postgresql://me:***@db/x"
    assert mask_url("postgresql://me@db/x") == "postgresql://me@db/x"
