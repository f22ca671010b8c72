"""How long does each trial control take to act? Real worker processes, PPO on CartPole-v1.

Two ``rltui worker`` processes (started as the UI starts them, through ``LocalPool``) train a
temporary study whose trials never end by themselves (PPO, 8 envs x 512 steps per rollout, 10
epochs, a [64, 64] network). Requests go through ``Controller.request`` as the UI sends them;
a ``StudyReader`` polls the journal every 50 ms, as a user's screen would see it. Each
measurement is repeated ``--repeats`` times; the script prints the median and the maximum:

- pause: request -> the worker stops training (its checkpoint's first file) -> checkpoint
  recorded -> the reader sees PAUSED;
- resume: request -> RUNNING -> the first progress past the paused timesteps (a worker is
  freed for it by a prune sent just after the resume, since busy workers claim nothing);
- prune and kill: request -> the worker's training loop returns (its last progress record)
  -> the reader sees PRUNED / FAIL;
- ``rltui ctl prune N --study-file F`` from a shell: the command's wall time, start-up
  included, and until the reader sees PRUNED;
- a worker SIGKILLed, and a worker SIGSTOPped (silent, as a lost machine): until its trial is
  FAIL (heartbeat every 1 s, grace 5 s);
- once, at the end: drain + pause-all until every trial is PAUSED and every worker has exited.

Wall-clock timings on a shared machine: note the load averages printed at the start and end.
See bench/README.md for how to read the table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import optuna
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.launch.local import LaunchedWorker, LocalPool, pid_running, signal_worker
from rltui.search import attrs
from rltui.search.control import Controller
from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, StudyReader, TrialRow
from rltui.search.storage import StudyHome
from rltui.search.study import open_study
from rltui.search.workers import WorkerRecord
from rltui.spec import load_study
from rltui.worker.heartbeat import POLL_SECONDS

T = TypeVar("T")

HEARTBEAT = 1.0  # seconds between a worker's heartbeats (and progress records)
GRACE = 5.0  # seconds of silence after which a worker counts as lost
ROLLOUT = 8 * 512  # n_envs x n_steps: the chunk a pause waits for
POLL = 0.05  # seconds between the reader's polls: the resolution of "seen" times
TIMEOUT = 180.0  # seconds any single wait may take before the run is abandoned

# Trials far longer than the run, so that every trial the script acts on is still training.
STUDY = f"""\
name: bench-control
direction: maximize
n_trials: 100000
device: cpu
sampler: {{type: random, seed: 0}}
pruner: {{type: none}}
train:
  algorithm: ppo
  env: CartPole-v1
  n_envs: 8
  timesteps: 100000000
  eval: {{every: {4 * ROLLOUT}, episodes: 5}}
  seed: 0
hyperparameters:
  n_steps: 512
  batch_size: 256
  n_epochs: 10
  net_arch: small
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-3))
control:
  heartbeat_interval: {HEARTBEAT}
  heartbeat_grace: {GRACE}
  retries: 0
