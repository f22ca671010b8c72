"""How close do samplers get to hidden ground-truth values? (synthetic accuracy benchmark)

Two tasks, each with hidden true values drawn per repeat from ``default_rng([seed, repeat])``
(the same truths for every sampler, so the comparison is paired):

(a) ``cont3``: 3 continuous parameters ``x0..x2`` in [0, 100]; budget 250 trials.
(b) ``mixed6``: 3 categorical parameters ``c0..c2`` with 5 choices each (0..4; the truth is
    one of them) and 3 continuous ``x0..x2`` in [0, 100]; budget 1000 trials.

Objective (maximised) = -(mean over all parameters of the squared error), where a
continuous parameter's squared error is ``(x - truth)**2`` and a categorical one's is
``0`` if the choice is right and ``CAT_PENALTY = 100`` otherwise (as costly as missing a
continuous parameter by 10, a tenth of its range).

Reported per sampler and task, over the repeats (mean +- standard error): the mean absolute
error (MAE) between the best trial's continuous parameters and the truth and, for (b), the
fraction of categorical parameters the best trial got right. Beside them: the figures
published for policy-gradient (REINFORCE) search on these tasks, MAE 2.155 (a), 2.088 (b).

Usage::

    python bench/sampler_accuracy.py [--repeats N | --repeats 100,tpe=20]
                                     [--samplers pg,random,tpe] [--tasks cont3,mixed6]
                                     [--jobs J] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.search.samplers import PolicyGradientSampler

CAT_PENALTY = 100.0
N_CHOICES = 5
WIDTH = 100.0
TASKS: dict[str, tuple[int, int, int]] = {  # name: (continuous, categorical, budget)
    "cont3": (3, 0, 250),
    "mixed6": (3, 3, 1000),
}
PUBLISHED_MAE = {"cont3": 2.155, "mixed6": 2.088}
SAMPLERS = ("pg", "random", "tpe")


@dataclass(frozen=True)
class Job:
    sampler: str
    task: str
    repeat: int
    seed: int


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """Build a sampler by its short name, seeded."""
    if name == "pg":
        return PolicyGradientSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


def run_job(job: Job) -> tuple[Job, float, float, float]:
    """Run one study; return (job, MAE, categorical accuracy or nan, seconds)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    n_cont, n_cat, budget = TASKS[job.task]
    truth_rng = np.random.default_rng([job.seed, job.repeat])
    x_true = truth_rng.uniform(0.0, WIDTH, size=n_cont)
    c_true = truth_rng.integers(N_CHOICES, size=n_cat)

    def objective(trial: optuna.Trial) -> float:
        sq = [(trial.suggest_float(f"x{i}", 0.0, WIDTH) - x_true[i]) ** 2 for i in range(n_cont)]
        for j in range(n_cat):
            right = trial.suggest_categorical(f"c{j}", list(range(N_CHOICES))) == c_true[j]
            sq.append(0.0 if right else CAT_PENALTY)
        return -float(np.mean(sq))

    start = time.perf_counter()
    study = optuna.create_study(
        direction="maximize", sampler=make_sampler(job.sampler, job.seed * 100_003 + job.repeat)
    )
    study.optimize(objective, n_trials=budget)
    seconds = time.perf_counter() - start
    best = study.best_trial.params
    mae = float(np.mean([abs(best[f"x{i}"] - x_true[i]) for i in range(n_cont)]))
    acc = float(np.mean([best[f"c{j}"] == c_true[j] for j in range(n_cat)])) if n_cat else math.nan
    return job, mae, acc, seconds


def parse_repeats(text: str, samplers: list[str]) -> dict[str, int]:
    """``"100"`` or ``"100,tpe=20"``: a default count and per-sampler overrides."""
    default, per = 100, {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        if "=" in item:
            name, count = item.split("=", 1)
            per[name.strip()] = int(count)
        else:
            default = int(item)
    return {s: per.get(s, default) for s in samplers}


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    arr = np.asarray(values, dtype=float)
    se = float(arr.std(ddof=1) / math.sqrt(len(arr))) if len(arr) > 1 else math.nan
    return float(arr.mean()), se


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every (sampler, task, repeat) in a process pool, print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", default="100", help='e.g. "100" or "100,tpe=20"')
    ap.add_argument("--samplers", default=",".join(SAMPLERS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--seed", type=int, default=0, help="seed for truths and samplers")
    args = ap.parse_args(argv)
    samplers = [s.strip() for s in args.samplers.split(",") if s.strip()]
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    repeats = parse_repeats(args.repeats, samplers)
    for s in samplers:
        make_sampler(s, 0)  # fail fast on a typo
    jobs = [Job(s, t, r, args.seed) for s in samplers for t in tasks for r in range(repeats[s])]
    # Longest first (TPE on the big task), so the pool does not end waiting on stragglers.
    jobs.sort(key=lambda j: (j.sampler != "tpe", -TASKS[j.task][2]))

    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    start = time.perf_counter()
    print(f"{len(jobs)} studies on {args.jobs} processes; repeats: {repeats}", flush=True)
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for done, (job, mae, acc, secs) in enumerate(pool.imap_unordered(run_job, jobs), 1):
            results.setdefault((job.sampler, job.task), []).append((mae, acc, secs))
            if done % max(1, len(jobs) // 20) == 0 or done == len(jobs):
                elapsed = time.perf_counter() - start
                print(f"  {done}/{len(jobs)} done, {elapsed:.0f}s elapsed", flush=True)
    wall = time.perf_counter() - start

    print()
    header = (
        f"{'sampler':<22}{'task':<8}{'budget':>7}{'repeats':>8}"
        f"{'MAE ± SE':>18}{'cat acc ± SE':>17}{'s/study':>9}"
    )
    print(header)
    print("-" * len(header))
    for task in tasks:
        for s in samplers:
            rows = results.get((s, task), [])
            if not rows:
                continue
            mae, mae_se = mean_se([r[0] for r in rows])
            acc_text = "-"
            if TASKS[task][1]:
                acc, acc_se = mean_se([r[1] for r in rows])
                acc_text = f"{acc:.3f} ± {acc_se:.3f}"
            secs = float(np.mean([r[2] for r in rows]))
            print(
                f"{s:<22}{task:<8}{TASKS[task][2]:>7}{len(rows):>8}"
                f"{f'{mae:.3f} ± {mae_se:.3f}':>18}{acc_text:>17}{secs:>9.2f}"
            )
        print(
            f"{'published (REINFORCE)':<22}{task:<8}{TASKS[task][2]:>7}{'-':>8}"
            f"{f'{PUBLISHED_MAE[task]:.3f}':>18}{'-':>17}{'-':>9}"
        )
    print(f"\nwall time {wall:.0f}s; categorical penalty {CAT_PENALTY:g}; seed {args.seed}")


if __name__ == "__main__":
    main()
