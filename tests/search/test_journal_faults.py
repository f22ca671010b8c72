"""Journal faults staged for real: a full disk (a small tmpfs filled by a file), journals torn
by older versions (the bytes they left, written here), a Ctrl-C among appends, and a study
folder on a read-only mount. Whatever happens, the journal opens in rltui and in plain Optuna
with every write that reported success."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import optuna
import pytest
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.study import StudyDirection

from rltui.cli import main
from rltui.search.journal import JournalWriteError, journal_notes
from rltui.search.storage import StudyHome, open_storage
from rltui.search.study import open_study
from rltui.spec import load_study
from tests.disks import fill, mount, umount

CYCLES = 10  # fill the disk, fail, free it, write again
ATTR = "x" * 200  # a heartbeat-sized line


@pytest.fixture
def small_disk(tmpfs: Callable[[str], Path]) -> Path:
    """A 1 MiB tmpfs of its own."""
    return tmpfs("1m")


def _plain(path: Path) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)))


def _whole_lines(path: Path) -> list[bytes]:
    """The journal's lines; each must be a whole log that plain ``json`` reads."""
    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = data.splitlines()
    for line in lines:
        assert isinstance(json.loads(line)["op_code"], int), line
    return lines


def _new_trial(storage: BaseStorage) -> int:
    study_id = storage.create_new_study([StudyDirection.MAXIMIZE], "s")
    return storage.create_new_trial(study_id)


def test_a_full_disk_fails_writes_whole_and_tears_nothing(small_disk: Path) -> None:
    path = small_disk / "study.journal"
    storage = open_storage(str(path))
    trial_id = _new_trial(storage)
    written: dict[str, object] = {}
    failed: list[str] = []
    torn = 0  # failed writes that began with room left in the journal's last page: half-written
    for cycle in range(CYCLES):
        filler = fill(small_disk)
        for beat in range(10_000):  # heartbeats until the disk refuses one
            key = f"beat-{cycle}-{beat}"
            size = path.stat().st_size
            try:
                storage.set_trial_system_attr(trial_id, key, ATTR)
            except OSError as exc:
                torn += size % os.sysconf("SC_PAGE_SIZE") != 0
                assert path.stat().st_size == size
                assert isinstance(exc, JournalWriteError) and exc.errno == errno.ENOSPC
                assert str(exc).startswith(f"cannot write the study: {path}: ")
                assert "No space left on device" in str(exc)
                failed.append(key)
                break
            written[key] = ATTR
        else:
            pytest.fail("the full disk took every write")
        _whole_lines(path)  # nothing of the failed write is left
        filler.unlink()
        storage.set_trial_system_attr(trial_id, f"after-{cycle}", cycle)
        written[f"after-{cycle}"] = cycle
        _whole_lines(path)
    assert len(failed) == CYCLES and torn > 0
    for reader in (open_storage(str(path)), _plain(path), storage):
        attrs = reader.get_trial(trial_id).system_attrs
        assert {key: attrs.get(key) for key in written} == written
        assert not set(failed) & set(attrs)
        assert attrs[f"after-{CYCLES - 1}"] == CYCLES - 1


def test_a_ctrl_c_among_appends_leaves_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "study.journal"
    trial_id = _new_trial(open_storage(str(path)))
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from rltui.search.storage import open_storage\n"
            "storage = open_storage(sys.argv[1])\n"
            "print('writing', flush=True)\n"
            "for beat in range(100_000):\n"
            f"    storage.set_trial_system_attr({trial_id}, 'big', str(beat) * 400_000)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    writer.send_signal(signal.SIGINT)
    _out, err = writer.communicate(timeout=60)
    assert "KeyboardInterrupt" in err
    _whole_lines(path)
    assert open_storage(str(path)).get_trial(trial_id).system_attrs == (
        _plain(path).get_trial(trial_id).system_attrs
    )


# -- journals torn by older versions ---------------------------------------------------------


