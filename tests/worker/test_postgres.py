"""Workers on several "hosts": three processes that join a PostgreSQL study by URL and name.

Needs a server: `.ci/postgres.sh` starts one and exports RLTUI_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import signal
import uuid

import pytest

from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import StudyReader
from rltui.search.study import open_study
from rltui.search.workers import drain_key
from rltui.spec import load_study
from rltui.worker.pool import LocalPool
from tests.worker.helpers import wait_for

URL = os.environ.get("RLTUI_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(not URL, reason="RLTUI_TEST_POSTGRES_URL is not set (.ci/postgres.sh)"),
]


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
    # No study file on the workers' command line: they read the study from the database.
    pool = LocalPool(tmp_path / "logs", storage_url=url, study_name=name, nice=0)
    pool.start(3)
    logs = lambda: "\n".join(w.log.read_text() for w in pool.started if w.log.exists())  # noqa: E731
    try:
        wait_for(
            lambda: (r := rows().get(0)) and r.status == TrialStatus.RUNNING and r.timesteps > 600,
            90,
            "trial 0 running",
        )
        first = rows()[0].worker
        # Pause trial 0, and let its worker go once it is done, so another one must resume it.
        Controller(ostudy).request(0, "pause")
        wait_for(lambda: rows()[0].status == TrialStatus.PAUSED, 30, "trial 0 PAUSED")
        ostudy._storage.set_study_system_attr(ostudy._study_id, drain_key(first), True)
        # Kill another worker in the middle of its trial: the heartbeat must notice.
        victim = wait_for(
            lambda: next(
                (
                    r
                    for r in rows().values()
                    if r.status == TrialStatus.RUNNING and r.worker != first and r.timesteps > 0
                ),
                None,
            ),
            60,
            "a second trial",
        )
        pid = next(w.pid for w in reader.poll().workers if w.id == victim.worker)
        os.kill(pid, signal.SIGKILL)
        lost = wait_for(
            lambda: rows()[victim.number].status == TrialStatus.FAIL, 30, "lost trial FAIL"
        )
        assert lost
        assert "lost" in (rows()[victim.number].error or "")
        Controller(ostudy).request(0, "resume")
        assert pool.wait(240), logs()
    finally:
        for worker in pool.started:
            os.kill(worker.pid, signal.SIGKILL) if _alive(worker.pid) else None
    final = reader.poll().rows
    assert final[0].status == TrialStatus.COMPLETE and final[0].worker != first, logs()
    assert final[0].timesteps == 8192
    trials = ostudy.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(4))  # each trial exactly once
    assert all(r.status.is_finished for r in final.values())


def _alive(pid: int) -> bool:
    from rltui.worker.pool import pid_running

    return pid_running(pid)


def test_unreachable_postgres_is_a_clear_error(study_file, capsys):
    from rltui.cli import main

    path = study_file(name="nopg")
    assert main(["run", str(path), "--storage", "postgresql://me:pw@127.0.0.1:1/nothing"]) == 1
    err = capsys.readouterr().err
    assert "cannot open the storage postgresql://me:***@127.0.0.1:1/nothing" in err
