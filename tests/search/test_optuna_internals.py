"""Each reach into Optuna's private parts, checked against the installed Optuna: a release
that moves one fails here, by name, and not in a worker."""

import json

import optuna
import pytest
from optuna.storages import BaseStorage
from optuna.trial import TrialState

from rltui.search import optuna_internals as oi


@pytest.fixture
def study() -> optuna.Study:
    return optuna.create_study(storage=optuna.storages.InMemoryStorage())


def test_storage_and_study_id(study: optuna.Study) -> None:
    storage = oi.storage_of(study)
    assert isinstance(storage, BaseStorage)
    assert storage.get_study_id_from_name(study.study_name) == oi.study_id_of(study)


def test_trial_id_of_live_and_frozen_trials(study: optuna.Study) -> None:
    trial = study.ask()
    storage = oi.storage_of(study)
    trial_id = oi.trial_id_of(trial)
    assert storage.get_trial(trial_id).number == trial.number
    study.tell(trial, 1.0)
    frozen = study.trials[0]
    assert oi.trial_id_of(frozen) == trial_id
    assert storage.get_trial(trial_id).state == TrialState.COMPLETE


def test_journal_noop_operation_is_skipped_by_replay(tmp_path) -> None:
    path = tmp_path / "j.log"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    optuna.create_study(storage=storage, study_name="s").optimize(lambda t: 1.0, n_trials=1)
    with open(path, "a") as journal:
        journal.write(json.dumps({"op_code": oi.journal_noop_operation()}) + "\n")
    reopened = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    assert len(optuna.load_study(study_name="s", storage=reopened).trials) == 1


def test_journal_replay_module_parses_distributions() -> None:
    parse = oi.journal_replay_module().json_to_distribution
    dist = optuna.distributions.FloatDistribution(0.0, 1.0)
    assert parse(optuna.distributions.distribution_to_json(dist)) == dist


def test_journal_backend_of_is_the_backend_a_journal_storage_writes_through(tmp_path) -> None:
    backend = optuna.storages.journal.JournalFileBackend(str(tmp_path / "j.log"))
    assert oi.journal_backend_of(optuna.storages.JournalStorage(backend)) is backend
    assert oi.journal_backend_of(optuna.storages.InMemoryStorage()) is None


def test_a_declared_journal_snapshot_is_asked_for_its_snapshot(tmp_path) -> None:
    asked: list[str] = []

    class Backend(optuna.storages.journal.BaseJournalBackend):
        def read_logs(self, log_number_from: int) -> list[dict]:
            return []

        def append_logs(self, logs: list[dict]) -> None:
            pass

        def save_snapshot(self, snapshot: bytes) -> None:
            pass

        def load_snapshot(self) -> bytes | None:
            asked.append("load")
            return None

    assert oi.declare_journal_snapshot(Backend) is Backend
    optuna.storages.JournalStorage(Backend())
    assert asked == ["load"]


def test_share_parsed_distributions_caches_the_replay_parser() -> None:
    oi.share_parsed_distributions()
    oi.share_parsed_distributions()  # once only: the cache is not wrapped in another
    parse = oi.journal_replay_module().json_to_distribution
    assert hasattr(parse, "cache_info") and not hasattr(parse.__wrapped__, "cache_info")
    text = optuna.distributions.distribution_to_json(optuna.distributions.IntDistribution(1, 3))
    assert parse(text) is parse(text)


def test_metric_names_in_reads_what_set_metric_names_wrote() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"])
    system = oi.storage_of(study).get_study_system_attrs(oi.study_id_of(study))
    assert oi.metric_names_in(system) is None
    study.set_metric_names(["reward", "wall_time"])
    system = oi.storage_of(study).get_study_system_attrs(oi.study_id_of(study))
    assert oi.metric_names_in(system) == ["reward", "wall_time"] == study.metric_names
    assert oi.metric_names_in({"study:metric_names": "not a list"}) is None


def test_fresh_trial_leaves_waiting_trials_waiting(study: optuna.Study) -> None:
    study.enqueue_trial({"x": 1.0})
    trial = oi.fresh_trial(study)
    states = {t.number: t.state for t in study.get_trials(deepcopy=False)}
    assert states == {0: TrialState.WAITING, 1: TrialState.RUNNING}
    assert trial.number == 1
    trial.suggest_float("x", 0.0, 2.0)  # the sampler works on it as on an asked trial
    study.tell(trial, 1.0)
    assert study.trials[1].state == TrialState.COMPLETE
