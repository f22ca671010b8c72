"""Workers yield the CPU to the UI, also where the kernel schedules sessions as groups."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rltui.worker.pool import NICE, LocalPool

AUTOGROUP = Path("/proc/self/autogroup")


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="no autogroup scheduling here")
def test_a_worker_session_gets_a_lower_priority_autogroup(tmp_path: Path) -> None:
    pool = LocalPool(tmp_path, storage_url="journal:x", study_name="x")
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        start_new_session=True,  # as LocalPool.start does: a session, so an autogroup, of its own
        preexec_fn=pool._lower_priority,
    )
    try:
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == NICE
        group = Path(f"/proc/{child.pid}/autogroup").read_text()
        assert group.split()[-1] == str(NICE), group
        assert group != AUTOGROUP.read_text()  # its own group, not the UI's
    finally:
        child.kill()
        child.wait()
