"""The journal's write lock: ``flock(2)`` on ``<journal>.flock``, and how a writer waits for it.

``flock`` is let go by the kernel when its holder dies (Optuna's symbolic link outlives a
killed worker and stalls the others for 30 s). On NFS, ``flock`` needs the server's lock
support (NFSv4 has it).

A holder that is stopped (Ctrl-Z, SIGSTOP, a debugger, a frozen VM that thaws one process
first) keeps the lock for as long as it stays stopped, and every writer of the study waits
with it: the other workers, ``rltui run``, the window's controls. The heartbeat cannot help:
declaring a worker lost is a write too. So a writer does not wait blind. It tries the lock
without blocking and sleeps between tries (0.5 ms at first, growing to 20 ms: a journal write
takes milliseconds, and a signal such as Ctrl-C ends the wait at once). After a second of
waiting it looks the holder up in ``/proc/locks`` (a ``FLOCK`` line, not a waiter's ``->``
line, for the lock file's device and inode) every half second:

- A holder stopped on this host (state ``T`` or ``t`` in ``/proc/<pid>/stat``) is named once
  per wait on the :data:`LOGGER` logger, with what to do: continue it or end it.
- An ``rltui worker`` of this user that stays stopped for the grace time (the study file's
  ``control.heartbeat_grace``: :func:`set_stall_grace`, or the lock's own ``grace``) counted
  from when this writer first saw it stopped, is ended with SIGKILL, and that is said once
  too. The kernel lets its lock go and this writer takes it; the worker, its process gone, is
  then a lost worker whose trial is retried from its checkpoint (as the study file's
  ``retries`` allow), which the heartbeat would have decided by then had anyone been able to
  write it down. A worker is told by its command line: ``python -m rltui worker`` (as the
  launchers start it) or the ``rltui`` entry point followed by ``worker``.
- Any other holder (the window, ``rltui run``, another user's process, a program that is not
  rltui, one that runs) is only waited for; so is one that cannot be found (a lock held from
  another host over NFS, no ``/proc``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

# What a wait says goes to this logger (a child of "rltui.journal", which commands print), so
# that the window can show it apart from the journal's other reports.
LOGGER = "rltui.journal.lock"
# The study file's default control.heartbeat_grace (rltui.spec.model.ControlSpec).
DEFAULT_GRACE = 20.0
_FIRST_SLEEP, _LONGEST_SLEEP = 0.0005, 0.02  # seconds between tries of a busy lock
_LOOK_AFTER, _LOOK_EVERY = 1.0, 0.5  # when a waiter looks the holder up, and how often
_logger = logging.getLogger(LOGGER)
_grace = DEFAULT_GRACE


def set_stall_grace(seconds: float) -> None:
    """Let a worker holding a journal's lock stay stopped ``seconds`` (the study file's
    ``control.heartbeat_grace``) before a writer of this process waiting for that lock ends
    it; for every :class:`FlockLock` made without a grace of its own."""
    global _grace
    if not seconds > 0:
        raise ValueError(f"the grace time must be positive, not {seconds!r}")
    _grace = float(seconds)


def stall_grace() -> float:
    """The grace time :func:`set_stall_grace` set (:data:`DEFAULT_GRACE` until then)."""
    return _grace


class FlockLock:
    """The journal's write lock, held with ``flock(2)`` on ``<journal>.flock``; ``grace`` is
    how long a stopped worker may hold it while this lock waits (default:
    :func:`stall_grace`)."""

    def __init__(self, journal: str, grace: float | None = None) -> None:
        self.journal = journal
        self.path = journal + ".flock"
        self.grace = grace
        self._fd: int | None = None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock; without ``blocking``, False at once when another process holds it.
        Waiting, it ends a worker that stays stopped while it holds the lock (see the module
        docstring)."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                if not blocking:
                    os.close(fd)
                    return False
                self._wait(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the file lets the lock go

    def _wait(self, fd: int) -> None:
        """Try the lock until ``fd`` holds it, looking at its holder now and then."""
        stall = _Stall(self.journal, self.grace if self.grace is not None else _grace)
        delay = _FIRST_SLEEP
        look_at = time.monotonic() + _LOOK_AFTER
        while True:
            time.sleep(delay)
            delay = min(2 * delay, _LONGEST_SLEEP)
            if _try_lock(fd):
                return
            now = time.monotonic()
            if now >= look_at:
                look_at = now + _LOOK_EVERY
                stall.look(os.fstat(fd), now)


def _try_lock(fd: int) -> bool:
    """Take the lock on ``fd`` if it is free; False when another open file holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class _Stall:
    """What one wait for the lock has seen of its holders, so that each is named once."""

    def __init__(self, journal: str, grace: float) -> None:
        self.journal = journal
        self.grace = grace
        self.said: set[int] = set()  # holders named as stopped
        self.stopped_since: dict[int, float] = {}  # holder -> when first seen stopped
        self.ended: set[int] = set()

    def look(self, lock: os.stat_result, now: float) -> None:
        for pid in lock_holders(lock):
            holder = Holder.read(pid)
            if holder is None or not holder.stopped:
                self.stopped_since.pop(pid, None)  # it ran meanwhile: its stop counts anew
                continue
            since = self.stopped_since.setdefault(pid, now)
            if pid not in self.said:
                self.said.add(pid)
                _logger.warning("%s", self._stopped(holder))
            late = holder.endable and now - since >= self.grace and pid not in self.ended
            if late and end_stopped_worker(pid, lock):
                self.ended.add(pid)
                _logger.warning("%s", self._ended(holder, now - since))

    def _stopped(self, holder: Holder) -> str:
        pid = holder.pid
        then = (
            f"; if it stays stopped {self.grace:g} s, it is ended (kill -9), and its trial is "
            "retried as the study file's retries allow"
            if holder.endable
            else ""
        )
        return (
            f"rltui: the study's journal {self.journal} is locked by process {pid} "
            f"({holder.describe()}), which is stopped: every writer of the study waits. "
            f"Continue it (kill -CONT {pid}) or end it{then}"
        )

    def _ended(self, holder: Holder, stopped: float) -> str:
        return (
            f"rltui: ended process {holder.pid} (rltui worker), stopped for {stopped:.0f} s "
            f"or more while it held the lock of the study's journal {self.journal}: the "
            "study's writers go on, and its trial will be retried from its last checkpoint "
            "as a lost worker's (if the study file's retries allow; else it is marked FAIL)"
        )


