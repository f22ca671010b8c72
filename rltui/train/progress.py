"""A trial's training log: every SB3 log dump and every evaluation, one JSON line each.

JSON lines are appended, so a resumed trial continues the same file; ``rltui export`` turns
them into ``progress.csv``. A trial that resumes from a checkpoint first drops the rows past
it (:meth:`ProgressLog.truncate_after`): those of a run that was lost after its last
checkpoint, which the resumed run trains again. Each row is one ``write(2)``; one that fails
(a full disk) is cut off again, so no torn line is left for the next row to join.

With a TensorBoard folder (``train.tensorboard``), every row also goes to SB3's own
TensorBoard writer, evaluations as ``eval/mean_reward``. A resumed trial adds an event file to
the same folder, which TensorBoard reads as the same run; its first event marks a restart at
the step training resumes from, so TensorBoard hides what a lost run logged past it, as the
JSON lines drop it.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from stable_baselines3.common.logger import KVWriter, Logger


class ProgressLog(KVWriter):
    """Appends ``{"timesteps": ..., "time/...": ..., "train/...": ...}`` lines to a file."""

    def __init__(self, path: Path, tensorboard: Path | None = None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd: int | None = self._open()
        self._torn = False  # a failed row could not be cut off: the next one starts a new line
        self.tensorboard = tensorboard
        self._board: KVWriter | None = None  # opened at the first row
        self._resumed_at: int | None = None  # where training (re)started: see truncate_after

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def sb3_logger(self) -> Logger:
        return Logger(folder=str(self.path.parent), output_formats=[self])

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0
    ) -> None:
        row: dict[str, Any] = {"timesteps": step, "wall_time": time.time()}
        for key, value in key_values.items():
            if isinstance(value, (int, float, str, bool)) or value is None:
                row[key] = value
            elif hasattr(value, "item"):
                row[key] = value.item()
        self._append((json.dumps(row) + "\n").encode())
        if self.tensorboard is not None:
            # SB3's writer takes the exclusions key by key, as its Logger gives them.
            excluded: dict[str, Any] = {key: key_excluded.get(key) for key in key_values}
            self._tensorboard().write(key_values, excluded, step)

    def _tensorboard(self) -> KVWriter:
        """SB3's TensorBoard writer for this trial's folder, opened at the first row."""
        if self._board is None:
            assert self.tensorboard is not None
            from stable_baselines3.common.logger import TensorBoardOutputFormat

            board = TensorBoardOutputFormat(str(self.tensorboard))
            if self._resumed_at is not None:
                _restart_at(board, self._resumed_at + 1)
            self._board = board
        return self._board

    def _append(self, data: bytes) -> None:
        """Append ``data`` whole, or raise ``OSError`` (``errno.ENOSPC`` on a full disk, with
        the log's path) and leave the file as it was."""
        if self._fd is None:
            raise ValueError(f"the training log {self.path} is closed")
        fd = self._fd
        if self._torn:
            data = b"\n" + data
        before = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
        except OSError as exc:
            try:
                os.ftruncate(fd, before)
                self._torn = False
            except OSError:
                self._torn = True
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
        self._torn = False

    def truncate_after(self, step: int) -> int:
        """Keep only the rows with ``timesteps <= step`` (and whole lines only); returns how
        many were dropped. The file is replaced atomically: a reader sees the old rows or the
        new ones, and a failure (a full disk) leaves the old file. The TensorBoard run, which
        cannot be cut, hides the events past ``step`` from its readers instead."""
        if self._board is None:
            self._resumed_at = step
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        lines = data.split(b"\n")
        kept = [line for line in lines[:-1] if _at_or_before(line, step)]  # lines[-1]: unended
        dropped = len(lines) - 1 - len(kept) + (1 if lines[-1] else 0)
        if not dropped:
            return 0
        tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _write_all(fd, b"".join(line + b"\n" for line in kept))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OSError(exc.errno, exc.strerror, str(self.path)) from exc
        self.close()
        self._fd, self._torn = self._open(), False
        return dropped

    def evaluation(
        self,
        timesteps: int,
        mean_reward: float,
        per_seed: list[float] | None = None,
        reported_step: int | None = None,
    ) -> None:
        """Log an evaluation taken after ``timesteps`` steps of training. ``reported_step``
        is the step it was reported to Optuna at, when that differs: the trainer reports at
        planned steps, so that pruners compare trials at equal steps, while the log keeps the
        real count, so that its timesteps never go backwards."""
        row: dict[str, Any] = {"eval/mean_reward": mean_reward}
        if reported_step is not None:
            row["eval/reported_step"] = reported_step
        if per_seed:
            mean = sum(per_seed) / len(per_seed)
            row["eval/seed_std"] = (sum((v - mean) ** 2 for v in per_seed) / len(per_seed)) ** 0.5
            row.update({f"eval/seed_{i}": v for i, v in enumerate(per_seed)})
        self.write(row, {}, timesteps)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
        board, self._board = self._board, None
        if board is not None:
            with contextlib.suppress(OSError):
                board.close()


def _restart_at(board: Any, step: int) -> None:
    """Mark a restart at ``step`` in the event file of SB3's TensorBoard ``board``: the
    session-start event that ``SummaryWriter(purge_step=step)`` writes, after which
    TensorBoard's readers drop the run's earlier events at ``step`` or later."""
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog

    start = Event(step=step, wall_time=time.time(), session_log=SessionLog(status=SessionLog.START))
    board.writer.file_writer.add_event(start)  # as SB3 itself reaches it for hparams


def _write_all(fd: int, data: bytes) -> None:
    done = 0
    while done < len(data):  # a short write (a nearly full disk) goes on, or fails next time
        done += os.write(fd, data[done:])


def _at_or_before(line: bytes, step: int) -> bool:
    """Whether ``line`` is a whole row logged at or before ``step``."""
    try:
        row = json.loads(line)
    except ValueError:
        return False  # torn by a crash mid-write
    if not isinstance(row, dict):
        return False
    timesteps = row.get("timesteps")
    return not isinstance(timesteps, (int, float)) or timesteps <= step