"""


@dataclass
class Measure:
    """One row of the table: a label and the seconds measured for it."""

    label: str
    seconds: list[float] = field(default_factory=list)


class Bench:
    """The study, its reader and controller, and the worker processes the script started."""

    def __init__(self, folder: Path):
        self.path = folder / "bench-control.yaml"
        self.path.write_text(STUDY, encoding="utf-8")
        study = load_study(self.path)
        self.ostudy, url = open_study(study)
        self.storage = self.ostudy._storage
        self.reader = StudyReader(self.ostudy)
        self.controller = Controller(self.ostudy)
        self.logs = StudyHome.beside(self.path).logs
        # nice 0 (the UI uses 10): on a shared machine other jobs' processes would otherwise
        # take the workers' CPU and the figures would measure the neighbours.
        self.pool = LocalPool(self.logs, study_file=self.path, storage_url=url, nice=0)
        self.measures: dict[str, Measure] = {}
        self.train_rates: list[float] = []  # env-steps per training second, per stopped trial
        self.resumed_at: dict[int, int] = {}  # trial -> timesteps it was resumed at
        self.notes: list[str] = []

    # -- recording ----------------------------------------------------------------------
    def add(self, label: str, seconds: float) -> None:
        self.measures.setdefault(label, Measure(label)).seconds.append(seconds)

    def frozen(self, number: int) -> optuna.trial.FrozenTrial:
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(
            self.ostudy._study_id, number
        )
        return self.storage.get_trial(trial_id)

    def note_rate(self, trial: optuna.trial.FrozenTrial) -> None:
        """Keep the stopped trial's training speed, to say how long one rollout took."""
        progress = trial.system_attrs.get(attrs.PROGRESS) or {}
        if progress.get("train_seconds"):
            self.train_rates.append(progress["timesteps"] / progress["train_seconds"])

    # -- waiting --------------------------------------------------------------------------
    def wait(self, check: Callable[[Snapshot], T | bool | None], what: str) -> tuple[T, float]:
        """Poll until ``check`` gives a value; returns it and the wall time it was seen."""
        deadline = time.time() + TIMEOUT
        while True:
            snap = self.reader.poll()
            seen = time.time()
            result = check(snap)
            if result is not None and result is not False:
                return result, seen  # type: ignore[return-value]
            if seen > deadline:
                raise TimeoutError(f"no {what} after {TIMEOUT:.0f} s\n{self.log_tail()}")
            time.sleep(POLL)

    def log_tail(self) -> str:
        tails = []
        for worker in self.pool.started:
            if worker.log.exists():
                lines = worker.log.read_text(errors="replace").splitlines()[-8:]
                tails.append(
                    f"-- worker {worker.worker_id} (pid {worker.pid}):\n" + "\n".join(lines)
                )
        return "\n".join(tails)

    def live_workers(self) -> list[LaunchedWorker]:
        return [w for w in self.pool.started if pid_running(w.pid)]

    def training(self, snap: Snapshot, exclude: frozenset[int] = frozenset()) -> list[TrialRow]:
        """RUNNING trials with nothing pending whose worker has published progress this stint,
        those that have trained longest first."""
        ours = {w.worker_id for w in self.live_workers()}
        rows = [
            r
            for r in snap.rows.values()
            if r.status == TrialStatus.RUNNING
            and r.pending is None
            and r.worker in ours
            and r.number not in exclude
            and self._trained_this_stint(r)
        ]
        return sorted(rows, key=lambda r: -r.timesteps)

    def _trained_this_stint(self, row: TrialRow) -> bool:
        # A resumed trial shows its paused timesteps before it trains again: compare with
        # what it had when it was claimed (the resume record is cleared by then, so keep it).
        return row.timesteps > self.resumed_at.get(row.number, 0)

    def two_training(self, snap: Snapshot) -> list[TrialRow] | None:
        rows = self.training(snap)
        return rows if len(rows) >= 2 else None

    # -- trial controls -------------------------------------------------------------------
    def pause(self) -> int:
        """Pause the trial that has trained longest; returns its number."""
        rows, _ = self.wait(self.two_training, "two trials training")
        number = rows[0].number
        asked = time.time()
        self.controller.request(number, "pause")
        _, seen = self.wait(
            lambda s: s.rows[number].status == TrialStatus.PAUSED, f"trial {number} PAUSED"
        )
        trial = self.frozen(number)
        paused = trial.system_attrs[attrs.PAUSED]
        files = [p for p in Path(paused["checkpoint"]).rglob("*") if p.is_file()]
        if files:  # model.zip is written first, as soon as the training loop has stopped
            self.add(
                "pause: training stopped (worker)", min(f.stat().st_mtime for f in files) - asked
            )
        self.add("pause: checkpoint recorded (worker)", paused["at"] - asked)
        self.add("pause: PAUSED seen", seen - asked)
        self.note_rate(trial)
        return number

    def resume_and_prune(self, number: int) -> None:
        """Resume trial ``number`` and prune another, which frees a worker for it."""
        paused_at = int(self.frozen(number).system_attrs[attrs.PAUSED]["timesteps"])
        rows, _ = self.wait(
            lambda s: self.training(s, frozenset({number})) or None, "a trial training"
        )
        victim = rows[0].number
        asked = time.time()
        self.controller.request(number, "resume")
        self.resumed_at[number] = paused_at
        pruned_asked = time.time()
        self.controller.request(victim, "prune")
        _, pruned = self.wait(
            lambda s: s.rows[victim].status == TrialStatus.PRUNED, f"trial {victim} PRUNED"
        )
        self.record_stop("prune", victim, pruned_asked, pruned, "PRUNED")
        _, running = self.wait(
            lambda s: (
                s.rows[number].status == TrialStatus.RUNNING and s.rows[number].started is not None
            ),
            f"trial {number} RUNNING again",
        )
        _, progressed = self.wait(
            lambda s: s.rows[number].timesteps > paused_at,
            f"trial {number} past {paused_at:,} timesteps",
        )
        self.add("resume: RUNNING seen", running - asked)
        self.add("resume: first new progress seen", progressed - asked)
        resumed, freed = self.frozen(number), self.frozen(victim)
        progress = resumed.system_attrs.get(attrs.PROGRESS) or {}
        same_worker = resumed.system_attrs.get(attrs.TRIAL_WORKER) == freed.system_attrs.get(
            attrs.TRIAL_WORKER
        )
        if same_worker and resumed.datetime_start and freed.datetime_complete:
            claimed = resumed.datetime_start.timestamp()
            self.add(
                "resume: worker freed -> claimed (worker)",
                claimed - freed.datetime_complete.timestamp(),
            )
            if progress.get("updated"):
                self.add("resume: claimed -> new progress (worker)", progress["updated"] - claimed)

    def record_stop(self, action: str, number: int, asked: float, seen: float, state: str) -> None:
        trial = self.frozen(number)
        progress = trial.system_attrs.get(attrs.PROGRESS) or {}
        if progress.get("updated"):  # written as soon as the training call has returned
            self.add(f"{action}: training stopped (worker)", progress["updated"] - asked)
        self.add(f"{action}: {state} seen", seen - asked)
        self.note_rate(trial)

    def kill(self) -> None:
        rows, _ = self.wait(lambda s: self.training(s) or None, "a trial training")
        number = rows[0].number
        asked = time.time()
        self.controller.request(number, "kill")
        _, seen = self.wait(lambda s: s.rows[number].status == TrialStatus.FAIL, f"{number} FAIL")
        self.record_stop("kill", number, asked, seen, "FAIL")

    def ctl_prune(self, command: list[str]) -> None:
        """``rltui ctl prune N --study-file F`` as a user runs it from a shell, watched from
        here while it runs: when its request is in the storage, when it returns, and when the
        trial is PRUNED (which may come before the command has finished exiting)."""
        rows, _ = self.wait(lambda s: self.training(s) or None, "a trial training")
        number = rows[0].number
        started = time.time()
        proc = subprocess.Popen(
            [*command, "ctl", "prune", str(number), "--study-file", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        returned: float | None = None
        requested: float | None = None
        pruned: float | None = None
        while returned is None or pruned is None:
            if returned is None and proc.poll() is not None:
                returned = time.time()
                if proc.returncode != 0:
                    stderr = proc.stderr.read() if proc.stderr else ""
                    raise RuntimeError(f"rltui ctl failed ({proc.returncode}): {stderr[-1000:]}")
            row = self.reader.poll().rows[number]
            seen = time.time()
            if requested is None and row.pending == "prune":
                # The request's own time stamp, taken by the command just before it wrote.
                record = self.frozen(number).system_attrs.get(attrs.CONTROL) or {}
                requested = record.get("requested")
            if pruned is None and row.status == TrialStatus.PRUNED:
                pruned = seen
            if seen - started > TIMEOUT:
                proc.kill()
                raise TimeoutError(f"rltui ctl prune {number}: nothing after {TIMEOUT:.0f} s")
            time.sleep(POLL)
        if proc.stderr:
            proc.stderr.close()
        if requested is not None:
            self.add("ctl prune: request written (start-up)", requested - started)
        self.add("ctl prune: command returned", returned - started)
        self.add("ctl prune: PRUNED seen", pruned - started)
        self.note_rate(self.frozen(number))

    # -- lost workers ----------------------------------------------------------------------
    def lose_worker(self, sig: signal.Signals) -> None:
        """Silence a training worker with ``sig``, start a replacement at once (as a user
        would), and time until the other workers' heartbeat check fails its trial."""
        rows, _ = self.wait(self.two_training, "two trials training")
        row = rows[0]
        record = self.record(row.worker)
        if record.pid not in {w.pid for w in self.pool.started}:
            raise RuntimeError(f"worker {record.id} (pid {record.pid}) was not started here")
        if sig == signal.SIGSTOP:
            sent = stop_outside_locks(record.pid)
        else:
            sent = time.time()
            os.kill(record.pid, sig)
        self.pool.start(1, first_index=len(self.pool.started))
        number = row.number
        _, seen = self.wait(lambda s: s.rows[number].status == TrialStatus.FAIL, f"{number} FAIL")
        name = "worker SIGKILLed" if sig == signal.SIGKILL else "worker SIGSTOPped"
        self.add(f"{name}: trial FAIL seen", seen - sent)
        if sig == signal.SIGSTOP:
            # The silence counts from the stopped worker's last heartbeat, not from the signal.
            last = self.record(row.worker).heartbeat
            self.add(f"{name}: FAIL seen after the grace ran out", seen - (last + GRACE))
        signal_worker(record.pid, signal.SIGKILL)  # a stopped process also dies of SIGKILL
        while pid_running(record.pid):
            time.sleep(0.05)

    def record(self, worker_id: str | None) -> WorkerRecord:
        for record in self.reader.poll().workers:
            if record.id == worker_id:
                return record
        raise LookupError(f"no record of worker {worker_id}")

    # -- study-wide -----------------------------------------------------------------------
    def drain_and_pause_all(self) -> None:
        """Drain, then pause everything: every worker checkpoints its trial and leaves."""
        self.wait(self.two_training, "two trials training")
        live = self.live_workers()
        asked = time.time()
        self.controller.set_drain(True)
        count = self.controller.pause_all()
        _, seen = self.wait(
            lambda s: not any(r.status == TrialStatus.RUNNING for r in s.rows.values()),
            "every trial PAUSED",
        )
        self.add("drain + pause-all: every trial PAUSED seen", seen - asked)
        self.notes.append(f"drain + pause-all paused {count} trial(s)")
        deadline = time.time() + TIMEOUT
        while any(pid_running(w.pid) for w in live) and time.time() < deadline:
            time.sleep(POLL)
        self.add("drain + pause-all: every worker exited", time.time() - asked)

    def stop(self) -> None:
        for worker in self.pool.started:
            signal_worker(worker.pid, signal.SIGKILL)
        self.pool.wait(10)


def stop_outside_locks(pid: int) -> float:
    """SIGSTOP ``pid`` at a moment it holds no flock; returns when it was stopped.

    A process stopped while it holds the journal's write lock would block every other
    process of the study until it is killed: the benchmark would then time the lock, not the
    heartbeat. A machine that is really lost drops its locks with its connection (NFSv4
    leases, a database session), so this is the case to time."""
    for _ in range(200):
        stopped = time.time()
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.01)  # the signal is delivered asynchronously
        if not holds_flock(pid):
            return stopped
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.05)
    raise RuntimeError(f"worker {pid} always held a lock when stopped")


