"""Journal files: appends that land whole or not at all, torn lines read around and mended,
a lock a killed process cannot keep, and snapshots that make a study open in time
proportional to its trials, not its history. Plain Optuna opens every file written here.

Appends: a batch is written under the lock in one write and fsync'ed; on any error (full disk,
quota, I/O, Ctrl-C) the file is cut back to its size before and :class:`JournalWriteError`
raised. (Else half a line stays, the next append is glued to it, and nothing can read it.)

Torn journals (from older versions) open: an unfinished last line (no line end: never
committed) is cut off; a torn start glued to a whole log (``HALF{"op_code":...}``) is blanked
(JSON allows leading blanks); a line with no log becomes a no-op log padded with blanks, or,
under 15 bytes, is blanked with its line end and so begins the next line. A bad line counts as
one log for the reader that finds it, as Optuna's replay counts lines. A read-only journal is
read around the same way and left as it is. Findings are reported once (:func:`journal_notes`).

Mending in place is safe for readers, which take no lock: a rewrite keeps the line's length,
so every offset a process holds (where its logs start, a snapshot's end) stays a line's start;
it changes only bytes no reader can use, never a whole log; it runs under the write lock after
finding the line unchanged, so no append moves the end and a line is mended once. A reader
catching a rewrite midway reads a mix Optuna cannot decode either way (it reads the line again
later); rltui's reader compares a bad line with the file before counting it, and reads it
again next time on any difference. An unfinished last line is cut only under the lock (no
writer at work), and no reader counts it: all read whole lines within the size they saw
first. (A reader can hold a line then taken back only where fsync failed after the whole line
was written.) Every writer must be rltui: plain Optuna takes another lock.

The write lock is :class:`~rltui.search.journal_lock.FlockLock`, a ``flock(2)`` let go by
the kernel when its holder dies, whose waiters end an rltui worker that stays stopped while it
holds it (:mod:`rltui.search.journal_lock` says how).

Snapshots: every 100 new trials Optuna hands the backend its pickled state, kept in
``<journal>.snapshot`` with where in the journal it ends (heartbeats add 350,000 lines a day);
an open restores it and reads on from there, if it plainly belongs to this journal (same file,
same bytes before its end), was made by the same Optuna version, and is this user's file that
nobody else may write (a pickle runs what it says). Else the journal is replayed in full.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import mmap
import os
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage
from optuna.storages.journal import BaseJournalBackend

from rltui.search.errors import JournalWriteError
from rltui.search.journal_lock import FlockLock
from rltui.search.optuna_internals import (
    declare_journal_snapshot,
    journal_backend_of,
    journal_noop_operation,
    share_parsed_distributions,
)
from rltui.spec.wording import counted

MAGIC = b"rltui-journal-snapshot-1\n"
TAIL = 64  # bytes of the journal, just before the snapshot's end, kept to recognise it
# log number, byte offset, device, inode, tail length, Optuna version length
_HEADER = struct.Struct("<QQQQHH")
_BLANKS = b" \t\r"  # JSON whitespace, but for the line end
_LOG_START = re.compile(rb'\{\s*"op_code"')  # how Optuna begins every log it writes
_NAMED = 3  # torn lines named one by one in a report; more are counted
_logger = logging.getLogger("rltui.journal")


@declare_journal_snapshot
class JournalFile(BaseJournalBackend):
    """Optuna's journal file, read and written as the module says, with a snapshot beside it.
    ``read_only`` is None to write (under :class:`FlockLock`), or the errno appends are refused
    with (EROFS, EACCES; EBADF when opened to read only); a read-only journal takes no lock."""

    def __init__(
        self, file_path: str, *, read_only: int | None = None, use_snapshot: bool = True
    ) -> None:
        self.path = file_path
        self.read_only = read_only
        self.snapshot_path = Path(file_path + ".snapshot")
        self.use_snapshot = use_snapshot
        self.restored = False  # whether load_snapshot handed Optuna a snapshot
        self._lock = FlockLock(file_path)
        self._offsets = {0: 0}  # log number -> where its line starts
        self._last = 0  # the highest log number in _offsets
        self._found: list[str] = []  # torn lines not reported yet
        self._unmended: list[tuple[int, bytes, bytes]] = []  # offset, old, new: lock was busy
        self.notes: list[str] = []  # reports not taken by journal_notes yet
        if read_only is None and not os.path.exists(file_path):
            open(file_path, "ab").close()

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        waiting, self._unmended = self._unmended, []
        for offset, old, new in waiting:
            self._mend(offset, old, new)
        number = log_number_from if log_number_from in self._offsets else 0
        offset = self._offsets[number]
        with open(self.path, "rb") as journal:
            # Only whole lines within the size seen now: a line being written is read next time.
            size = os.fstat(journal.fileno()).st_size
            journal.seek(offset)
            for line in journal:
                if offset + len(line) > size:
                    break
                if not line.endswith(b"\n"):  # the last line, unfinished
                    if self.read_only is None:  # a writer at work holds the lock, and cuts it
                        with contextlib.suppress(OSError), self._locked() as fd:
                            if fd is not None:
                                self._cut_unfinished_locked(fd, number)
                    break
                log = _log_of(line)
                if log is None:
                    if os.pread(journal.fileno(), len(line), offset) != line:
                        break  # changed while read (mended meanwhile): read it again next time
                    log = self._torn_line(line, number, offset)
                offset += len(line)
                number += 1
                self._offsets[number] = offset
                if number > self._last:
                    self._last = number
                if number > log_number_from:
                    yield log
        self._report()

    def _torn_line(self, line: bytes, number: int, offset: int) -> dict[str, Any]:
        """The log a bad line stands for; the line is mended when this journal is written."""
        new, log, found, done = _mended(line)
        if self.read_only is not None:
            done = "read around it"
        elif not self._mend(offset, line, new):
            done = "read around it, to be mended once no write holds the journal"
        self._found.append(f"line {number + 1}: {found}, {done}")
        return log

    @contextlib.contextmanager
    def _locked(self, *, wait: bool = False, flags: int = 0) -> Iterator[int | None]:
        """The journal open to write, under the lock; None when another process holds it and
        not ``wait`` (a reader never waits: what it would do is tried again next read)."""
        if not self._lock.acquire(blocking=wait):
            yield None
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | flags, 0o666)
            try:
                yield fd
            finally:
                os.close(fd)
        finally:
            self._lock.release()

    def _mend(self, offset: int, old: bytes, new: bytes) -> bool:
        """Write ``new`` over ``old`` at ``offset`` under the lock if ``old`` is still there."""
        with contextlib.suppress(OSError), self._locked() as fd:
            if fd is not None:
                if os.pread(fd, len(old), offset) == old:
                    os.pwrite(fd, new, offset)
                    os.fsync(fd)
                return True
        self._unmended.append((offset, old, new))
        return False

    def _cut_unfinished_locked(self, fd: int, number: int) -> int:
        """Under the lock: cut the bytes after the last line end but for leading blanks (a
        blanked short line's, which offsets held elsewhere may point past). Returns the size."""
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return size
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as journal:
            start = journal.rfind(b"\n") + 1  # searches from the end: as long as the tail
            tail = journal[start:]
        keep = start + len(tail) - len(tail.lstrip(_BLANKS))
        if keep < size:
            os.ftruncate(fd, keep)
            os.fsync(fd)
            where = f"line {number + 1}" if self._offsets.get(number) == start else "the end"
            self._found.append(f"{where}: an unfinished write of {size - keep} bytes, cut off")
        return keep

    def _report(self) -> None:
        """Report the torn lines found since the last report: one warning line, also kept for
        :func:`journal_notes`."""
        if not self._found:
            return
        found, self._found = self._found, []
        named = "; ".join(found[:_NAMED]) + (
            f"; and {len(found) - _NAMED} more" * (len(found) > _NAMED)
        )
        note = (
            f"rltui: mended the journal {self.path}, torn by writes that failed "
            f"({counted(len(found), 'line')}): {named}; every write that finished is kept, "
            "and Optuna reads it again"
            if self.read_only is None
            else f"rltui: the journal {self.path} is torn by writes that failed "
            f"({counted(len(found), 'line')}): {named}; it is read-only here, so it stays so "
            "(Optuna cannot read it)"
        )
        self.notes.append(note)
        _logger.warning("%s", note)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        if self.read_only is not None:
            raise JournalWriteError(self.path, self.read_only)
        data = "".join(json.dumps(log, separators=(",", ":")) + "\n" for log in logs).encode()
        try:  # the lock, the file, the cut and the write: any failure leaves nothing written
            with self._locked(wait=True, flags=os.O_APPEND) as fd:
                assert fd is not None
                # A line left unfinished by an older version would have this write glued on.
                size = self._cut_unfinished_locked(fd, self._last)
                try:
                    written = 0
                    while written < len(data):  # a short write is followed by the error itself
                        written += os.write(fd, data[written:])
                    os.fsync(fd)
                except BaseException:
                    with contextlib.suppress(OSError):  # else the next append or open cuts it
                        os.ftruncate(fd, size)
                        os.fsync(fd)
                    raise
        except OSError as exc:
            raise JournalWriteError(self.path, exc.errno or errno.EIO, exc.strerror) from exc
        self._report()

    def save_snapshot(self, snapshot: bytes) -> None:
        if self.read_only is not None or self._unmended:
            return  # a snapshot past a torn line would keep later opens from mending it
        # Optuna calls this right after reading the journal to its end, under its lock,
        # so the last offset read is where the state in ``snapshot`` ends.
        number, offset = self._last, self._offsets[self._last]
        try:
            with open(self.path, "rb") as journal:
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
        self._offsets[number], self._last = offset, number
        self.restored = True
        return data[start + tail_len + version_len :]

    def _ends_at(self, offset: int, dev: int, ino: int, tail: bytes) -> bool:
        """Whether this journal is the file the snapshot was made from, grown since."""
        try:
            with open(self.path, "rb") as journal:
                stat = os.fstat(journal.fileno())
                if (stat.st_dev, stat.st_ino) != (dev, ino) or stat.st_size < offset:
                    return False
                journal.seek(offset - len(tail))
                return journal.read(len(tail)) == tail and (offset == 0 or tail.endswith(b"\n"))
        except OSError:
            return False


def _log_of(line: bytes) -> dict[str, Any] | None:
    """The log a line holds, or None when it holds none that Optuna could replay."""
    try:
        log = json.loads(line)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        return None
    return log if isinstance(log, dict) and type(log.get("op_code")) is int else None


def _mended(line: bytes) -> tuple[bytes, dict[str, Any], str, str]:
    """What a bad line (ending in a line end) becomes, of the same length; the log it stands
    for; what it held; and what was done."""
    for match in _LOG_START.finditer(line, 1):
        log = _log_of(line[match.start() :])
        if log is not None:  # a torn start glued to the log written after it
            start = match.start()
            found = f"the torn start of a write that failed ({start} bytes) before a whole log"
            return b" " * start + line[start:], log, found, "blanked it, keeping the log"
    noop = {"op_code": journal_noop_operation()}
    noop_line = json.dumps(noop, separators=(",", ":")).encode()
    found = f"{len(line) - 1} bytes that are no log"
    if len(line) > len(noop_line):
        new = noop_line.ljust(len(line) - 1) + b"\n"
        return new, noop, found, "replaced them by a log that does nothing"
    # Too short for any log: the blanks become the start of the line after it.
    return b" " * len(line), noop, found, "blanked them with their line end"


def open_journal(path: Path, *, read_only: int | None = None) -> JournalStorage:
    """Open the journal at ``path`` (created when missing and writable), from its snapshot
    when it has one; ``read_only`` as :class:`JournalFile` takes it."""
    share_parsed_distributions()
    backend = JournalFile(str(path), read_only=read_only)
    try:
        return JournalStorage(backend)
    except OSError:
        raise
    except Exception:
        if not backend.restored:
            raise
        # Optuna could not use the snapshot after all (it catches only some errors): the
        # journal alone has everything.
        return JournalStorage(JournalFile(str(path), read_only=read_only, use_snapshot=False))


def journal_notes(storage: BaseStorage) -> list[str]:
    """The reports of torn journal lines found by ``storage`` since the last call, one line
    each, each once (also logged as warnings on the ``rltui.journal`` logger, which a command
    prints to stderr); none for a storage that is not a journal file."""
    backend = journal_backend_of(storage)
    if not isinstance(backend, JournalFile):
        return []
    notes, backend.notes = backend.notes, []
    return notes
