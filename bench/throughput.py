"""How fast does rltui train? Worker overhead and whole-study throughput, PPO on CartPole-v1.

(a) Steps/s of a trial under rltui's trainer (``train_sb3``: chunked ``learn()`` and a control
    callback; ``Outcome.train_seconds``, evaluations excluded) / bare SB3 ``model.learn(N)`` at
    the same settings, interleaved; the median ratio (target >= 0.97), by wall and CPU time.
    Then once in a real ``rltui worker`` process (train_seconds from its ``rltui:progress``).
(b) ``rltui run --workers 2`` on a temporary 20-trial study: env-steps/s (timesteps trained by
    all trials, pruned ones included, / wall time) and trials/hour, beside rl-zoo's figures.

Wall-clock timings: on a shared or busy machine, repeat the run before trusting them.
See bench/README.md for the options (--quick, --pairs, --timesteps, --trials, --skip-study).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import optuna
import torch
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.search import attrs
from rltui.spec import parse_study
from rltui.train.trainer import budget_aware, train_sb3

SEED = 0

OVERHEAD_STUDY = """\
name: bench-overhead
n_trials: 1
device: cpu
sampler: random
pruner: none
train: {{algorithm: ppo, env: CartPole-v1, n_envs: 1, timesteps: {timesteps}, seed: {seed},
        eval: {{every: {every}, episodes: 5}}}}
"""

WHOLE_STUDY = """\
name: bench-study
n_trials: {trials}
device: cpu
sampler: {{type: tpe, n_startup_trials: 5, seed: {seed}}}
pruner: {{type: median, n_startup_trials: 5, n_warmup_steps: {warmup}}}
train: {{algorithm: ppo, env: CartPole-v1, n_envs: 1, timesteps: {timesteps}, seed: {seed},
        eval: {{every: {every}, episodes: 5}}, objective: last}}
