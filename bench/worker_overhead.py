"""Training speed of one trial in a real ``rltui worker`` process / bare SB3, in pairs.

Each pair is two fresh processes at this script's nice value, one torch thread each, run one
after the other (which goes first flips from pair to pair), or with ``--together`` at the
same time, starting to train at the same moment, so that both see the same load:

- bare: ``PPO("MlpPolicy", CartPole-v1, n_steps=N, seed=0).learn(T)``;
- rltui: the same configuration as a one-trial study (random sampler, no pruner, the same
  hyperparameters fixed, one evaluation at the end) run by ``python -m rltui worker FILE
  --max-trials 1`` on a journal in a temporary folder. Its training time is the
  ``train_seconds`` the worker records in the trial's ``rltui:progress`` system attribute
  (evaluations left out); the trial's whole wall time (``datetime_complete -
  datetime_start``: claiming, building the model, training, the evaluation, recording) and
  the worker process's wall and CPU time are printed beside it.

Both get :data:`TIMER` as ``sitecustomize``: the wall, CPU and garbage-collection time of
their ``learn()`` calls, and the CPU time the worker's other threads (its heartbeat) took
meanwhile. It prints env-steps/s of each, the ratio rltui / bare per pair by wall and by CPU
time, their median and spread (target: median >= 0.97), and the load average before and
after. T is rounded up to whole rollouts, since bare ``learn()`` always finishes its last one.

Usage::

    python bench/worker_overhead.py                     # 5 pairs of 50,176 steps: ~5 min
    python bench/worker_overhead.py --pairs 12 --timesteps 20000
    python bench/worker_overhead.py --pairs 8 --timesteps 20000 --together   # busy machine
    python bench/worker_overhead.py --heartbeat 0.5     # a busier heartbeat, to see its cost
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 0

STUDY = """\
name: bench-worker-overhead
n_trials: 1
device: cpu
sampler: random
pruner: none
train: {{algorithm: ppo, env: CartPole-v1, n_envs: 1, timesteps: {timesteps}, seed: {seed},
        eval: {{every: {timesteps}, episodes: {episodes}}}}}
hyperparameters: {{n_steps: {n_steps}}}
control: {{heartbeat_interval: {heartbeat}, heartbeat_grace: {grace}}}
"""


# Put on the path of both kinds of process (as ``sitecustomize``): it times every
# ``learn()`` call, by wall time, the process's CPU time and the calling thread's, and writes
# the sums after each call. The process CPU time less the thread's is what the other
# threads (the worker's heartbeat) spent while training ran.
TIMER = """\
import gc, json, os, time
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

_learn = OnPolicyAlgorithm.learn
_sums = {"calls": 0, "wall": 0.0, "cpu": 0.0, "thread": 0.0, "barrier": 0.0, "gc": 0.0, "gc2": 0}
_gc = {"inside": False, "since": 0.0}


def _collecting(phase, info):
    # Python's cyclic collector, timed while training runs: a process with more objects
    # alive (a worker's imports) pays more for each full collection.
    if not _gc["inside"]:
        return
    if phase == "start":
        _gc["since"] = time.perf_counter()
    else:
        _sums["gc"] += time.perf_counter() - _gc["since"]
        _sums["gc2"] += info["generation"] == 2


def _barrier():
    # Said ready, then waits for the word to go: both processes of a pair start training
    # at the same moment.
    waited = time.perf_counter()
    open(os.environ["RLTUI_BENCH_READY"], "w").close()
    while not os.path.exists(os.environ["RLTUI_BENCH_GO"]):
        time.sleep(0.002)
    _sums["barrier"] = time.perf_counter() - waited


def learn(self, *args, **kwargs):
    if _sums["calls"] == 0 and os.environ.get("RLTUI_BENCH_GO"):
        _barrier()
    wall, cpu, thread = time.perf_counter(), time.process_time(), time.thread_time()
    _gc["inside"] = True
    try:
        return _learn(self, *args, **kwargs)
    finally:
        _gc["inside"] = False
        _sums["calls"] += 1
        _sums["wall"] += time.perf_counter() - wall
        _sums["cpu"] += time.process_time() - cpu
        _sums["thread"] += time.thread_time() - thread
        _write()  # after each call: a worker leaves with os._exit, which runs no atexit


def _write():
    with open(os.environ["RLTUI_BENCH_LEARN_OUT"], "w") as out:
        json.dump(_sums, out)


OnPolicyAlgorithm.learn = learn
gc.callbacks.append(_collecting)
"""


def bare_child(timesteps: int, n_steps: int) -> None:
    """Run inside the subprocess: one bare SB3 run (timed by :data:`TIMER`)."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    env = make_vec_env("CartPole-v1", n_envs=1, seed=SEED)
    model = PPO("MlpPolicy", env, n_steps=n_steps, seed=SEED, device="cpu", verbose=0)
    model.learn(timesteps)
    env.close()
    print(json.dumps({"timesteps": model.num_timesteps}))


