"""How close do samplers get to hidden ground-truth values? (synthetic accuracy benchmark)

The tasks follow the toy used to publish policy-gradient (REINFORCE) hyperparameter search:
every parameter ranges over a width of 100 and has a hidden true value, drawn per repeat from
``default_rng([seed, repeat])`` (the same truths for every sampler and for every variant of a
task, so comparisons are paired).

(a) ``cont3``: 3 continuous parameters ``x0..x2`` in [0, 100]; budget 250 trials.
(b) ``mixed6``: 3 continuous ``x0..x2`` in [0, 100] and 3 discrete ``d0..d2`` with 100
    values each (0..99; the truth is one of them), declared as *unordered* categoricals
    (``suggest_categorical(name, [0, 1, ..., 99])``); budget 1000 trials.
    Two variants of (b) with the same truths, for context:
    ``mixed6-shuffled``: the same declaration, but the label a trial picks stands for a
    shuffled value (label ``l`` means value ``perm[l]``, a random permutation per repeat and
    parameter; the truth's label is mapped along). A sampler that treats the choices as
    unordered, as it should, scores the same as on (b); one that assumed label ``k`` lies
    near label ``k + 1`` would do worse.
    ``mixed6-int``: the discrete parameters declared as ordered integers
    (``suggest_int(name, 0, 99)``), which they are; the samplers may then use the order.

Objective (maximised) = -(mean over all parameters of the squared error ``(value - truth)**2``),
a discrete parameter's value being the number it stands for (0..99).

Reported per sampler and task, over the repeats (mean +- standard error): the mean absolute
error (MAE) over *all* parameters between the best trial and the truth, and separately its
continuous and discrete parts and the share of discrete parameters hit exactly. Beside them:
the figures published for policy-gradient search on these tasks, MAE 2.155 (a) and 2.088 (b).

Usage::

    python bench/sampler_accuracy.py [--repeats N | --repeats 100,tpe=20]
                                     [--samplers pg,random,tpe] [--tasks cont3,mixed6,...]
                                     [--pg batch_size=16,learning_rate=0.1]
                                     [--jobs J] [--seed S]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import optuna

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from rltui.search.samplers import PolicyGradientSampler

WIDTH = 100.0
N_VALUES = 100  # values of a discrete parameter: 0..99


@dataclass(frozen=True)
class Task:
    """A toy: continuous and discrete parameter counts, budget, how discrete ones are declared."""

    n_cont: int
    n_disc: int
    budget: int
    declare: str = "categorical"  # "categorical", "shuffled" (categorical) or "int"


TASKS: dict[str, Task] = {
    "cont3": Task(3, 0, 250),
    "mixed6": Task(3, 3, 1000),
    "mixed6-shuffled": Task(3, 3, 1000, "shuffled"),
    "mixed6-int": Task(3, 3, 1000, "int"),
}
PUBLISHED_MAE = {"cont3": 2.155, "mixed6": 2.088}
SAMPLERS = ("pg", "random", "tpe")


@dataclass(frozen=True)
class Job:
    sampler: str
    task: str
    repeat: int
    seed: int
    pg_options: dict[str, float] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Result:
    job: Job
    mae: float  # over all parameters
    mae_cont: float
    mae_disc: float  # nan without discrete parameters
    exact: float  # share of discrete parameters hit exactly; nan without any
    seconds: float


def make_sampler(
    name: str, seed: int, pg_options: dict[str, float] | None = None
) -> optuna.samplers.BaseSampler:
    """Build a sampler by its short name, seeded."""
    if name == "pg":
        return PolicyGradientSampler(seed=seed, **(pg_options or {}))  # type: ignore[arg-type]
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r} (known: {', '.join(SAMPLERS)})")


def run_job(job: Job) -> Result:
    """Run one study and measure its best trial against the truth."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    task = TASKS[job.task]
    truth_rng = np.random.default_rng([job.seed, job.repeat])
    x_true = truth_rng.uniform(0.0, WIDTH, size=task.n_cont)
    d_true = truth_rng.integers(N_VALUES, size=task.n_disc)
    # label -> value; the identity unless the labels are shuffled (own stream: same truths).
    perm_rng = np.random.default_rng([job.seed, job.repeat, 1])
    value_of = [
        perm_rng.permutation(N_VALUES) if task.declare == "shuffled" else np.arange(N_VALUES)
        for _ in range(task.n_disc)
    ]

    def suggest_disc(trial: optuna.Trial, j: int) -> int:
        if task.declare == "int":
            return trial.suggest_int(f"d{j}", 0, N_VALUES - 1)
        return int(trial.suggest_categorical(f"d{j}", list(range(N_VALUES))))

    def objective(trial: optuna.Trial) -> float:
        xs = [trial.suggest_float(f"x{i}", 0.0, WIDTH) for i in range(task.n_cont)]
        ds = [int(value_of[j][suggest_disc(trial, j)]) for j in range(task.n_disc)]
        sq = [(x - t) ** 2 for x, t in zip(xs, x_true, strict=True)]
        sq += [float(d - t) ** 2 for d, t in zip(ds, d_true, strict=True)]
        return -float(np.mean(sq))

    start = time.perf_counter()
    sampler = make_sampler(job.sampler, job.seed * 100_003 + job.repeat, job.pg_options)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=task.budget)
    seconds = time.perf_counter() - start
    best = study.best_trial.params
    cont = [abs(best[f"x{i}"] - x_true[i]) for i in range(task.n_cont)]
    disc = [abs(int(value_of[j][best[f"d{j}"]]) - d_true[j]) for j in range(task.n_disc)]
    return Result(
        job,
        mae=float(np.mean(cont + disc)),
        mae_cont=float(np.mean(cont)),
        mae_disc=float(np.mean(disc)) if disc else math.nan,
        exact=float(np.mean([e == 0 for e in disc])) if disc else math.nan,
        seconds=seconds,
    )


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