search_space:  # like rl-zoo's PPO sampler, without its slowest corners (batch 8, 16)
  learning_rate: tag(log, interval(1e-5, 1e-2))
  n_steps: choice(64, 128, 256, 512, 1024, 2048)
  batch_size: choice(32, 64, 128, 256)
  n_epochs: choice(1, 5, 10, 20)
  gamma: choice(0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
  gae_lambda: choice(0.8, 0.9, 0.95, 0.98, 1.0)
  ent_coef: tag(log, interval(1e-8, 0.1))
  clip_range: choice(0.1, 0.2, 0.3, 0.4)
  net_arch: choice(tiny, small, medium)
  activation_fn: choice(tanh, relu)
"""


def overhead_study(timesteps: int) -> str:
    return OVERHEAD_STUDY.format(timesteps=timesteps, every=max(1, timesteps // 4), seed=SEED)


class StubReporter:
    """The least a trainer needs: never prune, no requests, ignore progress and checkpoints."""

    def report(self, step: int, value: float) -> bool:
        return False

    def requested(self) -> str | None:
        return None

    def ignore(self, *args: Any) -> None:
        pass

    progress = checkpointed = ignore


def bare_sb3(timesteps: int) -> tuple[float, float]:
    """Steps/s of ``model.learn(timesteps)`` alone, by wall and by CPU time."""
    env = make_vec_env("CartPole-v1", n_envs=1, seed=SEED)
    model = PPO("MlpPolicy", env, seed=SEED, device="cpu", verbose=0)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    env.close()
    return model.num_timesteps / wall, model.num_timesteps / cpu


def rltui_trainer(timesteps: int, folder: Path) -> tuple[float, float]:
    """Steps/s of one trial through ``train_sb3``: by wall time from ``Outcome.train_seconds``,
    and by the CPU time of the same ``learn()`` calls (less sensitive to other jobs)."""
    study = parse_study(overhead_study(timesteps))
    cls = budget_aware(PPO)  # the class train_sb3 instantiates (cached)
    cpu = [0.0]

    def learn(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return PPO.learn(self, *args, **kwargs)
        finally:
            cpu[0] += time.process_time() - started

    cls.learn = learn  # type: ignore[method-assign]
    try:
        out = train_sb3(study, {}, StubReporter(), device="cpu", seed=SEED, checkpoint_dir=folder)
    finally:
        del cls.learn
    return out.timesteps / out.train_seconds, out.timesteps / cpu[0]


def overhead(timesteps: int, pairs: int, folder: Path) -> None:
    print(
        f"(a) worker overhead: default PPO on CartPole-v1, n_envs=1, {timesteps:,} timesteps, "
        f"1 torch thread, seed {SEED}, evaluations excluded"
    )
    bare_sb3(2048), rltui_trainer(2048, folder)  # warm up imports, allocators, torch kernels
    walls, cpus = [], []
    runs = {"bare": lambda: bare_sb3(timesteps), "ours": lambda: rltui_trainer(timesteps, folder)}
    for i in range(pairs):  # alternate which goes first
        order = ("bare", "ours") if i % 2 == 0 else ("ours", "bare")
        got = {name: runs[name]() for name in order}
        bare, ours = got["bare"], got["ours"]
        walls.append(ours[0] / bare[0])
        cpus.append(ours[1] / bare[1])
        print(
            f"    pair {i + 1}: bare SB3 {bare[0]:6,.0f} steps/s, rltui trainer {ours[0]:6,.0f}: "
            f"ratio {walls[-1]:.3f}   (per CPU-second {bare[1]:6,.0f} vs {ours[1]:6,.0f}: "
            f"ratio {cpus[-1]:.3f})"
        )
    median = statistics.median(walls)
    print(
        f"    median ratio {median:.3f} by wall time (range {min(walls):.3f}-{max(walls):.3f}), "
        f"{statistics.median(cpus):.3f} by CPU time; target >= 0.97 "
        f"{'met' if median >= 0.97 else 'MISSED'}"
    )


def through_worker(timesteps: int, folder: Path) -> None:
    """One trial in a real ``rltui worker`` process; compared with a bare run right after."""
    path = folder / "overhead.yaml"
    path.write_text(overhead_study(timesteps))
    command = [sys.executable, "-m", "rltui", "worker", str(path), "--max-trials", "1"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=1800)
    trials = load(path.with_suffix(".rltui") / "study.journal").trials
    progress = trials[0].system_attrs.get(attrs.PROGRESS, {}) if trials else {}
    if run.returncode != 0 or "train_seconds" not in progress:
        print(
            f"    through `rltui worker`: no train_seconds recorded (exit {run.returncode}, "
            f"progress {progress}); worker output:\n{run.stdout[-800:]}{run.stderr[-800:]}"
        )
        return
    ours = progress["timesteps"] / progress["train_seconds"]
    bare = bare_sb3(timesteps)[0]
    print(
        f"    through `rltui worker` (1 run): {ours:,.0f} steps/s; bare SB3 just after: "
        f"{bare:,.0f} steps/s; ratio {ours / bare:.3f}"
    )


def load(journal: Path) -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(journal)))
    return optuna.load_study(study_name=None, storage=storage)


def whole_study(trials: int, timesteps: int, workers: int, folder: Path) -> None:
    path = folder / "study.yaml"
    fields = {"trials": trials, "timesteps": timesteps, "seed": SEED}
    text = WHOLE_STUDY.format(every=max(1, timesteps // 4), warmup=timesteps // 3, **fields)
    path.write_text(text)
    print(
        f"(b) whole study: `rltui run --workers {workers}`, PPO CartPole-v1, {trials} trials x "
        f"{timesteps:,} steps, TPE, median pruner, 4 evaluations of 5 episodes"
    )
    command = [sys.executable, "-m", "rltui", "run", str(path), "--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if run.returncode != 0:
        print(f"    rltui run failed (exit {run.returncode}):\n{run.stdout[-2000:]}")
        return
    done = load(path.with_suffix(".rltui") / "study.journal").trials
    finished = sum(t.state.is_finished() for t in done)
    steps = sum((t.system_attrs.get(attrs.PROGRESS) or {}).get("timesteps", 0) for t in done)
    states = Counter(t.state.name.lower() for t in done)
    values = [t.value for t in done if t.value is not None]
    print(
        f"    wall {wall:.1f} s, CPU {cpu:.1f} s (all processes; {cpu / wall:.2f} cores busy on "
        f"average); trials: {', '.join(f'{n} {s}' for s, n in sorted(states.items()))}; "
        f"best value {max(values, default=float('nan')):.1f}"
    )
    print(
        f"    {steps:,} timesteps trained: {steps / wall:,.0f} env-steps/s, "
        f"{finished / wall * 3600:,.0f} trials/hour; {steps / cpu:,.0f} env-steps per CPU-second, "
        f"so {workers * steps / cpu:,.0f} env-steps/s if {workers} cores were free for it"
    )
    print(
        "    reference: rl-baselines3-zoo --optimize --n-jobs 2: 701 env-steps/s (611-791 over 2 "
        "runs), 163 trials/hour; bare SB3 PPO: 1,655 steps/s on one core"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke version (a minute or two)")
    parser.add_argument("--pairs", type=int, help="interleaved pairs in (a) (default 5; quick 1)")
    parser.add_argument("--timesteps", type=int, help="per run in (a) and trial in (b) (20000)")
    parser.add_argument("--trials", type=int, help="trials in (b) (default 20; quick 4)")
    parser.add_argument("--workers", type=int, default=2, help="workers in (b) (default 2)")
    parser.add_argument("--skip-study", action="store_true", help="measure (a) only")
    args = parser.parse_args(argv)
    timesteps = args.timesteps or (4096 if args.quick else 20_000)
    pairs = args.pairs or (1 if args.quick else 5)
    trials = args.trials or (4 if args.quick else 20)
    torch.set_num_threads(1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__}, {os.cpu_count()} CPU(s), "
        f"load average {os.getloadavg()[0]:.2f}; wall-clock timings: repeat on a busy machine"
    )
    # Whole rollouts of PPO's default 2,048 steps in (a): bare learn() always finishes its
    # last rollout, while rltui's trainer stops at the budget, and the two must do equal work.
    rollouts = -(-timesteps // 2048) * 2048
    with tempfile.TemporaryDirectory(prefix="rltui-bench-") as tmp:
        overhead(rollouts, pairs, Path(tmp, "ckpt"))
        through_worker(rollouts, Path(tmp))
        if not args.skip_study:
            whole_study(trials, timesteps, args.workers, Path(tmp))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
