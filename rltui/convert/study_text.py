"""A study file written from what an import found, then checked as rltui checks any study.

An import gathers a :class:`Draft`: the study's settings and, for each key, where in the source
it came from. :func:`finish` writes the draft as a study file with the keys it could not carry
over listed in comments at the top, checks the text, and moves any setting the check refuses
(an option the policy does not take, a wrapper rltui cannot set up) out of the study into the
unmapped list with the check's message, until the study checks clean or nothing more can be
moved. The study that comes out is one rltui runs as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rltui.convert import Conversion, Unmapped, one_line
from rltui.spec.flow import flow
from rltui.spec.loader import check_text
from rltui.spec.model import NAME_RE
from rltui.spec.problems import Problem, format_path

_ROUNDS = 8  # each round moves at least one key out; a draft has a few dozen at most
# Settings of ``train`` that a refused value can leave out: the default then applies.
_TRAIN_OPTIONAL = (
    "env_wrapper",
    "frame_stack",
    "policy",
    "normalize",
    "env_kwargs",
    "vec_env",
    "eval",
)
# The order of ``train``'s keys in a written study, as the README's example has them.
_TRAIN_ORDER = (
    "env_kwargs",
    "env_wrapper",
    "frame_stack",
    "policy",
    "n_envs",
    "vec_env",
    "normalize",
    "timesteps",
    "eval",
    "objective",
    "seed",
)
ZOO_EVAL_EVERY = 25_000  # rl-baselines3-zoo's --eval-freq default, in timesteps
ZOO_EVAL_EPISODES = 5  # and its --eval-episodes


@dataclass
class Draft:
    """A study being put together by an import. ``origins`` maps a key of ``hyperparameters``,
    ``search_space`` or ``train`` to the key of the source it came from, so that a setting the
    check refuses is reported under the name the user wrote."""

    name: str
    algorithm: str
    env: str
    timesteps: int
    source: str  # one line: what was converted
    description: str = ""
    direction: str = "maximize"
    n_trials: int = 1
    workers: int | None = None
    device: str | None = None
    sampler: dict[str, Any] | None = None
    pruner: dict[str, Any] | None = None
    train: dict[str, Any] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    search_space: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, str], str] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def set(self, section: str, key: str, value: Any, origin: str) -> None:
        """Set ``key`` of ``section`` (``train``, ``hyperparameters``, ``search_space``)."""
        getattr(self, section)[key] = value
        self.origins[(section, key)] = origin

    def leave_out(self, key: str, value: Any, hint: str) -> None:
        self.unmapped.append(Unmapped(key, value, hint))


def study_name(*parts: str) -> str:
    """A study name from free text (``ALE/Pong-v5``, ``ppo``): the characters a name allows."""
    words = [re.sub(r"[^A-Za-z0-9_.\-]+", "-", part).strip("-._") for part in parts]
    name = "-".join(word for word in words if word).lower()[:80] or "imported"
    return name if NAME_RE.match(name) else f"study-{name}"


def default_eval(timesteps: int, deterministic: bool = True) -> dict[str, Any]:
    """The zoo's evaluation (5 episodes every 25,000 timesteps), kept to between 4 and 50
    evaluations over the budget so that short runs are still evaluated and long ones do not
    spend their time evaluating."""
    every = max(min(ZOO_EVAL_EVERY, timesteps // 4), timesteps // 50, 1)
    return {"every": every, "episodes": ZOO_EVAL_EPISODES, "deterministic": deterministic}


VEC_NORMALIZE_GAMMA = 0.99  # the discount rltui's VecNormalize keeps its return statistics with


def normalize_gamma_note(normalizes_reward: bool, gamma: Any) -> str | None:
    """What differs when rewards are normalized with a gamma other than VecNormalize's: the
    zoo discounts its reward statistics with the algorithm's gamma, rltui with 0.99."""
    if not normalizes_reward or not isinstance(gamma, int | float) or isinstance(gamma, bool):
        return None
    if gamma == VEC_NORMALIZE_GAMMA:
        return None
    return (
        f"Rewards are normalized: the zoo's VecNormalize discounts them with gamma ({gamma}), "
        f"rltui's with {VEC_NORMALIZE_GAMMA}."
    )


def finish(draft: Draft, *, filename: str | None = None, check_env: bool = True) -> Conversion:
    """The study file of ``draft``, checked; settings the check refuses are moved out of the
    study into ``unmapped`` with the check's message. ``filename`` is where the study will be
    read from (a ``module:Env`` id or wrapper is imported from beside it)."""
    text, problems = "", list[Problem]()
    for _ in range(_ROUNDS):
        text = render(draft)
        _, problems = check_text(text, filename, check_env=check_env)
        if not _move_refused(draft, problems):
            break
    return Conversion(text, draft.name, tuple(draft.unmapped), tuple(draft.notes), tuple(problems))


def _move_refused(draft: Draft, problems: Iterable[Problem]) -> bool:
    moved = False
    for problem in problems:
        if problem.severity != "error" or len(problem.path) < 2 or "of memory" in problem.message:
            continue  # a study too large for this machine is the user's call, not a bad key
        section, key = problem.path[0], problem.path[1]
        if section == "train" and key not in _TRAIN_OPTIONAL:
            continue
        if section not in ("train", "hyperparameters", "search_space"):
            continue
        values: dict[str, Any] = getattr(draft, str(section))
        if key not in values:
            continue
        value = values.pop(str(key))
        origin = draft.origins.get((str(section), str(key)), format_path(problem.path[:2]))
        reason = problem.message + (f" ({problem.hint})" if problem.hint else "")
        draft.leave_out(origin, value, f"refused by rltui's check: {reason}")
        moved = True
    return moved


def render(draft: Draft) -> str:
    """The study file's text: a header saying where it came from and what was left out, then
    the settings, each section in block style and each value on one line."""
    lines = [f"# {one_line(draft.source)}"]
    lines += [f"# {one_line(note)}" for note in draft.notes]
    if draft.unmapped:
        lines.append("# Not converted (no rltui setting for them, or refused by its check):")
        lines += [f"#   {item.line()}" for item in draft.unmapped]
    top: dict[str, Any] = {"name": draft.name}
    if draft.description:
        top["description"] = draft.description
    top.update(direction=draft.direction, n_trials=draft.n_trials)
    if draft.workers is not None:
        top["workers"] = draft.workers
    if draft.device is not None:
        top["device"] = draft.device
    lines += [f"{key}: {flow(value)}" for key, value in top.items()]
    for section in ("sampler", "pruner"):
        block = getattr(draft, section)
        if block:
            lines += ["", f"{section}:", *_block(block)]
    given = {**draft.train, "timesteps": draft.timesteps}
    given.setdefault("eval", default_eval(draft.timesteps))
    train = {"algorithm": draft.algorithm, "env": draft.env}
    train.update((key, given.pop(key)) for key in _TRAIN_ORDER if key in given)
    lines += ["", "train:", *_block({**train, **given})]
    for section in ("hyperparameters", "search_space"):
        block = getattr(draft, section)
        if block:
            lines += ["", f"{section}:", *_block(block)]
    return "\n".join(lines) + "\n"


def _block(values: dict[str, Any]) -> list[str]:
    return [f"  {flow(key)}: {flow(value)}" for key, value in values.items()]
