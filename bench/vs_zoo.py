"""rltui beside rl-baselines3-zoo on the zoo's own PPO search, several seeds, back to back.

    python bench/vs_zoo.py [--seeds 0 1 2] [--trials 20] [--timesteps 20000] [--workers 2]
                           [--no-target] [--time-limit 20s] [--only zoo|rltui] [--quick]

Both tools run the same study, one seed after the other, alternating which goes first:
PPO on CartPole-v1 with the zoo's CartPole-v1 entry (8 envs), the zoo's PPO sampler
(``search_space: {preset: zoo}`` samples the same parameters, distributions and conversions),
multivariate TPE (what the zoo's ``--sampler tpe`` builds) with 5 random start-up trials
seeded by the seed, the median pruner with 5 start-up trials, 4 evaluations of 5
deterministic episodes per trial, the last evaluation as a trial's value, 2 parallel jobs:

- the zoo: ``python -m rl_zoo3.train --algo ppo --env CartPole-v1 -optimize --n-trials 20
  --n-timesteps 20000 --n-jobs 2 --sampler tpe --pruner median --n-startup-trials 5
  --n-evaluations 4 --eval-episodes 5 --seed S`` with a journal storage to read back (its
  jobs are threads in one process; torch keeps its default thread count, as users run it);
- rltui: ``rltui run STUDY --workers 2`` (worker processes at nice 0, as the zoo's process),
  with ``train.target: env`` (CartPole-v1's reward threshold, 475): a trial whose evaluation
  reaches it ends there, COMPLETE. ``--no-target`` leaves the target out, so that rltui
  trains every trial's whole budget as the zoo does. ``--time-limit`` gives rltui's trials a
  ``train.time_limit`` (the zoo has none).

For each run: wall time from the command's launch to its exit; env steps trained by all
trials, pruned ones included, / wall time; finished trials per hour; the time from launch
until the first trial finished with a value >= 475 (the question the study asks: which
settings solve the task); the best value. Then the median and range of each over the seeds.

Env steps: rltui records each trial's trained timesteps. The zoo does not: a pruned trial
trained one evaluation interval (20,000 / 4 = 5,000 steps) per report; a finished one whole
rollouts of 8 x n_steps up to the budget (its learn() ends a rollout before stopping).

Wall-clock timings on a shared machine: note the load averages printed, repeat runs that
look off. A seed takes 2-17 minutes for the zoo and 1-4 for rltui on 2 cores (``--quick``:
2 trials x 5,000 steps, one seed: seconds, or minutes when a trial draws batches of 4).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.search import attrs

SOLVED = 475.0  # CartPole-v1's registered reward_threshold
EVALUATIONS = 4
N_ENVS = 8  # the zoo's CartPole-v1 entry in hyperparams/ppo.yml
MEDIAN = "{type: median, n_startup_trials: 5}"  # the zoo's --pruner median

STUDY = """\
name: vs-zoo-{seed}
n_trials: {trials}
device: cpu
sampler: {{type: tpe, n_startup_trials: 5, seed: {seed}, multivariate: true}}
pruner: {pruner}
train:
  algorithm: ppo
  env: CartPole-v1
  policy: MlpPolicy
  n_envs: {n_envs}
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 5, deterministic: true}}
  objective: last
  seed: {seed}
{target}search_space: {{preset: zoo}}
"""


@dataclass
class Run:
    tool: str
    seed: int
    wall: float
    steps: int
    finished: int
    solved_after: float | None  # seconds from launch to the first trial valued >= SOLVED
    best: float
    states: str
    load: float  # the 1-minute load average when the run ended


def read_study(journal: Path) -> list[optuna.trial.FrozenTrial]:
    storage = JournalStorage(JournalFileBackend(str(journal)))
    return optuna.load_study(study_name=None, storage=storage).trials


def summarise(
    tool: str, seed: int, wall: float, launched: dt.datetime, trials: list, steps: int
) -> Run:
    solved = [
        (t.datetime_complete - launched).total_seconds()
        for t in trials
        if t.value is not None and t.value >= SOLVED and t.datetime_complete is not None
    ]
    states = Counter(t.state.name.lower() for t in trials)
    values = [t.value for t in trials if t.value is not None]
    return Run(
        tool,
        seed,
        wall,
        steps,
        sum(t.state.is_finished() for t in trials),
        min(solved, default=None),
        max(values, default=math.nan),
        ", ".join(f"{n} {s}" for s, n in sorted(states.items())),
        os.getloadavg()[0],
    )


def launch(command: list[str], folder: Path, env: dict[str, str] | None = None) -> tuple:
    """Run ``command`` to its end: (wall seconds, launch datetime, exit code, output tail)."""
    launched = dt.datetime.now()  # Optuna stamps trials with naive local datetimes too
    started = time.perf_counter()
    run = subprocess.run(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return time.perf_counter() - started, launched, run.returncode, run.stdout[-3000:]


def zoo_steps(trial: optuna.trial.FrozenTrial, timesteps: int) -> int:
    if trial.state == optuna.trial.TrialState.COMPLETE:
        rollout = N_ENVS * int(trial.user_attrs.get("n_steps", 2 ** trial.params["n_steps_pow"]))
        return math.ceil(timesteps / rollout) * rollout
    interval = timesteps // EVALUATIONS
    return interval * len(trial.intermediate_values)


def run_zoo(seed: int, trials: int, timesteps: int, workers: int, folder: Path) -> Run | None:
    journal = folder / "zoo.log"  # the zoo takes a .log path as a journal file
    command = [
        *(sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1"),
        *("-optimize", "--n-trials", str(trials), "--n-timesteps", str(timesteps)),
        *("--n-jobs", str(workers), "--sampler", "tpe", "--pruner", "median"),
        *("--n-startup-trials", "5", "--n-evaluations", str(EVALUATIONS)),
        *("--eval-episodes", "5", "--seed", str(seed), "--no-optim-plots"),
        *("--storage", str(journal), "--study-name", f"zoo-{seed}", "-f", str(folder / "logs")),
    ]
    wall, launched, code, tail = launch(command, folder)
    if code != 0 or not journal.exists():
        print(f"    zoo seed {seed} failed (exit {code}):\n{tail}")
        return None
    done = read_study(journal)
    steps = sum(zoo_steps(t, timesteps) for t in done if t.state.is_finished())
    return summarise("zoo", seed, wall, launched, done, steps)


def run_rltui(
    seed: int,
    trials: int,
    timesteps: int,
    workers: int,
    folder: Path,
    target: bool,
    pruner: str = MEDIAN,
    time_limit: str | None = None,
) -> Run | None:
    path = folder / f"vs-zoo-{seed}.yaml"
    path.write_text(
        STUDY.format(
            seed=seed,
            trials=trials,
            n_envs=N_ENVS,
            timesteps=timesteps,
            every=timesteps // EVALUATIONS,
            target=("  target: env\n" if target else "")
            + (f"  time_limit: {time_limit}\n" if time_limit else ""),
            pruner=pruner,
        )
    )
    command = [sys.executable, "-m", "rltui", "run", str(path), "--workers", str(workers)]
    env = {**os.environ, "RLTUI_WORKER_NICE": "0"}
    wall, launched, code, tail = launch(command, folder, env)
    journal = path.with_suffix(".rltui") / "study.journal"
    if code != 0 or not journal.exists():
        print(f"    rltui seed {seed} failed (exit {code}):\n{tail}")
        return None
    done = read_study(journal)
    steps = sum((t.system_attrs.get(attrs.PROGRESS) or {}).get("timesteps", 0) for t in done)
    return summarise("rltui", seed, wall, launched, done, steps)


def show(run: Run) -> None:
    solved = "never" if run.solved_after is None else f"{run.solved_after:6.1f} s"
    print(
        f"    {run.tool:5} seed {run.seed}: wall {run.wall:6.1f} s, {run.steps / run.wall:6,.0f} "
        f"env-steps/s, {run.finished / run.wall * 3600:5,.0f} trials/hour, first >= "
        f"{SOLVED:.0f} after {solved}, best {run.best:.1f} ({run.states}; load {run.load:.2f})",
        flush=True,
    )


def spread(values: list[float], unit: str, fmt: str = "{:,.0f}") -> str:
    if not values:
        return "-"
    middle = fmt.format(statistics.median(values))
    return f"{middle} {unit} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def report(runs: list[Run]) -> None:
    print("\nmedian (range) over the seeds:")
    by_tool: dict[str, list[Run]] = {}
    for run in runs:
        by_tool.setdefault(run.tool, []).append(run)
    medians: dict[str, dict[str, float]] = {}
    for tool, mine in by_tool.items():
        solved = [r.solved_after for r in mine if r.solved_after is not None]
        # A run that never solved counts as its whole wall time, a lower bound on its time.
        bounded = [r.solved_after if r.solved_after is not None else r.wall for r in mine]
        rates = [r.steps / r.wall for r in mine]
        medians[tool] = {"solved": statistics.median(bounded), "rate": statistics.median(rates)}
        print(
            f"    {tool:5}: {spread(rates, 'env-steps/s')}; "
            f"{spread([r.finished / r.wall * 3600 for r in mine], 'trials/hour')}; "
            f"first >= {SOLVED:.0f} after {spread(bounded, 's', '{:.1f}')} "
            f"(solved in {len(solved)} of {len(mine)} runs); study end "
            f"{spread([r.wall for r in mine], 's', '{:.1f}')}; best "
            f"{spread([r.best for r in mine], '', '{:.1f}')}"
        )
    if {"zoo", "rltui"} <= medians.keys():
        ours, zoo = medians["rltui"], medians["zoo"]
        print(
            f"    rltui / zoo: time to the first >= {SOLVED:.0f} "
            f"{ours['solved'] / zoo['solved']:.2f} (target <= 0.5), env-steps/s "
            f"{ours['rate'] / zoo['rate']:.2f} (target >= 1)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", help="default 0 1 2 (quick: 0)")
    parser.add_argument("--trials", type=int, help="per study (default 20; quick 2)")
    parser.add_argument("--timesteps", type=int, help="per trial (default 20000; quick 5000)")
    parser.add_argument("--workers", type=int, default=2, help="parallel jobs (default 2)")
    parser.add_argument("--no-target", action="store_true", help="rltui trains whole budgets")
    parser.add_argument("--only", choices=["zoo", "rltui"], help="run one tool")
    parser.add_argument(
        "--pruner", default=MEDIAN, help=f"rltui's pruner, as the study file writes it ({MEDIAN})"
    )
    parser.add_argument(
        "--time-limit", help="rltui's train.time_limit (e.g. 20s; default none, as the zoo)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke version")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder, print it")
    args = parser.parse_args(argv)
    seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    trials = args.trials or (2 if args.quick else 20)
    timesteps = args.timesteps or (5000 if args.quick else 20_000)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(
        f"python {sys.version.split()[0]}, optuna {optuna.__version__}, {os.cpu_count()} "
        f"CPU(s), load average {os.getloadavg()[0]:.2f}; PPO CartPole-v1, the zoo's search, "
        f"{trials} trials x {timesteps:,} steps, {args.workers} jobs, rltui target "
        f"{'none' if args.no_target else f'{SOLVED:.0f}'}, rltui pruner {args.pruner}, "
        f"rltui time limit {args.time_limit or 'none'}"
    )
    runs: list[Run] = []
    for i, seed in enumerate(seeds):
        order = ["zoo", "rltui"] if i % 2 == 0 else ["rltui", "zoo"]
        for tool in order:
            if args.only and tool != args.only:
                continue
            folder = Path(tempfile.mkdtemp(prefix=f"rltui-vs-zoo-{tool}-{seed}-"))
            if tool == "zoo":
                run = run_zoo(seed, trials, timesteps, args.workers, folder)
            else:
                target = not args.no_target
                run = run_rltui(
                    seed,
                    trials,
                    timesteps,
                    args.workers,
                    folder,
                    target,
                    args.pruner,
                    args.time_limit,
                )
            if args.keep:
                print(f"    kept {folder}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
            if run is not None:
                show(run)
                runs.append(run)
    report(runs)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