def lock_holders(lock: os.stat_result) -> list[int]:
    """The processes ``/proc/locks`` names as holding a ``flock`` on the file ``lock`` is the
    status of; none where it names none (a lock held from another host, no ``/proc``)."""
    try:
        text = Path("/proc/locks").read_text(errors="replace")
    except OSError:
        return []
    # The kernel writes the device as hex major:minor and the inode in decimal.
    where = f"{os.major(lock.st_dev):02x}:{os.minor(lock.st_dev):02x}:{lock.st_ino}"
    holders = []
    for line in text.splitlines():
        # "1: FLOCK  ADVISORY  WRITE 1234 fe:00:5678 0 EOF"; waiters: "1: -> FLOCK ..."
        fields = line.split()
        if len(fields) < 6 or fields[1] != "FLOCK" or not fields[4].isdigit():
            continue
        pid, file = int(fields[4]), fields[5]
        if pid <= 0 or file.rsplit(":", 1)[-1] != str(lock.st_ino):
            continue
        # Some file systems (btrfs subvolumes, overlayfs) show another device than stat():
        # there, the holder must have the file open.
        if file == where or opens(pid, lock):
            holders.append(pid)
    return holders


def opens(pid: int, file: os.stat_result) -> bool:
    """Whether process ``pid`` has the file ``file`` is the status of open (False when its
    descriptors cannot be read: another user's process, or gone)."""
    folder = f"/proc/{pid}/fd"
    try:
        descriptors = os.listdir(folder)
    except OSError:
        return False
    for name in descriptors:
        with contextlib.suppress(OSError):
            seen = os.stat(f"{folder}/{name}")
            if (seen.st_dev, seen.st_ino) == (file.st_dev, file.st_ino):
                return True
    return False


