"""optuna-dashboard, the real one, on a study rltui wrote: it reads rltui's journal as a plain
Optuna journal, and shows a paused trial as PAUSED through the mirrored user attributes.

The command line tested here is the one the README gives:
``optuna-dashboard STUDY.rltui/study.journal`` (the path alone: optuna-dashboard takes a
file with no SQLite header for a journal), or with ``--storage-class JournalFileStorage``,
its name for the journal class (it refuses Optuna's newer name, JournalFileBackend).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rltui.search import endings, mirror
from rltui.search.optuna_internals import storage_of, trial_id_of
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.spec import load_study
from tests.conftest import needs_extra

pytestmark = needs_extra("optuna_dashboard", "dashboard")

STUDY = """
name: dash
device: cpu
train: {algorithm: ppo, env: CartPole-v1, timesteps: 1000}
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
"""
START = 120.0  # seconds a server may take to answer first (a loaded 2-core machine)


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    """A study in rltui's journal: trial 0 paused by its worker, trial 1 complete."""
    path = tmp_path / "dash.yaml"
    path.write_text(STUDY, encoding="utf-8")
    ostudy, _url = open_study(load_study(path))
    storage = storage_of(ostudy)
    for number in range(2):
        trial = ostudy.ask()
        trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True)
        trial.report(10.0 + number, 500)
        tid = trial_id_of(trial)
        mirror.claimed(storage, tid, "w1", storage.get_trial(tid).user_attrs)
        mirror.timesteps(storage, tid, 500)
    paused = trial_id_of(ostudy.trials[0])
    endings.pause(storage, paused, {"checkpoint": "/c", "timesteps": 500, "reason": "user"})
    endings.end(ostudy, trial_id_of(ostudy.trials[1]), None, value=11.0)
    return StudyHome.beside(path).journal


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def _first_answer(url: str, server: subprocess.Popen[bytes] | None = None) -> Any:
    """The JSON at ``url`` once the server answers there."""
    deadline = time.monotonic() + START
    while True:
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError):
            if server is not None and server.poll() is not None:
                raise AssertionError(f"the server exited: {server.communicate()}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _trials_as_shown(base: str, server: subprocess.Popen[bytes] | None = None) -> list[dict]:
    """Each trial of study 'dash' as optuna-dashboard's JSON API gives it to its pages:
    Optuna's state, and the user attributes as a mapping."""
    studies = _first_answer(f"{base}/api/studies", server)["study_summaries"]
    (study_id,) = [s["study_id"] for s in studies if s["study_name"] == "dash"]
    trials = _get(f"{base}/api/studies/{study_id}")["trials"]
    return [
        {"state": t["state"], **{a["key"]: a["value"] for a in t["user_attrs"]}}
        for t in sorted(trials, key=lambda t: t["number"])
    ]


def _check(trials: list[dict]) -> None:
    paused, complete = trials
    assert paused["state"] == "Running"  # Optuna has no PAUSED
    assert paused["rltui_state"] == "PAUSED"
    assert paused["rltui_reason"] == mirror.PAUSED_BY_USER
    assert paused["rltui_worker"] == "w1" and paused["rltui_timesteps"] == "500"
    assert complete["state"] == "Complete" and complete["rltui_state"] == "COMPLETE"


@contextmanager
def _served_in_thread(journal: Path) -> Iterator[str]:
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from optuna_dashboard import wsgi

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    # optuna-dashboard opens a path the way its command line does.
    server = make_server("127.0.0.1", 0, wsgi(str(journal)), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_the_dashboard_app_shows_a_paused_trial_as_paused(journal):
    with _served_in_thread(journal) as base:
        _check(_trials_as_shown(base))


@pytest.mark.slow
@pytest.mark.parametrize("hint", [[], ["--storage-class", "JournalFileStorage"]])
def test_the_readme_command_serves_the_study(journal, hint):
    program = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent))
    assert program is not None, "optuna-dashboard is not installed beside this Python"
    port = _free_port()
    command = [program, str(journal), *hint, "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _check(_trials_as_shown(f"http://127.0.0.1:{port}", server))
    finally:
        server.terminate()
        server.communicate(timeout=30)
