"""Population-Based Training against TPE + median pruner at the same env-step budget.

PPO on Pendulum-v1 with rl-baselines3-zoo's fixed settings (n_envs 4, n_steps 1024, gamma 0.9,
n_epochs 10, gSDE), searching learning_rate, ent_coef, clip_range and gae_lambda, all of which
PBT perturbs between segments. The PBT study trains ``--population`` members of
``--timesteps`` each; the TPE study runs ``--population`` trials of ``--timesteps`` each, so
both have the same budget (TPE spends less when its pruner stops trials). For each seed (the
sampler's seed and train.seed) both study files are written into a temporary folder and run
to their end, one after the other, with ``rltui run FILE --workers N``. Then the journals and
the trials' progress logs give, per study:

- steps to threshold: env steps trained by the whole study (every trial or segment, counted up
  to that moment from its progress log's wall_time) until any evaluation first reaches
  ``--threshold``; the wall time from the launch of ``rltui run`` to that evaluation;
- the study's best value (its objective: mean of a trial's last two evaluations) and the best
  single evaluation; the env steps trained in all and the wall time of the whole run.

Evaluation episodes are not counted as env steps. ``--ray`` also runs Ray Tune's
PopulationBasedTraining on the same task and budget, with SB3 in its trainable, from the
throw-away virtual environment given by ``--ray-python`` (default /tmp/raytune/bin/python).
Wall-clock timings: on a shared machine note the load average printed before and after.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

FIXED = """\
device: cpu
train:
  algorithm: ppo
  env: Pendulum-v1
  n_envs: 4
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 5}}
  objective: {{type: mean_last, k: 2}}
  seed: {seed}
hyperparameters:            # rl-baselines3-zoo's hyperparams/ppo.yml for Pendulum-v1
  n_steps: {n_steps}
  gamma: 0.9
  n_epochs: {n_epochs}
  use_sde: true
  sde_sample_freq: 4
search_space:
  learning_rate: tag(log, interval(1e-4, 3e-3))
  ent_coef: interval(0.0, 0.01)
  clip_range: interval(0.1, 0.4)
  gae_lambda: interval(0.8, 0.99)
"""

PBT_STUDY = """\
name: bench-pbt
direction: maximize
sampler: {{type: pbt, population: {population}, interval: {interval}, quantile: 0.25,
          perturb: [0.8, 1.2], resample_probability: 0.25, seed: {seed}}}
"""

TPE_STUDY = """\
name: bench-tpe
direction: maximize
n_trials: {population}
sampler: {{type: tpe, n_startup_trials: {startup}, seed: {seed}}}
pruner: {{type: median, n_startup_trials: {startup}, n_warmup_steps: {warmup}}}
"""


@dataclass
class Result:
    """One study's figures."""

    method: str
    seed: int
    steps_to: dict[float, float | None]  # per threshold: env steps spent by the whole study
    wall_to: dict[float, float | None]  # per threshold: seconds from launch to that evaluation
    best_value: float | None
    best_eval: float | None
    total_steps: int
    wall: float
    trials: str  # trial counts by state


Log = tuple[int, list[dict[str, Any]]]  # a trial's (or Ray run's) first timestep and its rows


def sizes(args: argparse.Namespace) -> dict[str, int]:
    """The budget's numbers: one rollout is n_envs x n_steps env steps."""
    n_steps = 256 if args.quick else 1024
    rollout = 4 * n_steps
    interval = args.interval or (2 * rollout if args.quick else 5 * rollout)
    timesteps = args.timesteps or (2 * interval if args.quick else 4 * interval)
    return {
        "n_steps": n_steps,
        "n_epochs": 2 if args.quick else 10,
        "interval": interval,
        "every": interval // 2,
        "timesteps": timesteps,
        "warmup": 2 * interval,
    }


