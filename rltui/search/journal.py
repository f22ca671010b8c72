"""Journal files: a lock that a killed process cannot hold on to, and snapshots that make a
study open in time proportional to its trials, not to its history.

Optuna's journal file is locked for each append with a symbolic link (made for NFS servers
without lock daemons). A worker killed while it holds that link (kill -9, OOM killer, a lost
machine) leaves it behind, and every other process of the study (workers, the UI's control
requests) then waits 30 s until Optuna breaks it. :class:`FlockLock` locks with ``flock(2)``
instead: the kernel lets go when the holder dies. rltui's processes all use it; plain Optuna
tools that only read the journal (``optuna trials``, optuna-dashboard) need no lock. On NFS,
``flock`` needs the server's lock support (built into NFSv4).

Optuna's journal is an append-only log, and opening one replays every line. Worker
heartbeats and progress updates append lines all day long (four workers add about 350,000
a day), so without help a study would open more slowly every day it runs, in the UI and in
every new worker.

Optuna lets a journal backend keep snapshots (``BaseJournalSnapshot``): every 100 new trials,
the process that created the trial pickles its replayed state and hands it to the backend;
a later open restores it and replays only the lines written since. Optuna's file backend
keeps none; :class:`SnapshotFileBackend` keeps one in ``<journal>.snapshot`` beside the file,
with where in the journal it ends, so an open seeks there instead of reading from the top.

A snapshot is used only when it plainly belongs to this journal (the same file, and the
same bytes just before the point where it ends), was made by the same Optuna version, and
is a file of this user's that nobody else may write (it is a pickle: loading one runs what
it says). Otherwise it is ignored, and the journal is replayed in full as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import struct
import tempfile
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.storages.journal._base import BaseJournalSnapshot
from optuna.storages.journal._file import BaseJournalFileLock

from rltui.search.optuna_internals import journal_replay_module

MAGIC = b"rltui-journal-snapshot-1\n"
TAIL = 64  # bytes of the journal, just before the snapshot's end, kept to recognise it
# log number, byte offset, device, inode, tail length, Optuna version length
_HEADER = struct.Struct("<QQQQHH")


class FlockLock(BaseJournalFileLock):
    """The journal's write lock, held with ``flock(2)`` on ``<journal>.flock``."""

    def __init__(self, journal: str) -> None:
        self.path = journal + ".flock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the file lets the lock go


class SnapshotFileBackend(JournalFileBackend, BaseJournalSnapshot):
    """Optuna's journal file, locked with :class:`FlockLock`, with a snapshot of its
    replayed state beside it."""

    def __init__(self, file_path: str, *, use_snapshot: bool = True) -> None:
        super().__init__(file_path, lock_obj=FlockLock(file_path))
        self.snapshot_path = Path(file_path + ".snapshot")
        self.use_snapshot = use_snapshot
        self.restored = False  # whether load_snapshot handed Optuna a snapshot

    def save_snapshot(self, snapshot: bytes) -> None:
        # Optuna calls this right after reading the journal to its end, under its lock,
        # so the last offset read is where the state in ``snapshot`` ends.
        number = max(self._log_number_offset)
        offset = self._log_number_offset[number]
        try:
            with open(self._file_path, "rb") as journal:
                stat = os.fstat(journal.fileno())
                journal.seek(max(0, offset - TAIL))
                tail = journal.read(offset - max(0, offset - TAIL))
            version = optuna.__version__.encode()
            header = _HEADER.pack(number, offset, stat.st_dev, stat.st_ino, len(tail), len(version))
            folder = self.snapshot_path.parent
            fd, temp = tempfile.mkstemp(prefix=".snapshot-", dir=folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(MAGIC + header + tail + version)
                    out.write(snapshot)
                os.replace(temp, self.snapshot_path)  # readers see the old one or the new one
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                raise
        except OSError:
            pass  # a snapshot only saves time; the journal itself is intact

    def load_snapshot(self) -> bytes | None:
        if not self.use_snapshot:
            return None
        try:
            with open(self.snapshot_path, "rb") as file:
                stat = os.fstat(file.fileno())
                if stat.st_uid != os.getuid() or stat.st_mode & 0o022:
                    return None  # another user could have written it
                data = file.read()
        except OSError:
            return None
        if not data.startswith(MAGIC):
            return None
        start = len(MAGIC) + _HEADER.size
        try:
            number, offset, dev, ino, tail_len, version_len = _HEADER.unpack(
                data[len(MAGIC) : start]
            )
        except struct.error:
            return None
        tail = data[start : start + tail_len]
        version = data[start + tail_len : start + tail_len + version_len]
        if version != optuna.__version__.encode() or not self._ends_at(offset, dev, ino, tail):
            return None
        # Where the snapshot's state ends: reading resumes there instead of at line 0.
        self._log_number_offset[number] = offset
        self.restored = True
        return data[start + tail_len + version_len :]

    def _ends_at(self, offset: int, dev: int, ino: int, tail: bytes) -> bool:
        """Whether this journal is the file the snapshot was made from, grown since."""
        try:
            with open(self._file_path, "rb") as journal:
                stat = os.fstat(journal.fileno())
                if (stat.st_dev, stat.st_ino) != (dev, ino) or stat.st_size < offset:
                    return False
                journal.seek(offset - len(tail))
                return journal.read(len(tail)) == tail and (offset == 0 or tail.endswith(b"\n"))
        except OSError:
            return False


def open_journal(path: Path) -> JournalStorage:
    """Open the journal at ``path`` (created when missing), from its snapshot when it has one."""
    share_parsed_distributions()
    backend = SnapshotFileBackend(str(path))
    try:
        return JournalStorage(backend)
    except OSError:
        raise
    except Exception:
        if not backend.restored:
            raise
        # Optuna could not use the snapshot after all (it catches only some errors): the
        # journal alone has everything.
        return JournalStorage(SnapshotFileBackend(str(path), use_snapshot=False))


def share_parsed_distributions() -> None:
    """Parse each distinct distribution once while a journal is replayed.

    Optuna's journal replay parses every trial's distributions from their JSON strings: five
    parameters make 50,000 parses for 10,000 trials, of a handful of distinct strings, which
    was 40 % of opening such a journal. Distributions are immutable values, so trials can
    share one object per string. Where Optuna's internals differ, nothing is changed.
    """
    replay = journal_replay_module()

    parse = getattr(replay, "json_to_distribution", None)
    if callable(parse) and not hasattr(parse, "cache_info"):
        replay.json_to_distribution = functools.lru_cache(maxsize=4096)(parse)
