"""Where a trial's evaluations count: the planned step each is reported at, and the trial's
value from them. Plain arithmetic, shared by the SB3 trainer and training functions' runs."""

from __future__ import annotations

from collections.abc import Sequence


def planned_step(now: int, next_eval: int, every: int, budget: int) -> int:
    """The evaluation point a report belongs to: a multiple of ``every``, or the budget.

    Chunks end where the algorithm's rollouts end, so the timesteps actually done vary with
    n_steps and n_envs. Optuna's median and percentile pruners compare trials only at equal
    steps, so every trial reports at the same planned points instead.
    """
    if now >= budget:
        return budget
    return max(next_eval, (now // every) * every)


def objective(
    evaluations: list[tuple[int, float]], kind: str, k: int, maximize: bool
) -> float | None:
    """The trial's value from its evaluations: last, best, or mean of the last k."""
    values = [v for _, v in evaluations]
    if not values:
        return None
    if kind == "best":
        return max(values) if maximize else min(values)
    if kind == "mean_last":
        tail = values[-k:]
        return sum(tail) / len(tail)
    return values[-1]


def area_per_step(evaluations: list[tuple[int, float]]) -> float | None:
    """The area under the reward curve per timestep: each evaluation holds from the one
    before it (or from step 0) to its own step. Evenly spaced evaluations give their mean."""
    if not evaluations:
        return None
    area, previous = 0.0, 0
    for step, value in evaluations:
        area += value * max(0, step - previous)
        previous = max(previous, step)
    if previous <= 0:  # every evaluation at step 0: nothing to weigh them by
        return sum(v for _, v in evaluations) / len(evaluations)
    return area / previous


def steps_to(evaluations: list[tuple[int, float]], threshold: float, budget: int) -> int:
    """The step of the first evaluation whose reward reaches ``threshold``; ``budget + 1``
    when none does: worse than any trial that reached it, tied with the others that did not."""
    for step, value in evaluations:
        if value >= threshold:
            return step
    return budget + 1


def objective_values(
    objectives: Sequence[tuple[str, float | None]],
    evaluations: list[tuple[int, float]],
    *,
    reward: float | None,
    budget: int,
    seconds: float,
) -> list[float] | None:
    """The values of a trial that ran its budget, one per objective ``(name, threshold)`` (see
    :mod:`rltui.spec.objectives`); ``reward`` is its value by ``train.objective``, ``seconds``
    its time trained. None when one of them cannot be had (no evaluation at all)."""
    values: list[float] = []
    for name, threshold in objectives:
        value: float | None
        if name == "reward":
            value = reward
        elif name == "auc":
            value = area_per_step(evaluations)
        elif name == "steps_to":
            value = float(steps_to(evaluations, float(threshold or 0.0), budget))
        elif name == "wall_time":
            value = seconds
        else:
            raise ValueError(f"unknown objective {name!r}")
        if value is None:
            return None
        values.append(float(value))
    return values