def study_text(method: str, seed: int, args: argparse.Namespace) -> str:
    size = sizes(args)
    head = PBT_STUDY if method == "pbt" else TPE_STUDY
    startup = max(1, min(4, args.population // 2))
    return head.format(
        population=args.population, seed=seed, startup=startup, **size
    ) + FIXED.format(seed=seed, **size)


def run_study(path: Path, workers: int) -> tuple[float, float]:
    """``rltui run`` to the end; its launch and end times."""
    log = path.with_suffix(".log")
    start = time.time()
    with log.open("w") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "rltui", "run", str(path), "--workers", str(workers)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
            start_new_session=True,  # no terminal signals from a shell's job control
        )
    end = time.time()
    if proc.returncode:
        print(f"  rltui run {path.name} exited {proc.returncode}; see {log}", flush=True)
    return start, end


def read_rows(log: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "timesteps" in row and "wall_time" in row:
            rows.append(row)
    return rows


def rltui_figures(
    method: str, seed: int, path: Path, start: float, end: float, thresholds: list[float]
) -> Result:
    """A finished study's figures, from its journal and its trials' progress logs."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from rltui.search.segments import segment_of

    home = path.with_suffix(".rltui")
    storage = JournalStorage(JournalFileBackend(str(home / "study.journal")))
    study = optuna.load_study(study_name=f"bench-{method}", storage=storage)
    trials = study.get_trials(deepcopy=False)
    logs: list[Log] = []
    for trial in trials:
        segment = segment_of(trial)
        first = segment.start if segment is not None else 0
        logs.append(
            (first, read_rows(home / "trials" / f"trial-{trial.number}" / "progress.jsonl"))
        )
    values = [t.value for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    states = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    # A lost worker (killed or stopped from outside) makes the run's figures not comparable.
    lost = path.with_suffix(".log").read_text(encoding="utf-8").count("Worker lost:")
    states += f", {lost} workers lost" if lost else ""
    best = max(values, default=None)
    return summarise(method, seed, logs, start, end, thresholds, best, states)


def summarise(
    method: str,
    seed: int,
    logs: list[Log],
    start: float,
    end: float,
    thresholds: list[float],
    best_value: float | None,
    states: str,
) -> Result:
    def trained_by(moment: float) -> int:
        total = 0
        for first, rows in logs:
            done = [r["timesteps"] for r in rows if r["wall_time"] <= moment]
            total += max(0, max(done, default=first) - first)
        return total

    evals = [
        (r["wall_time"], float(r["eval/mean_reward"]))
        for first, rows in logs
        for r in rows
        if isinstance(r.get("eval/mean_reward"), int | float) and r["timesteps"] > first
    ]
    steps_to: dict[float, float | None] = {}
    wall_to: dict[float, float | None] = {}
    for threshold in thresholds:
        hit = min((t for t, v in evals if v >= threshold), default=None)
        steps_to[threshold] = trained_by(hit) if hit is not None else None
        wall_to[threshold] = hit - start if hit is not None else None
    return Result(
        method=method,
        seed=seed,
        steps_to=steps_to,
        wall_to=wall_to,
        best_value=best_value,
        best_eval=max((v for _, v in evals), default=None),
        total_steps=trained_by(math.inf),
        wall=end - start,
        trials=states,
    )


def fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "steps":
        return f"{value:,.0f}"
    if kind == "s":
        return f"{value:.0f} s"
    return f"{value:.1f}"


def spread(values: list[float | None], kind: str) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return f"never (0/{len(values)})"
    low, high = fmt(min(got), kind), fmt(max(got), kind)
    text = f"{fmt(statistics.median(got), kind)} [{low} .. {high}]"
    return text if len(got) == len(values) else f"{text} ({len(got)}/{len(values)} reached)"


def columns(thresholds: list[float]) -> list[tuple[str, Any, str]]:
    """(label, how to read it from a Result, unit) for each printed figure."""
    out: list[tuple[str, Any, str]] = []
    for x in thresholds:
        out.append((f"steps to {x:g}", lambda r, x=x: r.steps_to[x], "steps"))
        out.append((f"wall to {x:g}", lambda r, x=x: r.wall_to[x], "s"))
    out += [
        ("best value", lambda r: r.best_value, "v"),
        ("best evaluation", lambda r: r.best_eval, "v"),
        ("env steps", lambda r: r.total_steps, "steps"),
        ("wall", lambda r: r.wall, "s"),
    ]
    return out


def report(results: list[Result], thresholds: list[float]) -> None:
    cols = columns(thresholds)
    print("\nper seed ('-': never reached):")
    head = ["seed", "method"] + [c[0] for c in cols] + ["trials"]
    rows = [[str(r.seed), r.method] + [fmt(get(r), k) for _, get, k in cols] + [r.trials]
            for r in results]  # fmt: skip
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    for row in [head, *rows]:
        print("  " + "  ".join(x.rjust(w) for x, w in zip(row, widths, strict=True)))
    print("\nmedian [min .. max] over seeds:")
    for method in dict.fromkeys(r.method for r in results):
        mine = [r for r in results if r.method == method]
        print(f"  {method} ({len(mine)} seeds)")
        for label, get, kind in cols:
            print(f"    {label:>20}: {spread([get(r) for r in mine], kind)}")


def done(result: Result, thresholds: list[float]) -> None:
    """One study's figures as soon as it ends, and the load average then."""
    got = [f"{label} {fmt(get(result), kind)}" for label, get, kind in columns(thresholds)]
    print(f"  seed {result.seed} {result.method}: {', '.join(got)}; {result.trials}; "
          f"load {load()}", flush=True)  # fmt: skip


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny budget: checks the script")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 (default 3; 1 with --quick)")
    parser.add_argument("--timesteps", type=int, default=0, help="per member and per trial")
    parser.add_argument("--interval", type=int, default=0, help="PBT's segment length")
    parser.add_argument("--population", type=int, default=0, help="members = TPE trials (8)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threshold", default="-250", help="one or more, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", choices=["pbt", "tpe"], help="run only one of the two")
    parser.add_argument("--ray", action="store_true", help="also run Ray Tune's PBT")
    parser.add_argument("--ray-python", default="/tmp/raytune/bin/python")
    parser.add_argument("--ray-child", help=argparse.SUPPRESS)  # the Ray run's output file
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.population = args.population or (4 if args.quick else 8)
    if args.ray_child:
        ray_child(args)
        return
    if args.ray and not Path(args.ray_python).exists():
        sys.exit(f"--ray: no Python at {args.ray_python}; make the environment bench/README.md "
                 "describes, or give its interpreter with --ray-python")  # fmt: skip
    seeds = args.seeds if args.seeds is not None else (1 if args.quick else 3)
    thresholds = [float(x) for x in args.threshold.split(",")]
    size = sizes(args)
    print(
        f"PPO Pendulum-v1: {args.population} x {size['timesteps']:,} timesteps per study "
        f"(PBT interval {size['interval']:,}; evaluations every {size['every']:,}), "
        f"{seeds} seed(s), {args.workers} workers; load average before: {load()}",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="rltui-bench-pbt-"))
    methods = [args.only] if args.only else ["pbt", "tpe"]
    results: list[Result] = []
    for seed in range(seeds):
        for method in methods:
            path = folder / f"{method}-{seed}.yaml"
            path.write_text(study_text(method, seed, args), encoding="utf-8")
            start, end = run_study(path, args.workers)
            results.append(rltui_figures(method, seed, path, start, end, thresholds))
            done(results[-1], thresholds)
        if args.ray:
            results.append(run_ray(seed, args, folder, thresholds))
            done(results[-1], thresholds)
    report(results, thresholds)
    print(f"\nload average after: {load()}")
    if args.keep:
        print(f"studies kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


def run_ray(seed: int, args: argparse.Namespace, folder: Path, thresholds: list[float]) -> Result:
    """Ray Tune's PBT, run by this script in the throw-away environment, read back."""
    out = folder / f"ray-{seed}"
    command = [args.ray_python, __file__, "--ray-child", str(out), "--seed", str(seed)]
    command += ["--population", str(args.population), "--workers", str(args.workers)]
    command += ["--timesteps", str(args.timesteps), "--interval", str(args.interval)]
    command += ["--quick"] if args.quick else []
    start = time.time()
    with out.with_suffix(".log").open("w") as log:
        proc = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    end = time.time()
    logs: list[Log] = []
    for run in sorted(out.glob("run-*.jsonl")) if out.is_dir() else []:
        rows = read_rows(run)
        logs.append((rows[0]["timesteps"], rows[1:]) if rows else (0, []))
    finals = [json.loads(p.read_text()) for p in out.glob("final-*.json")] if out.is_dir() else []
    state = f"{len(finals)} members ended" if not proc.returncode else f"exit {proc.returncode}"
    best = max((f["value"] for f in finals), default=None)
    return summarise("ray-pbt", seed, logs, start, end, thresholds, best, state)


def ray_child(args: argparse.Namespace) -> None:
    """Ray Tune's PopulationBasedTraining of the same members (run under the Ray environment).

    Each run of the trainable (a member's start, or its restart from a donor's checkpoint)
    writes ``run-*.jsonl``: its first timestep, then one row per evaluation with the member's
    timesteps and the wall time, as rltui's progress logs do; each member's last two
    evaluations' mean goes to ``final-*.json``.
    """
    import random
    import tempfile as tmp
    import uuid

    import numpy as np
    import ray
    import torch
    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    size = sizes(args)
    out = Path(args.ray_child)
    out.mkdir(parents=True, exist_ok=True)
    mutable = ("learning_rate", "ent_coef", "clip_range", "gae_lambda")

    def trainable(config: dict[str, Any]) -> None:
        torch.set_num_threads(1)
        env = make_vec_env("Pendulum-v1", n_envs=4, seed=args.seed)
        eval_env = make_vec_env("Pendulum-v1", n_envs=1, seed=args.seed + 10_000)
        changed = {k: config[k] for k in mutable}
        rewards: list[float] = []  # the member's evaluations, carried in its checkpoints
        checkpoint = tune.get_checkpoint()
        if checkpoint is None:
            model = PPO("MlpPolicy", env, n_steps=size["n_steps"], gamma=0.9,
                        n_epochs=size["n_epochs"], use_sde=True, sde_sample_freq=4,
                        seed=args.seed, device="cpu", **changed)  # fmt: skip
        else:
            with checkpoint.as_directory() as folder:
                model = PPO.load(Path(folder) / "model.zip", env=env, device="cpu", **changed)
                rewards = json.loads((Path(folder) / "rewards.json").read_text())
        log = (out / f"run-{uuid.uuid4().hex}.jsonl").open("a")
        log.write(json.dumps({"timesteps": model.num_timesteps, "wall_time": time.time()}) + "\n")
        while model.num_timesteps < size["timesteps"]:
            target = (model.num_timesteps // size["every"] + 1) * size["every"]
            model.learn(target - model.num_timesteps, reset_num_timesteps=False)
            reward = float(np.mean(evaluate_policy(model, eval_env, n_eval_episodes=5)[0]))
            rewards.append(reward)
            row = {"timesteps": model.num_timesteps, "wall_time": time.time()}
            log.write(json.dumps({**row, "eval/mean_reward": reward}) + "\n")
            log.flush()
            with tmp.TemporaryDirectory() as folder:
                model.save(Path(folder) / "model.zip")
                (Path(folder) / "rewards.json").write_text(json.dumps(rewards))
                metrics = {"timesteps": model.num_timesteps, "reward": reward}
                tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))
        final = {"value": sum(rewards[-2:]) / max(1, len(rewards[-2:]))}
        (out / f"final-{uuid.uuid4().hex}.json").write_text(json.dumps(final))

    space = {
        "learning_rate": tune.loguniform(1e-4, 3e-3),
        "ent_coef": tune.uniform(0.0, 0.01),
        "clip_range": tune.uniform(0.1, 0.4),
        "gae_lambda": tune.uniform(0.8, 0.99),
    }
    bounds = {"learning_rate": (1e-4, 3e-3), "ent_coef": (0.0, 0.01), "clip_range": (0.1, 0.4),
              "gae_lambda": (0.8, 0.99)}  # fmt: skip

    def clip(config: dict[str, Any]) -> dict[str, Any]:
        # Ray multiplies without bounds (gae_lambda 0.95 x 1.2 > 1); rltui stays in the space.
        for name, (low, high) in bounds.items():
            config[name] = min(max(config[name], low), high)
        return config

    pbt = PopulationBasedTraining(
        time_attr="timesteps",
        perturbation_interval=size["interval"],
        quantile_fraction=0.25,
        resample_probability=0.25,
        perturbation_factors=(1.2, 0.8),
        hyperparam_mutations={k: space[k] for k in mutable},
        custom_explore_fn=clip,
    )
    random.seed(args.seed)
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(
            scheduler=pbt, metric="reward", mode="max", num_samples=args.population
        ),
        run_config=tune.RunConfig(storage_path=str(out / "ray"), verbose=1),
    )
    tuner.fit()


if __name__ == "__main__":
    main()
