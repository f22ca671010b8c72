"""Where a trial's evaluations count: the planned step each is reported at, and the trial's
value from them. Plain arithmetic, shared by the SB3 trainer and training functions' runs."""

from __future__ import annotations


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
