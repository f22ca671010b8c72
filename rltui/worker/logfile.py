"""A worker's log file: where it lives, and copying a hand-started worker's output into it.

Workers started by :class:`rltui.launch.local.LocalPool` write straight into their log: their
stdout and stderr are the file. A worker started by hand (``rltui worker ...`` in a shell)
keeps printing to the terminal and copies everything into the same kind of file, so that the
UI's worker log view shows every worker, however it was started.

How the output is copied, and why this way:

- At the file-descriptor level (``dup2`` of fds 1 and 2 onto pipes), not by wrapping
  ``sys.stdout``/``sys.stderr``: what native code writes (warnings of C++ libraries, CUDA
  errors, a faulthandler dump) and what child processes write (``SubprocVecEnv``) reach the
  log too.
- Drained by a small copier *process*, not a reader thread: when the worker ends abruptly (a
  second Ctrl-C calls ``os._exit``, a crash, an out-of-memory kill) the copier still drains
  the pipes to the end. A thread would die with the worker and lose its last lines, from the
  terminal as well, since fds 1 and 2 then lead only into the pipes. A process also never
  competes with training for the GIL.

The copier runs in a session of its own so that Ctrl-C in the terminal (which signals the
whole foreground process group) or a hang-up cannot stop it before the worker's last words;
it ends when every writer has closed the pipes.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

from rltui.spec.wording import counted

CHUNK = 65536
COPIER_EXIT_WAIT = 5.0  # seconds; longer only when a child process still holds the pipes


class Tee:
    """Copies everything this process writes to stdout and stderr into ``log`` (appended),
    while it still reaches the original stdout and stderr. Use as a context manager, or call
    :meth:`start` and :meth:`stop`."""

    def __init__(self, log: Path):
        self.log = log
        self._copier: subprocess.Popen[bytes] | None = None
        self._saved: tuple[int, int] | None = None

    def start(self) -> None:
        """Begin copying; raises OSError (with nothing changed) when the log cannot be
        written or the copier cannot start."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()  # fail here, where the caller can say so, not in the copier
        _flush()
        out_pipe, err_pipe = os.pipe(), os.pipe()
        reads = (out_pipe[0], err_pipe[0])
        try:
            self._copier = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.log), *map(str, reads)],
                stdin=subprocess.DEVNULL,
                pass_fds=reads,
                start_new_session=True,
            )
        except OSError:
            for fd in (*out_pipe, *err_pipe):
                os.close(fd)
            raise
        self._saved = (os.dup(1), os.dup(2))
        for target, (read, write) in zip((1, 2), (out_pipe, err_pipe), strict=True):
            os.dup2(write, target)
            os.close(write)
            os.close(read)  # only the copier reads

    def stop(self) -> None:
        """Point stdout and stderr back at their originals and let the copier finish."""
        if self._saved is None:
            return
        _flush()
        for target, fd in zip((1, 2), self._saved, strict=True):
            os.dup2(fd, target)  # closes our ends of the pipes: the copier sees end-of-file
            os.close(fd)
        self._saved = None
        if self._copier is not None:
            # Wait, so that the shell's prompt comes after the worker's last line. A child
            # process that still holds the pipes keeps the copier alive; do not wait for it.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._copier.wait(timeout=COPIER_EXIT_WAIT)

    def __enter__(self) -> Tee:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


def copy_streams(log: Path, routes: dict[int, int]) -> None:
    """Copy each source fd of ``routes`` to its target fd and to ``log`` until every source
    reaches end-of-file. A target or the log that fails stops being written; the rest go on."""
    try:
        sink: int | None = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError:
        sink = None
    live = dict(routes)
    while live:
        ready, _, _ = select.select(list(live), [], [])
        for source in ready:
            data = os.read(source, CHUNK)
            if not data:
                del live[source]
                continue
            if sink is not None and not _write_all(sink, data):
                sink = None  # the disk is full or gone: keep the terminal going
            if live[source] >= 0 and not _write_all(live[source], data):
                live[source] = -1  # the terminal is gone (SSH dropped): keep the log going


def _write_all(fd: int, data: bytes) -> bool:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        return False
    return True


class LogStream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` of a worker whose output is its log file (started by
    a launcher): a write the disk has no room for is dropped and counted instead of raising
    inside training or the heartbeat thread, and the first write that fits says how many were
    lost. Unbuffered, so every line is in the file (or counted lost) when ``print`` returns."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd
        self.lost = 0

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def isatty(self) -> bool:
        return os.isatty(self.fd)

    def write(self, text: str) -> int:
        data = text.encode("utf-8", "replace")
        if self.lost:
            note = f"[{counted(self.lost, 'write')} to this log lost while the disk was full]\n"
            data = note.encode() + data
        if _write_all(self.fd, data):
            self.lost = 0
        else:
            self.lost += 1
        return len(text)


def _main(argv: list[str]) -> None:
    """The copier: ``python -m rltui.worker.logfile LOG STDOUT_PIPE STDERR_PIPE``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log, out_fd, err_fd = argv
    copy_streams(Path(log), {int(out_fd): 1, int(err_fd): 2})


if __name__ == "__main__":
    _main(sys.argv[1:])
