"""A study's target: a reward that ends a trial early as solved, and a number of solved trials
that ends the study.

``train.target: 475`` (or ``env``: the environment's registered ``reward_threshold``, 475 for
CartPole-v1) ends a trial COMPLETE at the first evaluation whose mean reward reaches it (at or
above it when reward is maximised, at or below when minimised), instead of training the rest
of its budget. ``train.target: {reward: env, trials: 3}`` also drains the study once three
trials have reached it: workers finish the trials they run and take no new ones. Its value is
the study's objective over the evaluations it made, as for any trial.

Why: in RL a trial that has solved the task spends the rest of its budget proving it, and a
study whose question is "which settings solve it, and how fast" is answered once a few have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rltui.spec.pbt import is_pbt
from rltui.spec.problems import Problem

if TYPE_CHECKING:
    from rltui.spec.model import StudySpec

ENV = "env"


def read(value: Any) -> tuple[float | str | None, int | None]:
    """``(reward, trials)`` from the ``train.target`` value as written (checked already)."""
    if value is None:
        return None, None
    if isinstance(value, dict):
        return value.get("reward"), value.get("trials")
    return value, None


def check(spec: StudySpec, *, check_env: bool) -> list[Problem]:
    """What is wrong with the study's ``train.target``, the environment's threshold included."""
    train = spec.train
    found = problems(train.target, multi_objective=spec.multi_objective, pbt=is_pbt(spec))
    reward, _ = read(train.target)
    if found or reward != ENV or not check_env or not train.env:
        return found
    if env_threshold(train.env) is None:
        return [
            Problem(
                ("train", "target"),
                f"{train.env} has no registered reward_threshold for target: env to use",
                "give the reward as a number, such as target: 200",
            )
        ]
    return []


def problems(value: Any, *, multi_objective: bool, pbt: bool) -> list[Problem]:
    """What is wrong with ``train.target`` (None when the file has none)."""
    if value is None:
        return []
    where = ("train", "target")
    out = []
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"reward", "trials"})
        if unknown:
            out.append(
                Problem(
                    (*where, unknown[0]),
                    f"'{unknown[0]}' is not a key of train.target",
                    "write {reward: 475, trials: 3}: the reward, and how many trials reaching "
                    "it end the study",
                )
            )
        reward, trials = value.get("reward"), value.get("trials")
        if reward is None:
            out.append(Problem(where, "train.target has no reward", "add reward: 475 (or env)"))
        if trials is not None and (not _whole(trials) or trials < 1):
            out.append(
                Problem(
                    (*where, "trials"),
                    f"trials must be a whole number of 1 or more, not {trials!r}",
                    "how many trials reaching the target end the study, such as 3",
                )
            )
    else:
        reward = value
    if reward is not None and reward != ENV and not _number(reward):
        out.append(
            Problem(
                where,
                f"the target reward must be a number or env, not {reward!r}",
                "a mean evaluation reward such as 475, or env for the environment's "
                "registered reward_threshold",
            )
        )
    if multi_objective:
        out.append(
            Problem(
                where,
                "a study with several objectives has no single reward to reach",
                "remove train.target, or keep one objective",
            )
        )
    if pbt:
        out.append(
            Problem(
                where,
                "a PBT study's members train their whole budget in segments: a target would "
                "end a segment, not a member",
                "remove train.target, or use another sampler",
            )
        )
    return out


def env_threshold(env_id: str) -> float | None:
    """The environment's registered ``reward_threshold``; None when it has none (or is not a
    registered Gymnasium id)."""
    import gymnasium

    entry = gymnasium.registry.get(env_id)
    threshold = getattr(entry, "reward_threshold", None)
    return float(threshold) if threshold is not None else None


def reward_of(value: Any, env_id: str | None) -> float | None:
    """The target reward ``train.target`` sets, ``env`` looked up; None without one."""
    reward, _ = read(value)
    if reward == ENV:
        return env_threshold(env_id) if env_id else None
    return float(reward) if reward is not None else None


def reached(value: float, target: float, maximize: bool) -> bool:
    return value >= target if maximize else value <= target


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
