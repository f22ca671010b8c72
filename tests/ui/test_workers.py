"""The workers view (every host's workers, at every terminal width), starting workers with
distinct indices, and a worker's whole record."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime
from typing import Any

import psutil
import pytest
from rich.cells import cell_len
from rich.console import Console
from textual.app import App, ComposeResult
from textual.theme import BUILTIN_THEMES
from textual.widgets import Static

from rltui.search import attrs
from rltui.search.lifecycle import ControlAction
from rltui.search.optuna_internals import study_id_of
from rltui.search.workers import HOST, WorkerRecord
from rltui.ui.app import RltuiApp
from rltui.ui.display import worker_cells
from rltui.ui.screens.worker_detail import WorkerDetailScreen
from rltui.ui.services.session import Session
from rltui.ui.widgets.workers_view import WorkersView

from .conftest import fixed_clock
from .test_actions import notes, opened, settle

H100 = "cuda:0 NVIDIA H100 80GB HBM3"
NOW = fixed_clock().timestamp()
THEME = BUILTIN_THEMES["textual-dark"]


def record(worker_id: str, host: str, pid: int, **kwargs: Any) -> WorkerRecord:
    """A live worker that started 12 minutes ago and beat just now (by the test clock)."""
    fields: dict[str, Any] = {
        "device": H100,
        "started": NOW - 720,
        "heartbeat": NOW - 1,
        "state": "training",
        **kwargs,
    }
    return WorkerRecord(worker_id, host, pid, **fields)


def put(scripted: Any, *records: WorkerRecord) -> None:
    """Store records as they are (write_record would stamp the heartbeat with the real time)."""
    for r in records:
        scripted.storage.set_study_system_attr(
            study_id_of(scripted.ostudy), attrs.worker_key(r.id), r.to_json()
        )


def lines(view: WorkersView) -> list[str]:
    """What the view shows, one entry per worker, its lines joined with ' / '."""
    return [" / ".join(str(option.prompt).splitlines()) for option in view.options]


# Fields -----------------------------------------------------------------------------------


def test_short_hosts_keep_the_part_that_differs():
    assert worker_cells.short_hosts(["gpu-node-01.cluster", "gpu-node-02.cluster"]) == {
        "gpu-node-01.cluster": "gpu-node-01",
        "gpu-node-02.cluster": "gpu-node-02",
    }
    assert worker_cells.short_hosts(["node1.a.org", "node1.b.org", "node2.a.org"]) == {
        "node1.a.org": "node1.a",
        "node1.b.org": "node1.b",
        "node2.a.org": "node2",
    }
    assert worker_cells.short_hosts(["box.example.com"]) == {"box.example.com": "box"}
    assert worker_cells.short_hosts(["10.0.0.5", "10.0.0.6", "laptop"]) == {
        "10.0.0.5": "10.0.0.5",
        "10.0.0.6": "10.0.0.6",
        "laptop": "laptop",
    }
    # One name the start of another: the whole of the shorter one.
    assert worker_cells.short_hosts(["a.x", "a.x.y"]) == {"a.x": "a.x", "a.x.y": "a.x.y"}


def test_devices_ages_and_squeezed_names():
    assert worker_cells.short_device(H100) == "cuda:0 H100"
    assert worker_cells.short_device("cuda:1 NVIDIA GeForce RTX 4090") == "cuda:1 RTX 4090"
    assert worker_cells.short_device("cpu") == "cpu"
    assert worker_cells.torch_device(H100) == "cuda:0"
    assert [worker_cells.age(s) for s in (-3, 45, 720, 3900, 400_000)] == [
        "0s",
        "45s",
        "12m",
        "1h05m",
        "4d",
    ]
    assert worker_cells.squeeze("gpu-node-01", 8) == "gp…de-01"
    assert worker_cells.squeeze("short", 8) == "short"
    two = [
        WorkerRecord("a", "gpu-node-01.cluster", 4242, H100, 0.0, 0.0),
        WorkerRecord("b", "gpu-node-02.cluster", 4242, "cpu", 0.0, 0.0),
    ]
    assert worker_cells.host_labels(two, 40)["gpu-node-02.cluster"] == "gpu-node-02.cluster"
    assert worker_cells.host_labels(two, 28)["gpu-node-02.cluster"] == "gpu-node-02"


@pytest.mark.parametrize("width", [20, 24, 28, 29, 34, 40, 60])
def test_every_line_fits_its_width_and_keeps_host_and_pid(width):
    records = [
        record("a1b2c3d4", "gpu-node-01.cluster", 4242, trial=12),
        record("e5f6a7b8", "gpu-node-02.cluster", 31337, trial=1234, heartbeat=NOW - 45),
        record("c0ffee00", "gpu-node-02.cluster", 7, device="cpu", state="idle"),
        record("deadbeef", "10.0.0.17", 999, state="exited", heartbeat=NOW - 600),
    ]
    hosts = worker_cells.host_labels(records, width)
    # Every host by its whole name, or every one by its short name: never a mix.
    assert hosts in ({r.host: r.host for r in records}, worker_cells.short_hosts(hosts))
    for r in records:
        text = worker_cells.worker_text(
            r, hosts[r.host], now=NOW, late=6.0, width=width, theme=THEME
        )
        shown = text.plain.splitlines()
        assert all(cell_len(line) <= width for line in shown), shown
        assert shown[0].startswith(f"● {r.id}") and f":{r.pid}" in shown[1]
        if width >= 28:  # the sidebar's inside: the short host name whole, and the age
            assert f"{hosts[r.host]}:{r.pid}" in shown[1]
            assert worker_cells.since(r, NOW) in text.plain
    late = worker_cells.worker_text(
        records[1], "gpu-node-02", now=NOW, late=6.0, width=28, theme=THEME
    )
    assert "45s" in late.plain.splitlines()[2]  # a third line: how long it has been silent


def test_live_workers_come_first_and_old_gone_ones_are_left_out():
    live = [record(f"live{i}", "h", i, started=NOW - 100 + i) for i in range(3)]
    gone = [record(f"gone{i}", "h", 10 + i, state="exited", heartbeat=NOW - i) for i in range(30)]
    shown, hidden = worker_cells.order([*gone, *live])
    assert [r.id for r in shown[:3]] == ["live0", "live1", "live2"]
    assert [r.id for r in shown[3:5]] == ["gone0", "gone1"]  # the most recent first
    assert len(shown) == 3 + worker_cells.MOST_GONE and hidden == 30 - worker_cells.MOST_GONE


# The view in the app ---------------------------------------------------------------------------


def two_hosts(scripted: Any) -> None:
    put(
        scripted,
        record("a1b2c3d4", "gpu-node-01.cluster", 4242, trial=4, index=0),
        record("e5f6a7b8", "gpu-node-02.cluster", 4243, trial=None, state="idle", index=1),
    )


@pytest.mark.slow
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_sidebar_shows_host_pid_device_and_age_of_each_host(make_app, wait, scripted, size):
    two_hosts(scripted)
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await opened(app, pilot, wait)
        if size == (80, 24):
            await pilot.press("ctrl+b")  # folded away at 80x24 until asked for
            await pilot.pause()
        view = app.main_screen.workers_view
        assert app.main_screen.query_one("#sidebar").region.width == 32  # as wide as ever
        shown = lines(view)
        mine = [line for line in shown if "gpu-node" in line]
        assert len(mine) == 2
        first, second = mine
        assert first.startswith("● a1b2c3d4 training #4") and first.split(" / ")[0].endswith("12m")
        assert "gpu-node-01:4242 cuda:0" in first
        assert "gpu-node-02:4243 cuda:0" in second and "idle" in second
        assert all(
            cell_len(part) <= view.scrollable_content_region.width
            for line in shown
            for part in line.split(" / ")
        )


async def test_wide_terminal_shows_whole_host_names_and_gpu_models(make_app, wait, scripted):
    two_hosts(scripted)
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await opened(app, pilot, wait)
        shown = lines(app.main_screen.workers_view)
        assert any("gpu-node-01.cluster:4242 cuda:0 H100" in line for line in shown)
        assert any("gpu-node-02.cluster:4243 cuda:0 H100" in line for line in shown)


async def test_a_late_heartbeat_shows_its_age(make_app, wait, scripted):
    put(scripted, record("a1b2c3d4", "gpu-node-01.cluster", 4242, trial=4, heartbeat=NOW - 45))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, wait)
        late = [line for line in lines(app.main_screen.workers_view) if "a1b2c3d4" in line]
        assert late and "no heartbeat for 45s" in late[0]


async def test_enter_on_a_worker_shows_its_whole_record(make_app, wait, scripted):
    two_hosts(scripted)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, wait)
        view = app.main_screen.workers_view
        view.focus()
        view.highlighted = next(i for i, r in enumerate(view.records) if r.id == "e5f6a7b8")
        await pilot.press("enter")
        await wait(pilot, lambda: isinstance(app.screen, WorkerDetailScreen))
        console = Console(width=200, file=io.StringIO())
        with console.capture() as captured:
            console.print(app.screen.query_one("#record", Static).content)
        text = captured.get()
        started = datetime.fromtimestamp(NOW - 720).strftime("%H:%M:%S")
        for part in ("e5f6a7b8 (index 1)", "gpu-node-02.cluster", "4243", H100, started, "12m"):
            assert part in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, WorkerDetailScreen)


# Starting workers ----------------------------------------------------------------------------


async def test_each_started_worker_gets_its_own_index(make_app, wait, scripted, monkeypatch):
    """Two quick presses of w: the first worker has not registered when the second starts,
    and still the second gets the next index (so another sampler seed)."""
    put(scripted, record("a1b2c3d4", "gpu-node-01.cluster", 4242, index=5))
    indices: list[int] = []

    def fake_start(self, count=1, *, first_index=0, **kwargs):
        indices.append(first_index)
        return []

    monkeypatch.setattr("rltui.launch.local.LocalPool.start", fake_start)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, wait)
        await pilot.press("w", "w")
        await settle(app, pilot)
        assert sorted(indices) == [6, 7]
        assert "started 0 workers" in notes(app)


def test_next_worker_index_counts_records_and_workers_started_here(scripted):
    from rltui.ui.services.session import Session

    session = Session.open(scripted.path)
    assert session.next_worker_index([]) == 0
    assert session.next_worker_index([]) == 1  # the first has not registered yet
    known = [record("x", "h", 1, index=4), record("y", "h", 2, index=2)]
    assert session.next_worker_index(known) == 5
    assert session.next_worker_index(known[1:]) == 6


async def test_a_study_without_workers_says_how_to_start_one(study_file, wait):
    app = RltuiApp(study_file, clock=fixed_clock, poll_interval=0.1)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(app, pilot, wait)
        view = app.main_screen.workers_view
        assert view.selected is None and "w starts one" in lines(view)[0]


# Workers started from the UI, before and after their records -----------------------------------


class ViewApp(App[None]):
    """The workers view alone, fed as the main screen feeds it: records and launches."""

    def compose(self) -> ComposeResult:
        yield WorkersView(clock=datetime.now)

    async def show(self, session: Session) -> list[str]:
        snapshot = await asyncio.to_thread(session.poll)
        view = self.query_one(WorkersView)
        view.show(snapshot.workers, 0.5, session.launches)
        await asyncio.sleep(0)
        return lines(view)


async def until(pilot: Any, app: ViewApp, session: Session, check: Any, what: str) -> list[str]:
    """Poll and show until ``check(lines)`` holds; the lines shown then."""
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        shown = await app.show(session)
        if check(shown):
            return shown
        assert asyncio.get_running_loop().time() < deadline, f"no {what}: {shown}"
        await pilot.pause(0.1)


@pytest.mark.slow
async def test_a_started_worker_shows_as_starting_until_its_record_appears(study_file):
    session = Session.open(study_file)
    # Drained: the worker registers, finds nothing to do, and leaves (no training needed).
    session.set_drain(True)
    session.start_workers(1, first_index=0)
    (launch,) = session.started.launches
    app = ViewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        shown = await app.show(session)
        (entry,) = shown
        assert entry.startswith(f"○ {launch.id} starting")
        assert f"{HOST.split('.')[0]}" in entry and f":{launch.pid} importing…" in entry
        assert app.query_one(WorkersView).selected is None  # no record to open yet
        shown = await until(
            pilot, app, session, lambda s: any(f"● {launch.id}" in line for line in s), "record"
        )
        assert not any("starting" in line for line in shown), shown
        assert session.launches == ()
        # It leaves, and the UI reaps it: no zombie stays behind.
        await until(pilot, app, session, lambda s: "exited" in s[0], "exit")
        await until(pilot, app, session, lambda _: gone(launch.pid), "reaped process")


def gone(pid: int) -> bool:
    """Whether no process has ``pid``: an exited child nobody reaped stays, as a zombie."""
    try:
        psutil.Process(pid)
    except psutil.NoSuchProcess:
        return True
    return False


@pytest.mark.slow
async def test_a_worker_that_exits_without_a_record_shows_why(study_file):
    session = Session.open(study_file)
    study_file.unlink()  # the worker cannot read its study file
    session.start_workers(1, first_index=0)
    (launch,) = session.started.launches
    app = ViewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        shown = await until(pilot, app, session, lambda s: "failed" in s[0], "failure")
        (entry,) = shown
        assert entry.startswith(f"✗ {launch.id} failed to start")
        assert f":{launch.pid} exit " in entry
        assert "smoke.yaml" in entry  # the end of its log: what it could not read
    assert gone(launch.pid)


# What a trial left waiting is told -----------------------------------------------------------


def test_a_resume_with_no_worker_says_how_to_start_one(scripted):
    # The scripted workers, silent for an hour: lost (the grace time is far shorter).
    silent = time.time() - 3600
    put(scripted, *(record(w, "gpu-box", 4000, heartbeat=silent) for w in ("w1", "w2")))
    session = Session.open(scripted.path)
    message = session.request(5, ControlAction.RESUME)
    assert message == (
        "trial 5 queued to resume at 256 timesteps: runs next; no worker is running: w starts one"
    )


def test_an_enqueue_says_where_the_trial_waits(scripted):
    put(scripted, *(record(w, "gpu-box", 4000, state="exited") for w in ("w1", "w2")))
    session = Session.open(scripted.path)  # trial 0 waits already
    at_end = session.enqueue({"gamma": 0.95}, clone_of=6)
    assert at_end == (
        "enqueued trial 7 (clone of trial 6): 2nd in the queue (1 waiting before it); "
        "no worker is running: w starts one"
    )
    put(scripted, record("a1b2c3d4", "gpu-node-01.cluster", 4242, heartbeat=time.time()))
    assert session.enqueue({"gamma": 0.97}, run_next=True) == "enqueued trial 8: runs next"
    session.set_drain(True)
    assert "the study is draining: d turns drain off" in session.enqueue({"gamma": 0.9})


def test_a_slurm_workers_entry_names_its_job():
    r = record("s77-1", "node-3.cluster", 4242, job="77_1")
    text = worker_cells.worker_text(r, "node-3", now=NOW, late=6.0, width=28, theme=THEME)
    assert text.plain.splitlines()[2] == "  job 77_1"


def test_a_workers_gpu_memory_follows_its_device_where_it_fits():
    r = record("a1b2c3d4", "node-3", 4242, device="cuda:3 NVIDIA H100 80GB HBM3")
    wide = worker_cells.worker_text(r, "node-3", now=NOW, late=6.0, width=40, theme=THEME)
    assert wide.plain.splitlines()[1].startswith("  node-3:4242 cuda:3 H100")
    with_memory = worker_cells.worker_text(
        r, "node-3", now=NOW, late=6.0, width=40, theme=THEME, gpu_mib=3277
    )
    assert "  node-3:4242 cuda:3 H100 3.2G" in with_memory.plain
    narrow = worker_cells.worker_text(
        r, "node-3", now=NOW, late=6.0, width=24, theme=THEME, gpu_mib=3277
    )
    assert all(len(line) <= 24 for line in narrow.plain.splitlines())  # dropped before the pid
    assert ":4242" in narrow.plain
