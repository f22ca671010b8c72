"""What a study optimises: one objective or several, each with its direction.

A study file names its objectives and one direction for each::

    objectives: [reward, wall_time]
    direction: [maximize, minimize]

An objective is a name, or a mapping for one that takes a setting
(``{name: steps_to, threshold: 475}``). Left out, ``objectives`` is ``[reward]`` and
``direction`` is ``maximize``: a study optimises its final evaluation's reward, as before
objectives existed. With ``objectives`` given and ``direction`` left out, each objective gets
its natural direction (:data:`NATURAL`).

Several objectives make a multi-objective Optuna study: it has a Pareto front instead of one
best trial, and Optuna cannot prune it, so its pruner is ``none`` (any other is refused) and
its sampler must be one that weighs several values (:data:`MULTI_OBJECTIVE_SAMPLERS`). The
default sampler stays TPE: a study of tens of RL trials is what TPE (MOTPE with several
objectives) is good at, while NSGA-II's first generation alone is 50 random trials.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from rltui.spec.problems import did_you_mean, show_value

Direction = Literal["maximize", "minimize"]
DIRECTIONS: tuple[str, ...] = ("maximize", "minimize")

# What each objective means, for messages and the README.
MEANINGS: dict[str, str] = {
    "reward": "the trial's value from its evaluations, as train.objective says (by default "
    "the final evaluation's mean reward)",
    "auc": "the area under the reward curve per timestep: each evaluation weighted by the "
    "timesteps since the one before (the mean of all evaluations when they are evenly spaced)",
    "steps_to": "the timesteps until an evaluation's mean reward first reaches 'threshold'; "
    "a trial that never reaches it counts as train.timesteps + 1",
    "wall_time": "seconds the trial ran, evaluations included, time paused left out (the "
    "trial table's duration)",
}
NATURAL: dict[str, str] = {
    "reward": "maximize",
    "auc": "maximize",
    "steps_to": "minimize",
    "wall_time": "minimize",
}
# Samplers that weigh several objectives (Optuna 5.1): CMA-ES raises on a multi-objective
# study, and rltui's policy-gradient sampler follows one direction.
MULTI_OBJECTIVE_SAMPLERS: tuple[str, ...] = ("tpe", "nsgaii", "random", "qmc", "gp", "grid")


def _no_bool(value: Any) -> Any:
    # Pydantic's lax mode reads true as 1.0: a threshold of true is a slip, not a reward.
    if isinstance(value, bool):
        raise _error(f"threshold must be a number, not {show_value(value)}")
    return value


class Objective(BaseModel):
    """One objective: ``name`` (see :data:`MEANINGS`) and, for ``steps_to``, ``threshold``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    threshold: Annotated[float, BeforeValidator(_no_bool)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data}
        if not isinstance(data, dict):
            raise _error(
                f"an objective is a name ({', '.join(MEANINGS)}) or a mapping such as "
                f"{{name: steps_to, threshold: 475}}, got {show_value(data)}"
            )
        unknown = [key for key in data if key not in ("name", "threshold")]
        if unknown:
            guess = did_you_mean(str(unknown[0]), ("name", "threshold"))
            raise _error(
                f"unknown key '{unknown[0]}' in an objective: "
                + (f"did you mean '{guess}'?" if guess else "it takes name and threshold")
            )
        if "name" not in data:
            raise _error(
                "an objective mapping needs a name, as in {name: steps_to, threshold: 475}"
            )
        return data

    @model_validator(mode="after")
    def _known(self) -> Objective:
        if self.name not in MEANINGS:
            guess = did_you_mean(self.name, MEANINGS)
            raise _error(
                f"unknown objective '{self.name}': "
                + (f"did you mean '{guess}'?" if guess else f"use one of {', '.join(MEANINGS)}")
            )
        if self.name == "steps_to" and self.threshold is None:
            raise _error(
                "steps_to needs the reward to reach: write {name: steps_to, threshold: 475}"
            )
        if self.name != "steps_to" and self.threshold is not None:
            raise _error(f"only steps_to takes a threshold; remove it from {self.name}")
        return self

    @property
    def label(self) -> str:
        """How tables and charts name it: ``reward``, ``steps_to 475``."""
        if self.threshold is None:
            return self.name
        return f"{self.name} {self.threshold:g}"


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("objective", "{message}", {"message": message})


def _objective_list(value: Any) -> Any:
    # One objective alone reads as a list of one.
    if isinstance(value, str | dict):
        return [value]
    if not isinstance(value, list | tuple):
        raise _error(f"must be a list such as [reward, wall_time], got {show_value(value)}")
    if not value:
        raise _error("is empty: name at least one objective, such as [reward]")
    return value