def _torn_by_an_older_version(path: Path) -> tuple[int, bytes]:
    """A journal as an older version left it after a full disk: the first half of a heartbeat
    line (no line end), the next write glued onto it, then more writes. Returns the trial's id
    and the torn half."""
    plain = _plain(path)
    trial_id = _new_trial(plain)
    plain.set_trial_system_attr(trial_id, "before", 1)
    plain.set_trial_system_attr(trial_id, "torn", ATTR)
    whole = path.read_bytes()
    last = whole.splitlines(keepends=True)[-1]
    half = last[: len(last) // 2]
    path.write_bytes(whole[: -len(last)] + half)  # the failed write's first half, as it was
    _plain(path).set_trial_system_attr(trial_id, "glued", 2)  # after space came back
    with pytest.raises(json.JSONDecodeError):  # written, then Optuna cannot read it back
        _plain(path).set_trial_system_attr(trial_id, "later", 3)
    return trial_id, half


KEPT = {"before": 1, "glued": 2, "later": 3}


def _kept(storage: BaseStorage, trial_id: int) -> dict[str, object]:
    attrs = storage.get_trial(trial_id).system_attrs
    assert "torn" not in attrs
    return {key: attrs.get(key) for key in KEPT}


def test_a_journal_torn_by_an_older_version_opens_reported_once_and_then_in_optuna(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "study.journal"
    trial_id, half = _torn_by_an_older_version(path)
    with pytest.raises(json.JSONDecodeError):  # as it was: plain Optuna cannot read it
        _plain(path)
    with caplog.at_level(logging.WARNING, logger="rltui.journal"):
        storage = open_storage(str(path))
    assert _kept(storage, trial_id) == KEPT
    [report] = [r.getMessage() for r in caplog.records if r.name == "rltui.journal"]
    assert report.startswith(f"rltui: mended the journal {path}, torn by writes that failed")
    assert f"line 4: the torn start of a write that failed ({len(half)} bytes)" in report
    assert "\n" not in report
    assert journal_notes(storage) == [report] and journal_notes(storage) == []
    # Mended in place: the same length, the torn start blanked, every whole log kept.
    lines = _whole_lines(path)
    assert lines[3].startswith(b" " * len(half) + b"{")
    assert _kept(_plain(path), trial_id) == KEPT
    # Mended once: the next open has nothing to say, and writes go on where both read them.
    caplog.clear()
    again = open_storage(str(path))
    assert not [r for r in caplog.records if r.name == "rltui.journal"]
    again.set_trial_system_attr(trial_id, "next", 4)
    storage.set_trial_system_attr(trial_id, "last", 5)
    for reader in (storage, again, _plain(path), open_storage(str(path))):
        attrs = reader.get_trial(trial_id).system_attrs
        assert (attrs["next"], attrs["last"], attrs["glued"]) == (4, 5, 2)


def test_an_unfinished_last_line_is_cut_off_and_the_next_write_lands_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "study.journal"
    trial_id, half = _torn_by_an_older_version(path)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:3]) + half)  # the failed write, and nothing after it
    storage = open_storage(str(path))
    [note] = journal_notes(storage)
    assert f"line 4: an unfinished write of {len(half)} bytes, cut off" in note
    storage.set_trial_system_attr(trial_id, "after", 9)
    assert len(_whole_lines(path)) == 4
    assert _plain(path).get_trial(trial_id).system_attrs == {"before": 1, "after": 9}


@pytest.mark.parametrize(
    ("garbage", "words"),
    [
        (b"\x00" * 40, "40 bytes that are no log, replaced them by a log that does nothing"),
        (b"[1, 2]", "6 bytes that are no log, blanked them with their line end"),
        (b"", "0 bytes that are no log, blanked them with their line end"),
    ],
    ids=["zeros", "short", "empty"],
)
def test_a_line_with_no_log_becomes_one_that_does_nothing(
    garbage: bytes, words: str, tmp_path: Path
) -> None:
    path = tmp_path / "study.journal"
    plain = _plain(path)
    trial_id = _new_trial(plain)
    plain.set_trial_system_attr(trial_id, "after", 1)
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([*lines[:2], garbage + b"\n", *lines[2:]]))
    size = path.stat().st_size
    storage = open_storage(str(path))
    [note] = journal_notes(storage)
    assert f"line 3: {words}" in note
    assert path.stat().st_size == size  # mended in place
    for reader in (storage, _plain(path), open_storage(str(path))):
        assert reader.get_trial(trial_id).system_attrs == {"after": 1}