def timed_env(folder: Path) -> dict[str, str]:
    """The environment of a timed process, whose sums go to ``folder/learn.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(TIMER)
    return {
        **os.environ,
        "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}",
        "RLTUI_BENCH_LEARN_OUT": str(folder / "learn.json"),
        # The variable only reaches workers started through a pool, never the direct
        # command run here, which stays at this script's nice value; set for clarity.
        "RLTUI_WORKER_NICE": "0",
    }


def learn_sums(folder: Path) -> dict[str, float]:
    sums: dict[str, float] = json.loads((folder / "learn.json").read_text())
    sums["others"] = sums["cpu"] - sums["thread"]
    return sums


class Child:
    """A timed process, its output in ``folder/out.txt``; :meth:`wait` gives its wall time
    and CPU time (all its threads) from the kernel's own account of it."""

    def __init__(self, command: list[str], folder: Path, go: Path | None = None):
        self.folder = folder
        env = timed_env(folder)
        if go is not None:
            env.update(RLTUI_BENCH_READY=str(folder / "ready"), RLTUI_BENCH_GO=str(go))
        with open(folder / "out.txt", "wb") as out:
            self.started = time.perf_counter()
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env
            )

    def wait(self) -> tuple[int, float, float]:
        _, status, usage = os.wait4(self.process.pid, 0)
        wall = time.perf_counter() - self.started
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return self.process.returncode, wall, usage.ru_utime + usage.ru_stime

    def output(self) -> str:
        return (self.folder / "out.txt").read_text(errors="replace")


def start_bare(folder: Path, timesteps: int, n_steps: int, go: Path | None) -> Child:
    command = [sys.executable, __file__, "--bare-child", str(timesteps), "--n-steps", str(n_steps)]
    return Child(command, folder, go)


def finish_bare(child: Child) -> dict[str, Any]:
    code, wall, cpu = child.wait()
    if code != 0:
        raise SystemExit(f"the bare run failed (exit {code}):\n{child.output()[-3000:]}")
    got: dict[str, Any] = json.loads(child.output().strip().splitlines()[-1])
    got["learn"] = learn_sums(child.folder)
    got["steps_s"] = got["timesteps"] / got["learn"]["wall"]
    got["process"], got["cpu"] = wall, cpu
    return got


def start_worker(folder: Path, text: str, go: Path | None) -> Child:
    """One trial in a real worker process on a fresh journal in ``folder``."""
    folder.mkdir(parents=True)
    path = folder / "study.yaml"
    path.write_text(text)
    command = [sys.executable, "-m", "rltui", "worker", str(path), "--max-trials", "1"]
    return Child(command, folder, go)


def finish_worker(child: Child) -> dict[str, Any]:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from rltui.search import attrs

    code, wall, cpu = child.wait()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    journal = child.folder / "study.rltui" / "study.journal"
    trials = []
    if journal.exists():
        storage = JournalStorage(JournalFileBackend(str(journal)))
        trials = optuna.load_study(study_name=None, storage=storage).trials
    progress = (trials[0].system_attrs.get(attrs.PROGRESS) or {}) if trials else {}
    if code != 0 or not progress.get("train_seconds"):
        raise SystemExit(
            f"the worker recorded no train_seconds (exit {code}, progress {progress}):\n"
            f"{child.output()[-3000:]}"
        )
    trial = trials[0]
    assert trial.datetime_start is not None and trial.datetime_complete is not None
    learn = learn_sums(child.folder)
    # The trainer's clock ran while the first learn() call waited for the other process.
    train = progress["train_seconds"] - learn["barrier"]
    return {
        "timesteps": progress["timesteps"],
        "train": train,
        "eval": progress.get("eval_seconds", 0.0),
        "steps_s": progress["timesteps"] / train,
        "trial": (trial.datetime_complete - trial.datetime_start).total_seconds(),
        "process": wall,
        "cpu": cpu,
        "journal_lines": journal.read_bytes().count(b"\n"),
        "state": trial.state.name,
        "learn": learn,
    }


