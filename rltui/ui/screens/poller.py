"""The main screen's view of the storage: a thread worker reads the open study about twice a
second (``Session.poll``) and posts each snapshot to the screen with this machine's GPU use.

The next read waits until the screen has applied the last snapshot (:meth:`StudyPoller.applied`),
so no change is lost and a slow UI is never flooded; a storage write wakes it early
(:meth:`StudyPoller.wake`) so its result shows at once.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from rltui.search.reader import Snapshot
from rltui.ui.services.gpu import Gpu, GpuProbe

if TYPE_CHECKING:
    from rltui.ui.screens.main import MainScreen
    from rltui.ui.services.session import Session

POLL_INTERVAL = 0.5
APPLY_WAIT = 5.0  # seconds a read waits for the screen to apply the last one, at most
RETRY_AFTER = 2.0  # seconds after the storage could not be read


class SnapshotRead(Message):
    """The poller read the storage."""

    def __init__(self, session: Session, snapshot: Snapshot, gpus: list[Gpu] | None = None) -> None:
        super().__init__()
        self.session = session
        self.snapshot = snapshot
        self.gpus = gpus or []  # this machine's GPUs, probed on the same thread


class StudyPoller:
    """Polls the study ``screen`` shows (its ``session``) until the screen shows another one
    or goes away; the screen owns one and handles its :class:`SnapshotRead` messages."""

    def __init__(self, screen: MainScreen, interval: float = POLL_INTERVAL) -> None:
        self.screen = screen
        self.interval = interval
        self.gpu_probe = GpuProbe()
        self._wake = threading.Event()
        self._applied = threading.Event()

    def start(self, session: Session) -> None:
        """Poll ``session`` (a study just attached); a poll of an earlier one ends."""
        self._applied.set()
        self.screen.run_worker(
            partial(self._poll, session),
            name="_poll",
            group="poll",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def wake(self) -> None:
        """Read again now, not at the next interval."""
        self._wake.set()

    def applied(self) -> None:
        """The screen is done with the last snapshot: the next may be read."""
        self._applied.set()

    def stop(self) -> None:
        """The screen goes away: let the thread end and close the GPU probe."""
        self._wake.set()
        self._applied.set()
        self.gpu_probe.close()

    def _poll(self, session: Session) -> None:
        worker = get_current_worker()
        screen = self.screen
        while not worker.is_cancelled and session is screen.session:
            try:
                snapshot = session.poll()
            except Exception as exc:  # the storage went away; say so and keep trying
                screen.notify(f"cannot read the storage: {exc}", severity="error", timeout=4)
                self._wake.wait(RETRY_AFTER)
                continue
            self._applied.clear()
            screen.post_message(SnapshotRead(session, snapshot, self.gpu_probe.read()))
            self._applied.wait(APPLY_WAIT)
            self._wake.wait(self.interval)
            self._wake.clear()
