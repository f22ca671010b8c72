"""The log view: the tail of a worker's log file, followed on a thread."""

from __future__ import annotations

import threading
from pathlib import Path

from textual import work
from textual.widgets import Log

from rltui.search.workers import WorkerRecord

TAIL_BYTES = 32_000


def read_tail(path: Path, limit: int = TAIL_BYTES) -> tuple[list[str], int]:
    """The last lines of a file (at most ``limit`` bytes) and the size read up to."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except OSError:
        return [], 0
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > limit and lines:
        lines = lines[1:]  # the first line is probably cut
    return lines, size


class LogView(Log):
    """Follows one log file at a time; ``follow(None)`` stops."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, max_lines=2000, auto_scroll=True)
        self.path: Path | None = None
        self._stop = threading.Event()

    def follow(self, path: Path | None, title: str | None = None) -> None:
        if path == self.path:
            return
        self.path = path
        self._stop.set()
        self._stop = threading.Event()
        self.clear()
        if path is None:
            self.write_line(title or "no log: select a trial or a worker that has one")
            return
        self.write_line(f"── {title or path} ──")
        self._tail(path, self._stop)

    def follow_trial(self, record: WorkerRecord | None, number: int | None) -> None:
        """Follow the log of ``record``, the worker that runs (or ran) trial ``number``; no
        worker or no log: say so."""
        if record is not None and record.log and number is not None:
            self.follow(Path(record.log), f"worker {record.id} (trial {number})")
        else:
            self.follow(None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="log")
    def _tail(self, path: Path, stop: threading.Event) -> None:
        lines, size = read_tail(path)
        if lines:
            self.app.call_from_thread(self.write_lines, lines)
        while not stop.wait(1.0):
            try:
                new_size = path.stat().st_size
            except OSError:
                continue
            if new_size == size:
                continue
            with path.open("rb") as handle:
                handle.seek(size if new_size > size else 0)
                data = handle.read()
            size = new_size
            text = data.decode("utf-8", errors="replace").splitlines()
            if text and not stop.is_set():
                self.app.call_from_thread(self.write_lines, text)

    def on_unmount(self) -> None:
        self._stop.set()