def test_a_read_only_open_reads_around_torn_lines_and_keeps_counting_as_optuna(
    tmp_path: Path,
) -> None:
    path = tmp_path / "study.journal"
    trial_id, _half = _torn_by_an_older_version(path)
    with open(path, "ab") as journal:
        journal.write(b"no log at all, long enough for a no-op\n")
    before = path.read_bytes()
    reader = open_storage(str(path), read_only=True)
    assert _kept(reader, trial_id) == KEPT
    assert path.read_bytes() == before and not Path(f"{path}.flock").exists()
    [note] = journal_notes(reader)
    assert "line 4: the torn start" in note and "line 6: 38 bytes that are no log" in note
    assert "read-only here" in note
    with pytest.raises(JournalWriteError, match="was opened to read only"):
        reader.set_trial_system_attr(trial_id, "nope", 1)
    # A writer mends the file and writes on; the reader, counting lines as before, follows.
    writer = open_storage(str(path))
    writer.set_trial_system_attr(trial_id, "new", 7)
    assert reader.get_trial(trial_id).system_attrs["new"] == 7
    assert reader.get_trial(trial_id).system_attrs == _plain(path).get_trial(trial_id).system_attrs


# -- a study folder that cannot be written ----------------------------------------------------


@pytest.fixture
def read_only_study(study_file: Callable[..., Path], tmp_path: Path) -> Iterator[Path]:
    """A study file that has run (its journal holds the study) whose folder is then made
    read-only: a read-only bind mount as root, else plain permissions."""
    path = study_file(name="ro")
    open_study(load_study(path))
    home = StudyHome.beside(path).root
    Path(f"{home / 'study.journal'}.flock").unlink()
    if os.geteuid() != 0:
        home.chmod(0o555)
        try:
            yield path
        finally:
            home.chmod(0o755)
        return
    mount(["--bind", str(home), str(home)], "a bind mount")
    try:
        mount(["-o", "remount,bind,ro", str(home)], "a read-only remount")
        yield path
    finally:
        umount(home)


def _one_line_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_a_read_only_study_exports_and_refuses_writes_in_one_line(
    read_only_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, home = read_only_study, StudyHome.beside(read_only_study).root
    journal = home / "study.journal"
    out = tmp_path / "out"
    assert main(["export", str(path), "--out", str(out)]) == 0
    assert (out / "trials.csv").is_file()
    assert main(["export", "--storage", str(journal), "--study", "ro", "--out", str(out)]) == 0
    capsys.readouterr()
    assert not Path(f"{journal}.flock").exists()
    reason = (
        f"{journal} is on a read-only file system (Errno 30); remount it read-write"
        if os.geteuid() == 0
        else f"this user may not write {journal} or its folder (Errno 13)"
    )
    for argv in (
        ["run", str(path)],
        ["worker", str(path)],
        ["ctl", "drain", "--study-file", str(path)],
        ["ctl", "drain", "--storage", str(journal), "--study", "ro"],
    ):
        err = _one_line_error(argv, capsys)
        assert err.startswith(f"rltui: cannot write the study: {reason}"), err
    err = _one_line_error(["export", str(path)], capsys)  # its default folder is in there
    assert err.startswith("rltui: cannot write the export: ") and "--out" in err


def test_the_command_line_prints_a_mended_journal_in_one_line(
    study_file: Callable[..., Path], tmp_path: Path
) -> None:
    path = study_file(name="torn")
    open_study(load_study(path))
    journal = StudyHome.beside(path).root / "study.journal"
    whole = journal.read_bytes()
    last = whole.splitlines(keepends=True)[-1]
    journal.write_bytes(whole + last[: len(last) // 2])  # an older version's failed write
    _plain(journal).set_study_system_attr(0, "glued", 1)
    done = subprocess.run(
        [sys.executable, "-m", "rltui", "export", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rltui: mended the journal {journal}"), lines
    assert _plain(journal).get_study_system_attrs(0)["glued"] == 1
    assert optuna.load_study(study_name="torn", storage=_plain(journal)).study_name == "torn"


def test_the_window_opens_a_read_only_study_to_read_and_its_controls_say_why(
    read_only_study: Path,
) -> None:
    from rltui.search.lifecycle import ControlAction
    from rltui.ui.services.session import Session

    session = Session.open(read_only_study)
    assert session.read_only is not None
    assert session.reader.poll().rows is not None  # the study reads as usual
    said = session.request(0, ControlAction.PAUSE)
    assert said.startswith("not done: ") and str(StudyHome.beside(read_only_study).root) in said
    with pytest.raises(PermissionError, match=r"read-only|may not write"):
        session.start_workers(1)
    assert session.enqueue({}).startswith("not done: ")