@dataclass(frozen=True)
class Holder:
    """A process on this host, as ``/proc`` shows it."""

    pid: int
    state: str  # the state letter of /proc/<pid>/stat: R, S, D, T (stopped), t (traced)...
    uid: int  # its real user id
    argv: tuple[str, ...]  # its command line
    name: str  # its command name (/proc/<pid>/comm)

    @classmethod
    def read(cls, pid: int) -> Holder | None:
        """The process ``pid``, or None when it is gone or ``/proc`` does not show it."""
        base = Path(f"/proc/{pid}")
        try:
            stat = (base / "stat").read_text()
            status = (base / "status").read_text()
            argv = (base / "cmdline").read_bytes().split(b"\0")
            name = (base / "comm").read_text().strip()
            state = stat.rsplit(")", 1)[1].split()[0]  # the name in parentheses may hold ")"
            uid = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:")
            )
        except (OSError, IndexError, ValueError, StopIteration):
            return None
        if argv and not argv[-1]:
            argv.pop()  # the terminating NUL
        return cls(pid, state, uid, tuple(a.decode(errors="replace") for a in argv), name)

    @property
    def stopped(self) -> bool:
        return self.state in ("T", "t")

    @property
    def endable(self) -> bool:
        """Whether a writer may end it when it holds the lock stopped: an rltui worker of
        this user (a worker ended is retried; the window or ``rltui run`` would be lost)."""
        args = rltui_command(self.argv)
        return self.uid == os.getuid() and args is not None and args[:1] == ("worker",)

    def describe(self) -> str:
        """What the process is, for a message: ``rltui worker``, ``rltui run``, ``python3``."""
        args = rltui_command(self.argv)
        if args is None:
            what = self.name or "unknown program"
        elif args and args[0].isalpha():
            what = f"rltui {args[0]}"
        else:
            what = "rltui"
        return what if self.uid == os.getuid() else f"{what}, of another user"


def rltui_command(argv: tuple[str, ...]) -> tuple[str, ...] | None:
    """The arguments after rltui's entry point in the command line ``argv`` (``("worker",
    "study.yaml", ...)``), or None when ``argv`` runs something else. rltui runs as the
    ``rltui`` script (``/venv/bin/python /venv/bin/rltui worker ...``, or ``rltui`` itself
    where a launcher is a binary) or as ``python -m rltui``, the launchers' way."""
    if not argv:
        return None
    if Path(argv[0]).name == "rltui":
        return argv[1:]
    if not Path(argv[0]).name.startswith("python"):
        return None
    index = 1
    while index < len(argv):  # the interpreter's own options, up to -m, -c or a script
        arg = argv[index]
        if arg == "--check-hash-based-pycs":
            index += 2
            continue
        if not arg.startswith("-") or arg in ("-", "--"):
            script = argv[index + 1] if arg == "--" and index + 1 < len(argv) else arg
            rest = index + (2 if arg == "--" else 1)
            return argv[rest:] if Path(script).name == "rltui" else None
        for at, flag in enumerate(arg[1:], start=1):
            if flag in "cmWX":  # these take a value: the rest of this argument or the next
                value = arg[at + 1 :]
                if not value:
                    index += 1
                    value = argv[index] if index < len(argv) else ""
                if flag == "c":
                    return None
                if flag == "m":
                    return argv[index + 1 :] if value in ("rltui", "rltui.__main__") else None
                break
        index += 1
    return None


def end_stopped_worker(pid: int, lock: os.stat_result) -> bool:
    """SIGKILL process ``pid`` if it is still a stopped rltui worker of this user that has
    the lock file ``lock`` open; whether it was sent."""
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):  # no pidfd: Linux before 5.3
        pidfd = os.pidfd_open(pid)
    try:
        # Checked again after the pidfd is open: the signal then goes to the process checked,
        # never to another that a freed pid was given to meanwhile.
        holder = Holder.read(pid)
        if holder is None or not (holder.stopped and holder.endable and opens(pid, lock)):
            return False
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:  # gone meanwhile, or not ours to signal after all
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return True
