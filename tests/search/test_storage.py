"""Opening storages: a journal, from its snapshot or not, reads exactly as Optuna reads it."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState, create_trial

from rltui.search.journal import _HEADER, MAGIC, JournalFile, open_journal
from rltui.search.optuna_internals import journal_backend_of
from rltui.search.storage import mask_url, open_storage


def _write(path: Path, n: int) -> None:
    space = {
        "lr": FloatDistribution(1e-5, 1e-2, log=True),
        "layers": IntDistribution(1, 4),
        "act": CategoricalDistribution(["tanh", "relu"]),
    }
    study = optuna.create_study(storage=open_storage(str(path)), load_if_exists=True)
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


def _plain(path: Path) -> list[optuna.trial.FrozenTrial]:
    return JournalStorage(JournalFileBackend(str(path))).get_all_trials(0, deepcopy=False)


def _opened(path: Path) -> tuple[JournalStorage, JournalFile]:
    storage = open_journal(path)
    backend = journal_backend_of(storage)
    assert isinstance(backend, JournalFile)
    return storage, backend


def _grown(tmp_path: Path) -> Path:
    """A journal with a snapshot (Optuna saves one at the 100th trial) and lines after it."""
    path = tmp_path / "study.journal"
    _write(path, 130)
    storage = open_storage(str(path))
    for beat in range(50):  # heartbeats, as workers write all day
        storage.set_study_system_attr(0, "rltui:worker:w1", {"beat": beat})
    return path


def test_a_journal_opens_from_its_snapshot_and_reads_what_came_after(tmp_path: Path) -> None:
    path = _grown(tmp_path)
    assert (tmp_path / "study.journal.snapshot").read_bytes().startswith(MAGIC)
    storage, backend = _opened(path)
    assert backend.restored
    assert storage.get_all_trials(0, deepcopy=False) == _plain(path)
    assert storage.get_study_system_attrs(0)["rltui:worker:w1"] == {"beat": 49}
    # It goes on working: writes after a restore land where Optuna reads them.
    storage.set_study_system_attr(0, "after", 1)
    assert JournalStorage(JournalFileBackend(str(path))).get_study_system_attrs(0)["after"] == 1


def test_a_snapshot_of_another_journal_is_ignored(tmp_path: Path) -> None:
    path = _grown(tmp_path)
    snapshot = (tmp_path / "study.journal.snapshot").read_bytes()
    path.unlink()
    (tmp_path / "study.journal.snapshot").unlink()
    _write(path, 20)  # a new journal at the same path (a new file)
    (tmp_path / "study.journal.snapshot").write_bytes(snapshot)
    storage, backend = _opened(path)
    assert not backend.restored
    assert storage.get_all_trials(0, deepcopy=False) == _plain(path)
    assert len(_plain(path)) == 21


def test_a_journal_rewritten_in_place_is_not_mistaken_for_its_snapshot(tmp_path: Path) -> None:
    path = _grown(tmp_path)
    lines = path.read_bytes().splitlines(keepends=True)
    with open(path, "r+b") as journal:  # same file, other content: drop the 90th trial on
        journal.truncate(0)
        journal.write(b"".join(lines[:90]))
    storage, backend = _opened(path)
    assert not backend.restored
    assert storage.get_all_trials(0, deepcopy=False) == _plain(path)


@pytest.mark.parametrize("damage", ["magic", "pickle", "foreign", "version", "writable"])
def test_a_damaged_or_unsafe_snapshot_is_ignored(damage: str, tmp_path: Path) -> None:
    path = _grown(tmp_path)
    snap = tmp_path / "study.journal.snapshot"
    data = snap.read_bytes()
    if damage == "magic":
        snap.write_bytes(b"x" + data[1:])
    elif damage == "pickle":
        snap.write_bytes(data[: len(data) // 2])  # Optuna catches this one itself
    elif damage == "foreign":  # a class that is not there: an error Optuna lets through
        fields = _HEADER.unpack_from(data, len(MAGIC))
        body = len(MAGIC) + _HEADER.size + fields[4] + fields[5]  # after tail and version
        snap.write_bytes(data[:body] + b"cno_such_module\nThing\n.")
    elif damage == "version":
        version = optuna.__version__.encode()
        snap.write_bytes(data.replace(version, b"9" * len(version), 1))
    else:
        snap.chmod(0o666)
    storage, backend = _opened(path)
    assert backend.restored == (damage == "pickle")
    assert storage.get_all_trials(0, deepcopy=False) == _plain(path)


def test_a_writer_killed_while_it_holds_the_journal_lock_blocks_no_one(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import threading

    path = tmp_path / "study.journal"
    storage = open_storage(str(path))
    study_id = storage.create_new_study([optuna.study.StudyDirection.MAXIMIZE], "s")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from rltui.search.journal import FlockLock\n"
            "FlockLock(sys.argv[1]).acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    written = threading.Event()

    def write() -> None:
        storage.set_study_system_attr(study_id, "after", 1)
        written.set()

    threading.Thread(target=write, daemon=True).start()
    assert not written.wait(0.5), "the lock is held: the write waits"
    holder.send_signal(signal.SIGKILL)  # as kill -9 or the OOM killer would
    holder.wait()
    assert written.wait(5), "the dead holder's lock was let go at once"
    assert open_storage(str(path)).get_study_system_attrs(study_id)["after"] == 1


def test_a_journal_opened_to_read_only_takes_no_lock_and_makes_nothing(tmp_path: Path) -> None:
    from rltui.search.storage import StorageError

    path = tmp_path / "study.journal"
    with pytest.raises(StorageError, match="no such journal file"):
        open_storage(str(path), read_only=True)
    assert list(tmp_path.iterdir()) == []
    _write(path, 3)
    Path(f"{path}.flock").unlink()
    storage = open_storage(str(path), read_only=True)
    assert storage.get_all_trials(0, deepcopy=False) == _plain(path)
    assert not Path(f"{path}.flock").exists()
