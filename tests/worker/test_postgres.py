"""Workers on several hosts: three processes that join a PostgreSQL study by URL and name,
each under a host name of its own, so that only the database connects them.

Needs a server: `.ci/postgres.sh` starts one and exports RLTUI_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections import Counter

import pytest

from rltui.launch.local import LocalPool
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.reader import StudyReader
from rltui.search.study import open_study
from rltui.search.trial_logs import read_progress
from rltui.search.workers import drain_key
from rltui.spec import load_study
from tests.worker.helpers import HANG, wait_for

URL = os.environ.get("RLTUI_TEST_POSTGRES_URL")
if not URL and os.environ.get("RLTUI_REQUIRE_POSTGRES"):
    raise RuntimeError("RLTUI_REQUIRE_POSTGRES is set but RLTUI_TEST_POSTGRES_URL is not")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not URL, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)"),
]
GRACE = 4  # heartbeat_grace of the tiny study (tests/conftest.py)
HOSTS = ("host-a", "host-b", "host-c")


def test_three_workers_share_a_postgres_study(study_file, tmp_path):
    name = f"pg-{uuid.uuid4().hex[:6]}"
    shared = tmp_path / "shared-checkpoints"
    path = study_file(
        name=name, n_trials=4, timesteps=8192, every=512, extra=f"  checkpoint_dir: {shared}\n"
    )
    study = load_study(path)
    ostudy, url = open_study(study, URL)
    reader = StudyReader(ostudy)
    rows = lambda: reader.poll().rows  # noqa: E731
    # No study file on the workers' command line: they read the study from the database. A
    # host name each: a worker's liveness is then known only from its heartbeat, as across
    # machines (on one host a dead pid gives a lost worker away at once).
    pool = LocalPool(tmp_path / "logs", storage_url=url, study_name=name, nice=0)
    for index, host in enumerate(HOSTS):
        pool.start(1, first_index=index, extra_env={"RLTUI_HOST": host})
    logs = lambda: "\n".join(w.log.read_text() for w in pool.started if w.log.exists())  # noqa: E731
    try:
        wait_for(
            lambda: (r := rows().get(0)) and r.status == TrialStatus.RUNNING and r.timesteps > 600,
            what="trial 0 running",
        )
        first = rows()[0].worker
        # Its worker is drained first, so that it leaves once trial 0 is paused and another
        # worker must resume it (drained after the pause, it could claim the resume itself).
        storage_of(ostudy).set_study_system_attr(study_id_of(ostudy), drain_key(first), True)
        Controller(ostudy).request(0, "pause")
        wait_for(lambda: rows()[0].status == TrialStatus.PAUSED, what="trial 0 PAUSED")
        Controller(ostudy).request(0, "resume")
        # Kill another worker in the middle of another trial: the heartbeat must notice.
        victim = wait_for(
            lambda: next(
                (
                    r
                    for r in rows().values()
                    if r.status == TrialStatus.RUNNING
                    and r.number != 0
                    and r.worker != first
                    and r.timesteps > 0
                ),
                None,
            ),
            what="a second trial",
        )
        record = next(w for w in reader.poll().workers if w.id == victim.worker)
        assert record.host in HOSTS
        os.kill(record.pid, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: rows()[victim.number].status == TrialStatus.FAIL, what="lost trial FAIL")
        noticed = time.monotonic() - killed
        # Only the heartbeat's silence could tell, and it waited out the grace time.
        assert noticed >= GRACE - 1, noticed
        assert "no heartbeat" in (rows()[victim.number].error or "")
        assert pool.wait(HANG), logs()
    finally:
        for worker in pool.started:
            os.kill(worker.pid, signal.SIGKILL) if _alive(worker.pid) else None
    final = reader.poll().rows
    assert final[0].status == TrialStatus.COMPLETE and final[0].worker != first, logs()
    assert final[0].timesteps == 8192
    # The resumed stint went on from the checkpoint: the trial's training log never goes back.
    steps = [r["timesteps"] for r in read_progress(shared / name / "trials/trial-0/progress.jsonl")]
    assert steps and steps == sorted(steps) and steps[-1] == 8192
    # Every trial ran to its end exactly once: one worker finished it, and Optuna has it once.
    assert all(r.status.is_finished for r in final.values())
    ended = Counter(
        int(n) for n in re.findall(r"^trial (\d+): (?:complete|pruned)", logs(), re.MULTILINE)
    )
    complete = {n for n, r in final.items() if r.status == TrialStatus.COMPLETE}
    assert set(ended) == complete and set(ended.values()) == {1}, ended
    assert sorted(t.number for t in ostudy.get_trials(deepcopy=False)) == list(range(4))


def _alive(pid: int) -> bool:
    from rltui.launch.local import pid_running

    return pid_running(pid)


def test_unreachable_postgres_is_a_clear_error(study_file, capsys):
    from rltui.cli import main

    path = study_file(name="nopg")
    assert main(["run", str(path), "--storage", "postgresql://me:pw@127.0.0.1:1/nothing"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the storage postgresql://me:***@127.0.0.1:1/nothing" in err