def holds_flock(pid: int) -> bool:
    """Whether ``pid`` holds a flock(2) lock, from /proc/locks (waiters, ``->``, hold none)."""
    try:
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return False  # not Linux: nothing to check against
    for line in lines:
        parts = line.split()
        if "->" in parts or len(parts) < 5 or parts[1] != "FLOCK":
            continue
        if parts[4] == str(pid):
            return True
    return False


def rltui_command() -> list[str]:
    """What a user types: the installed ``rltui`` script, else ``python -m rltui``."""
    script = shutil.which("rltui")
    return [script] if script else [sys.executable, "-m", "rltui"]


def load_line() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def table(bench: Bench) -> None:
    width = max(len(m.label) for m in bench.measures.values())
    print(f"\n{'what':<{width}}  {'n':>2}  {'median s':>8}  {'max s':>7}  samples (s)")
    section = ""
    for measure in bench.measures.values():
        head = measure.label.split(":")[0]
        if head != section and section:
            print()
        section = head
        values = measure.seconds
        shown = " ".join(f"{v:.2f}" for v in values[:10])
        print(
            f"{measure.label:<{width}}  {len(values):>2}  {statistics.median(values):8.2f}  "
            f"{max(values):7.2f}  {shown}"
        )
    if bench.train_rates:
        rate = statistics.median(bench.train_rates)
        print(
            f"\ntraining speed of the stopped trials: median {rate:,.0f} env-steps/s per worker, "
            f"so one rollout + update of {ROLLOUT:,} steps took about {ROLLOUT / rate:.1f} s "
            "(a pause waits for the current one to end)"
        )
    for note in bench.notes:
        print(note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, help="times each control is measured (default 5)")
    parser.add_argument("--quick", action="store_true", help="a smoke version: 1 repeat each")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 5)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ctl = rltui_command()
    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__}, optuna "
        f"{optuna.__version__}, {os.cpu_count()} CPU(s); {load_line()} at the start"
    )
    print(
        f"2 workers (nice 0), PPO CartPole-v1: rollout {ROLLOUT:,} steps (8 envs x 512), 10 "
        f"epochs of batch 256, [64, 64]; evaluation every {4 * ROLLOUT:,} steps; heartbeat "
        f"{HEARTBEAT:.0f} s, grace {GRACE:.0f} s, control poll {POLL_SECONDS} s; reader poll "
        f"{POLL * 1000:.0f} ms; {repeats} repeat(s); shell command: {' '.join(ctl)}"
    )
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="rltui-bench-control-") as tmp:
        bench = Bench(Path(tmp))
        try:
            bench.pool.start(2)
            for i in range(repeats):
                number = bench.pause()
                bench.resume_and_prune(number)
                bench.kill()
                bench.ctl_prune(ctl)
                print(f"  controls, round {i + 1}/{repeats} done ({time.time() - started:.0f} s)")
            for i in range(repeats):
                bench.lose_worker(signal.SIGKILL)
                bench.lose_worker(signal.SIGSTOP)
                print(
                    f"  lost workers, round {i + 1}/{repeats} done ({time.time() - started:.0f} s)"
                )
            bench.drain_and_pause_all()
        finally:
            bench.stop()
        table(bench)
    print(f"\nwall time {time.time() - started:.0f} s; {load_line()} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
