"""Workers yield the CPU to the UI, also where the kernel schedules sessions as groups; the
nice value comes from ``RLTUI_WORKER_NICE`` when the pool's caller names none."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rltui.launch.local import NICE, NICE_ENV, LocalPool

AUTOGROUP = Path("/proc/self/autogroup")


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="no autogroup scheduling here")
def test_a_worker_session_gets_a_lower_priority_autogroup(tmp_path: Path) -> None:
    pool = LocalPool(tmp_path, storage_url="journal:x", study_name="x", nice=NICE)
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        start_new_session=True,  # as LocalPool.start does: a session, so an autogroup, of its own
        preexec_fn=pool._lower_priority,
    )
    try:
        assert (
            os.getpriority(os.PRIO_PROCESS, child.pid) == os.getpriority(os.PRIO_PROCESS, 0) + NICE
        )
        group = Path(f"/proc/{child.pid}/autogroup").read_text()
        assert group.split()[-1] == str(NICE), group
        assert group != AUTOGROUP.read_text()  # its own group, not the UI's
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(("value", "nice"), [(None, NICE), ("0", 0), (" 15 ", 15)])
def test_the_pool_takes_its_nice_value_from_the_environment(
    value: str | None, nice: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv(NICE_ENV, raising=False)
    else:
        monkeypatch.setenv(NICE_ENV, value)
    assert LocalPool(tmp_path, storage_url="journal:x", study_name="x").nice == nice
    # A value given by the caller wins.
    assert LocalPool(tmp_path, storage_url="journal:x", study_name="x", nice=3).nice == 3


@pytest.mark.parametrize("value", ["high", "-5", "20", "1.5"])
def test_a_bad_nice_value_says_what_to_set(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(NICE_ENV, value)
    with pytest.raises(ValueError, match=rf"{NICE_ENV}='{value}' is not a nice value.*0 .* 19"):
        LocalPool(tmp_path, storage_url="journal:x", study_name="x")


def test_workers_started_by_the_tests_run_at_normal_priority(tmp_path: Path) -> None:
    # tests/conftest.py sets the variable for the whole run: on a busy machine, workers at
    # nice 10 would barely get a core, and the tests wait on them.
    assert os.environ.get(NICE_ENV) == "0"
    assert LocalPool(tmp_path, storage_url="journal:x", study_name="x").nice == 0