def run_pair(
    folder: Path, order: tuple[str, str], together: bool, timesteps: int, n_steps: int, text: str
) -> dict[str, dict[str, Any]]:
    """Both runs of a pair, one after the other in ``order``, or both at once."""
    go = folder / "go" if together else None
    starts = {
        "bare": lambda: start_bare(folder / "bare", timesteps, n_steps, go),
        "rltui": lambda: start_worker(folder / "rltui", text, go),
    }
    finishes = {"bare": finish_bare, "rltui": finish_worker}
    if go is None:
        return {name: finishes[name](starts[name]()) for name in order}
    children = {name: starts[name]() for name in order}
    while not all((child.folder / "ready").exists() for child in children.values()):
        if any(child.process.poll() is not None for child in children.values()):
            break  # one failed before training: its finish says why
        time.sleep(0.005)
    go.touch()
    return {name: finishes[name](children[name]) for name in order}


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return (
        f"median {statistics.median(values):.3f}, interquartile {quartiles[0]:.3f}-"
        f"{quartiles[2]:.3f}, range {min(values):.3f}-{max(values):.3f}"
    )


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=5, help="interleaved pairs (default 5)")
    parser.add_argument("--timesteps", type=int, default=50_000, help="per run (50,000)")
    parser.add_argument("--n-steps", type=int, default=512, help="PPO n_steps (512)")
    parser.add_argument("--episodes", type=int, default=5, help="final evaluation episodes")
    parser.add_argument(
        "--heartbeat", type=float, default=2.0, help="the study's heartbeat_interval (2.0)"
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="run each pair's two processes at the same time (each then sees the same load)",
    )
    parser.add_argument("--bare-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_child is not None:
        bare_child(args.bare_child, args.n_steps)
        return 0
    timesteps = -(-args.timesteps // args.n_steps) * args.n_steps
    text = STUDY.format(
        timesteps=timesteps,
        seed=SEED,
        episodes=args.episodes,
        n_steps=args.n_steps,
        heartbeat=args.heartbeat,
        grace=max(20.0, 10 * args.heartbeat),
    )
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), nice {os.nice(0)}; "
        f"PPO CartPole-v1 n_envs 1, n_steps {args.n_steps}, {timesteps:,} timesteps, seed "
        f"{SEED}, 1 torch thread; heartbeat every {args.heartbeat:g} s; load before {load()}"
    )
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    quiet: list[float] = []
    others: list[float] = []  # share of the training time the worker's other threads ran
    with tempfile.TemporaryDirectory(prefix="rltui-overhead-") as tmp:
        for i in range(args.pairs):
            order = ("bare", "rltui") if i % 2 == 0 else ("rltui", "bare")
            pair = Path(tmp, f"pair-{i}")
            got = run_pair(pair, order, args.together, timesteps, args.n_steps, text)
            bare, ours = got["bare"], got["rltui"]
            b, o = bare["learn"], ours["learn"]
            ratios.append(ours["steps_s"] / bare["steps_s"])
            cpu_ratios.append((ours["timesteps"] / o["cpu"]) / (bare["timesteps"] / b["cpu"]))
            others.append(o["others"] / o["wall"])
            # A run whose training got less than 97 % of a core waited for one: its pair
            # says more about the other jobs on the machine than about rltui.
            uncontended = min(b["thread"] / b["wall"], o["thread"] / o["wall"]) >= 0.97
            if uncontended:
                quiet.append(ratios[-1])
            how = "together" if args.together else f"{order[0]} first"
            print(
                f"  pair {i + 1} ({how}): bare {bare['steps_s']:6,.0f} steps/s "
                f"(learn {b['wall']:.2f} s, CPU {b['cpu']:.2f} s, of it other threads "
                f"{b['others']:.2f} s, GC {b['gc']:.2f} s, {b['gc2']:.0f} full) | rltui "
                f"{ours['steps_s']:6,.0f} steps/s (train "
                f"{ours['train']:.2f} s, learn() {o['wall']:.2f} s in {o['calls']} calls, CPU "
                f"{o['cpu']:.2f} s, of it other threads {o['others']:.2f} s, GC {o['gc']:.2f} s, "
                f"{o['gc2']:.0f} full; eval "
                f"{ours['eval']:.2f} s, trial {ours['trial']:.1f} s, process "
                f"{ours['process']:.1f} s wall / {ours['cpu']:.1f} s CPU, journal "
                f"{ours['journal_lines']} lines) | ratio {ratios[-1]:.3f}, by CPU "
                f"{cpu_ratios[-1]:.3f}{'' if uncontended else ' (contended)'} | load {load()}",
                flush=True,
            )
    median = statistics.median(ratios)
    print(f"ratio rltui / bare by wall time, {len(ratios)} pairs: {spread(ratios)}")
    print(f"  uncontended pairs only ({len(quiet)}): {spread(quiet) if quiet else 'none'}")
    print(f"ratio by CPU time of the learn() calls (all threads): {spread(cpu_ratios)}")
    print(
        f"worker's other threads (the heartbeat) during training: "
        f"{100 * statistics.median(others):.2f} % of a core (median), "
        f"{100 * max(others):.2f} % at most"
    )
    print(f"target >= 0.97: {'met' if median >= 0.97 else 'MISSED'}; load after {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
