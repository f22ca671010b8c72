"""The journal lock's reports, shown as notifications: the window's stderr is not on screen.

A write of the window (a pause, an enqueue, a drain) that waits on the study's journal because
a stopped worker holds its lock says so on :data:`rltui.search.journal_lock.LOGGER`, and again
when it ends that worker after the grace time. Commands print that logger to stderr; in the
window those lines would be lost under the screen, so while the window runs they become
notifications instead, from whichever thread waited.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rltui.search.journal_lock import LOGGER

if TYPE_CHECKING:
    from textual.app import App

TITLE = "Study's journal locked"


class LockNotices(logging.Handler):
    """Each warning of the journal's lock as one notification of ``app``."""

    def __init__(self, app: App[Any]) -> None:
        super().__init__(logging.WARNING)
        self.app = app

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().removeprefix("rltui: ")
            # App.notify may be called from any thread; the waiting write runs on one.
            self.app.notify(text, title=TITLE, severity="warning", timeout=30)
        except Exception:
            self.handleError(record)

    def install(self) -> None:
        logger = logging.getLogger(LOGGER)
        logger.addHandler(self)
        logger.propagate = False  # to stderr, under the screen: nobody would see it

    def remove(self) -> None:
        logger = logging.getLogger(LOGGER)
        logger.removeHandler(self)
        logger.propagate = True
