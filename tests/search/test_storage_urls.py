"""Storage URLs as users type them: passwords never shown, typos never become files, and a
host that does not answer is an error in seconds, not a hang."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from rltui.cli import main
from rltui.search import storage
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.storage import StorageError, mask_url, open_storage, resolve_storage_url
from tests.conftest import needs_psycopg


@pytest.mark.parametrize(
    "url,shown",
    [
        ("postgresql://u:sekret@h:5432/db", "postgresql://u:***@h:5432/db"),
        # An unescaped '@' in the password: the last '@' ends the user part.
        ("postgresql://me:p@ss@127.0.0.1/db", "postgresql://me:***@127.0.0.1/db"),
        ("postgresql://me:a/b?c@h/db", "postgresql://me:***@h/db"),
        ("postgresql://u@h/db?password=sekret&sslmode=require",
         "postgresql://u@h/db?password=***&sslmode=require"),
        ("postgresql://u:sekret@[::1/db", "postgresql://u:***@[::1/db"),  # malformed
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("/tmp/study.journal", "/tmp/study.journal"),
    ],
)  # fmt: skip
def test_passwords_are_masked(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert "sekret" not in mask_url(url) and "ss@127" not in mask_url(url)


@pytest.mark.parametrize(
    "url", ["postgresql//host/db", "postgresql:/host/db", "postgres//h/db", "sqlite//x.db"]
)
def test_a_mistyped_scheme_is_not_taken_for_a_journal_path(
    url: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="'://' mistyped"):
        resolve_storage_url(url, None)
    assert main(["worker", "--storage", url, "--study", "x"]) == 1
    assert "mistyped" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing created
    # Written as a journal on purpose, it is one.
    assert resolve_storage_url(f"journal:{url}", None).startswith("journal:")


def test_a_journal_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        open_storage(str(tmp_path / "shraed" / "study.journal"))
    assert not (tmp_path / "shraed").exists()
    # A study's own folder beside its file is made on first use.
    open_storage(str(tmp_path / "smoke.rltui" / "study.journal"))
    assert (tmp_path / "smoke.rltui" / "study.journal").exists()


def test_an_absolute_path_with_three_slashes_creates_nothing_and_says_how_to_write_it(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="does not exist") as raised:
        resolve_storage_url("sqlite:///tmp/nodir/x.db", None)
    assert "write sqlite:////tmp/nodir/x.db" in str(raised.value)
    with pytest.raises(StorageError, match=r"the folder .*nodir of its SQLite file does not exist"):
        open_storage(f"sqlite:///{tmp_path}/nodir/x.db")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("url", ["sqlite:///studies/", "sqlite:///", "sqlite:////tmp/"])
def test_a_sqlite_url_naming_a_folder_is_refused(url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "studies").mkdir()
    with pytest.raises(StorageError, match="names a folder"):
        resolve_storage_url(url, None)
    with pytest.raises(StorageError, match="names a folder"):
        storage.check_storage_url(url)
    assert [p.name for p in tmp_path.iterdir()] == ["studies"]
    assert not any((tmp_path / "studies").iterdir())


@pytest.mark.parametrize("name", ["studes.db", "study.jornal"])
def test_joining_a_mistyped_file_creates_nothing(name: str, tmp_path: Path) -> None:
    url = resolve_storage_url(
        f"sqlite:///{name}" if name.endswith(".db") else name, tmp_path / "s.yaml"
    )
    with pytest.raises(StorageError, match="no such"):
        open_storage(url, create=False)
    assert not any(tmp_path.iterdir())
    # A study file's own storage is made on first use.
    open_storage(url)
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.slow
@needs_psycopg
def test_a_server_that_never_answers_times_out(monkeypatch) -> None:
    monkeypatch.setattr(storage, "CONNECT_TIMEOUT", 1)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(StorageError, match="timed out") as raised:
            open_storage(f"postgresql://me:sekret@127.0.0.1:{port}/db")
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert time.monotonic() - started < 10
    assert "sekret" not in str(raised.value)


def test_a_password_in_the_study_file_is_not_stored_nor_on_worker_command_lines(
    study_file, tmp_path: Path
) -> None:
    from rltui.launch.local import STORAGE_ENV, LocalPool
    from rltui.search.study import open_study, spec_version, stored_spec
    from rltui.spec import load_study

    secret = "postgresql://me:sekret@db.example/rltui"
    path = study_file(name="pw", extra=f"storage: {secret}\n")
    study = load_study(path)
    journal = str(tmp_path / "pw.rltui" / "study.journal")
    ostudy, _ = open_study(study, journal)
    stored = stored_spec(storage_of(ostudy), study_id_of(ostudy))
    assert "sekret" not in stored.text and "me:***@db.example" in stored.text
    # The same file again is the same version, although its text holds the password.
    open_study(load_study(path), journal)
    assert spec_version(ostudy) == 1
    pool = LocalPool(tmp_path / "logs", storage_url=secret, study_name="pw")
    command = pool.command("w1", 0)
    assert "sekret" not in " ".join(command) and "--storage-from-env" in command
    assert STORAGE_ENV == "RLTUI_STORAGE_URL"
