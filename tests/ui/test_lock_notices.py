"""A write of the window that waits on a stopped holder of the journal's lock says so on
screen, and goes through once the holder lets the lock go."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import pytest

from rltui.search import attrs
from rltui.search.journal_lock import LOGGER
from rltui.ui.services.lock_notices import TITLE
from rltui.ui.textual.internals import notifications
from tests.ui.test_actions import SIZE, opened, select, settle

HOLD = """
import fcntl, sys
lock = open(sys.argv[1], "a")
fcntl.flock(lock, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()  # until the test closes it
"""


@pytest.mark.slow  # a real process holds the study's journal lock, stopped
async def test_a_write_waiting_on_a_stopped_lock_holder_is_told(make_app, wait, scripted):
    lock = scripted.url.removeprefix("journal:") + ".flock"
    app = make_app()
    holder = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            await opened(app, pilot, wait)  # opening writes too: the lock is taken after it
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD, lock],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline() == "held\n"
            os.kill(holder.pid, signal.SIGSTOP)
            select(app, 4)
            await pilot.press("p")  # the pause request waits for the lock on its thread

            def told() -> list[str]:
                return [str(n.message) for n in notifications(app) if n.title == TITLE]

            await wait(pilot, told)
            (said,) = told()
            assert f"locked by process {holder.pid}" in said and "which is stopped" in said
            assert f"kill -CONT {holder.pid}" in said
            assert not said.startswith("rltui:")
            assert attrs.CONTROL not in scripted.system(4)  # still waiting
            os.kill(holder.pid, signal.SIGCONT)
            assert holder.stdin is not None
            holder.stdin.close()  # the holder ends, and the kernel lets its lock go
            assert holder.wait(timeout=60) == 0  # not killed: it is not an rltui worker
            await settle(app, pilot)
            await wait(pilot, lambda: attrs.CONTROL in scripted.system(4))
            assert scripted.system(4)[attrs.CONTROL]["action"] == "pause"
        assert logging.getLogger(LOGGER).propagate  # commands print it again once it closed
    finally:
        if holder is not None:
            holder.kill()  # SIGKILL ends a stopped process too
            holder.wait()