def _direction_value(value: Any) -> Any:
    # One direction, or a list of them: each checked here, with a did-you-mean.
    items = value if isinstance(value, list | tuple) else [value]
    for item in items:
        if item not in DIRECTIONS:
            guess = did_you_mean(str(item), DIRECTIONS) if isinstance(item, str) else None
            raise PydanticCustomError(
                "direction",
                "{message}",
                {
                    "message": f"must be one of maximize, minimize, got {show_value(item)}"
                    + (f": did you mean '{guess}'?" if guess else "")
                },
            )
    if isinstance(value, list | tuple):
        if not value:
            raise PydanticCustomError(
                "direction", "{message}", {"message": "is empty: give one direction per objective"}
            )
        return tuple(value)
    return value


def _once_each(objectives: tuple[Objective, ...]) -> tuple[Objective, ...]:
    seen: set[str] = set()
    for objective in objectives:
        if objective.label in seen:
            raise _error(f"objective '{objective.label}' is listed twice: keep one")
        seen.add(objective.label)
    return objectives


Objectives = Annotated[
    tuple[Objective, ...],
    BeforeValidator(_objective_list),
    Field(max_length=8),
    AfterValidator(_once_each),
]
Directions = Annotated[str | tuple[str, ...], BeforeValidator(_direction_value)]


def natural_directions(raw: Any) -> list[str] | None:
    """Each objective's natural direction, read from the file's raw ``objectives`` (None when
    it is not a list of known objectives: its own check then says what is wrong)."""
    items = [raw] if isinstance(raw, str | dict) else raw
    if not isinstance(items, list) or not items:
        return None
    names = [item.get("name") if isinstance(item, dict) else item for item in items]
    known = [name for name in names if isinstance(name, str) and name in NATURAL]
    return [NATURAL[name] for name in known] if len(known) == len(names) else None


def direction_problem(objectives: tuple[Objective, ...], direction: Any) -> str | None:
    """Why ``direction`` does not fit ``objectives``, or None when it does."""
    count = len(objectives)
    given = list(direction) if isinstance(direction, tuple) else [direction]
    if len(given) == count:
        return None
    names = ", ".join(o.label for o in objectives)
    example = ", ".join(NATURAL[o.name] for o in objectives)
    many = f"{len(given)} directions" if len(given) != 1 else "1 direction"
    return (
        f"direction gives {many} for {count} objective{'s' if count != 1 else ''} ({names}): "
        f"give one per objective, in order, such as [{example}]"
    )


def sampler_problem(kind: str) -> str | None:
    """Why the sampler ``kind`` cannot run a study with several objectives, or None."""
    if kind in MULTI_OBJECTIVE_SAMPLERS:
        return None
    return (
        f"the {kind} sampler cannot optimise several objectives: use one of "
        f"{', '.join(MULTI_OBJECTIVE_SAMPLERS)} (tpe when unsure), or keep one objective"
    )


def pruner_problem(kind: str) -> str | None:
    """Why the pruner ``kind`` cannot run a study with several objectives, or None."""
    if kind == "none":
        return None
    return (
        f"Optuna cannot prune a study with several objectives, so the {kind} pruner would "
        "never act: set pruner: none (the default with several objectives), or keep one "
        "objective"
    )


def with_defaults(data: Any) -> Any:
    """The file's top-level mapping with the defaults objectives imply: objectives given
    without a direction take their natural ones; several objectives cannot be pruned, so their
    pruner is none unless the file names one."""
    if not isinstance(data, dict) or "objectives" not in data:
        return data
    natural = natural_directions(data["objectives"])
    if natural is None:
        return data
    data = dict(data)
    if "direction" not in data:
        data["direction"] = natural[0] if len(natural) == 1 else natural
    if len(natural) > 1 and "pruner" not in data:
        data["pruner"] = "none"
    return data


def fitted(key: str, value: Any, objectives: tuple[Objective, ...]) -> Any:
    """``value`` of the top-level ``key`` (direction, sampler, pruner) checked against the
    objectives; raises ValueError with the problem. One objective's direction stays a plain
    string, however it was written."""
    if key == "direction":
        problem = direction_problem(objectives, value)
        if isinstance(value, tuple) and len(value) == 1:
            value = value[0]
    elif len(objectives) < 2:
        problem = None
    else:
        problem = (sampler_problem if key == "sampler" else pruner_problem)(value.type)
    if problem is not None:
        raise ValueError(problem)
    return value


def maximize_reward(objectives: tuple[Objective, ...], directions: tuple[str, ...]) -> bool:
    """Whether a higher reward is better: the reward objective's direction, else the first
    objective's."""
    names = [o.name for o in objectives]
    return directions[names.index("reward") if "reward" in names else 0] == "maximize"


def changed_objectives(before: tuple[Objective, ...], after: tuple[Objective, ...]) -> str | None:
    """Why a study's objectives cannot change from ``before`` to ``after`` (its trials hold
    the values of the objectives they ran under, in order), or None when they are the same."""
    old, new = [o.label for o in before], [o.label for o in after]
    if old == new:
        return None
    return (
        f"this study's trials hold values of [{', '.join(old)}]; its objectives cannot "
        f"change to [{', '.join(new)}]"
    )