def parse_options(text: str) -> dict[str, float]:
    """``"batch_size=16,learning_rate=0.2"``: keyword options for the policy-gradient sampler."""
    options: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, _, value = item.partition("=")
        number = float(value)
        options[name.strip()] = int(number) if number.is_integer() and "." not in value else number
    return options


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the mean."""
    arr = np.asarray(values, dtype=float)
    se = float(arr.std(ddof=1) / math.sqrt(len(arr))) if len(arr) > 1 else math.nan
    return float(arr.mean()), se


def _fmt(values: list[float], digits: int = 3) -> str:
    if not values or math.isnan(values[0]):
        return "-"
    mean, se = mean_se(values)
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def print_table(
    results: dict[tuple[str, str], list[Result]], samplers: list[str], tasks: list[str]
) -> None:
    """One line per (task, sampler), and the published figure under each task that has one."""
    header = (
        f"{'sampler':<22}{'task':<17}{'budget':>6}{'reps':>5}{'MAE (all) ± SE':>17}"
        f"{'continuous':>16}{'discrete':>16}{'exact':>15}{'s/study':>8}"
    )
    print(header)
    print("-" * len(header))
    for task in tasks:
        budget = TASKS[task].budget
        for s in samplers:
            rows = results.get((s, task), [])
            if not rows:
                continue
            print(
                f"{s:<22}{task:<17}{budget:>6}{len(rows):>5}{_fmt([r.mae for r in rows]):>17}"
                f"{_fmt([r.mae_cont for r in rows]):>16}{_fmt([r.mae_disc for r in rows]):>16}"
                f"{_fmt([r.exact for r in rows], 2):>15}"
                f"{float(np.mean([r.seconds for r in rows])):>8.2f}"
            )
        if task in PUBLISHED_MAE:
            published = f"{PUBLISHED_MAE[task]:.3f}"
            print(f"{'published (REINFORCE)':<22}{task:<17}{budget:>6}{'-':>5}{published:>17}")


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run every (sampler, task, repeat) in a process pool, print a table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", default="100", help='e.g. "100" or "100,tpe=20"')
    ap.add_argument("--samplers", default=",".join(SAMPLERS))
    ap.add_argument("--tasks", default=",".join(TASKS))
    ap.add_argument("--pg", default="", help='policy-gradient options, e.g. "batch_size=16"')
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--seed", type=int, default=0, help="seed for truths and samplers")
    args = ap.parse_args(argv)
    samplers = [s.strip() for s in args.samplers.split(",") if s.strip()]
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        ap.error(f"unknown task(s) {', '.join(unknown)} (known: {', '.join(TASKS)})")
    repeats = parse_repeats(args.repeats, samplers)
    pg_options = parse_options(args.pg)
    for s in samplers:
        make_sampler(s, 0, pg_options)  # fail fast on a typo
    jobs = [
        Job(s, t, r, args.seed, pg_options)
        for s in samplers
        for t in tasks
        for r in range(repeats[s])
    ]
    # Longest first (TPE on the big task), so the pool does not end waiting on stragglers.
    jobs.sort(key=lambda j: (j.sampler != "tpe", -TASKS[j.task].budget))

    results: dict[tuple[str, str], list[Result]] = {}
    start = time.perf_counter()
    load_before = os.getloadavg()
    print(f"{len(jobs)} studies on {args.jobs} processes; repeats: {repeats}", flush=True)
    if pg_options:
        print(f"policy-gradient options: {pg_options}", flush=True)
    with mp.get_context("spawn").Pool(args.jobs) as pool:
        for done, res in enumerate(pool.imap_unordered(run_job, jobs), 1):
            results.setdefault((res.job.sampler, res.job.task), []).append(res)
            if done % max(1, len(jobs) // 20) == 0 or done == len(jobs):
                elapsed = time.perf_counter() - start
                print(f"  {done}/{len(jobs)} done, {elapsed:.0f}s elapsed", flush=True)
    wall = time.perf_counter() - start
    print()
    print_table(results, samplers, tasks)
    load_after = os.getloadavg()
    print(
        f"\nwall time {wall:.0f}s; seed {args.seed}; {os.cpu_count()} CPUs; load average "
        f"(1/5/15 min) {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f} before, "
        f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} after"
    )


if __name__ == "__main__":
    main()
