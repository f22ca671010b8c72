"""The study file's schema: what each key means, its type, and its default."""

from __future__ import annotations

import importlib.util
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from rltui.spec import objectives as obj
from rltui.spec import pbt, wrappers
from rltui.spec.durations import TimeLimit
from rltui.spec.launching import Gpus, LauncherSpec
from rltui.spec.limits import MAX_ENTRIES, MAX_SUBPROC_ENVS, MAX_WRAPPERS, SIZES
from rltui.spec.problems import did_you_mean

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
FUNCTION_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
DEVICE_RE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
SEED_MAX = 2**32 - 1  # numpy's seeds are unsigned 32-bit integers


def _no_bool(value: Any) -> Any:
    # Pydantic's lax mode reads true as 1: `n_trials: true` would quietly become one trial.
    if isinstance(value, bool):
        raise PydanticCustomError(
            "number_not_bool", "must be a number, not {value}", {"value": value}
        )
    return value


Whole = Annotated[int, BeforeValidator(_no_bool)]
PositiveWhole = Annotated[int, BeforeValidator(_no_bool), Field(gt=0)]
Seed = Annotated[int, BeforeValidator(_no_bool), Field(ge=0, le=SEED_MAX)]
# Settings by name: a study needs dozens, so a thousand is a file that is not a study.
Entries = Annotated[dict[str, Any], Field(max_length=MAX_ENTRIES)]
# Sizes that cannot run past their bound (rltui.spec.limits says why).
Timesteps = Annotated[PositiveWhole, Field(le=SIZES["timesteps"].most)]
Number = Annotated[float, BeforeValidator(_no_bool)]
Flag = Annotated[bool, Strict()]  # 1 or 'yes' is no boolean: say true or false


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Typed(_Strict):
    """A ``{type: name, option: value, ...}`` block; everything but ``type`` is an option."""

    type: str
    options: Entries = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_options(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"type": data}
        if isinstance(data, dict) and "options" not in data:
            split: dict[str, Any] = {"options": {k: v for k, v in data.items() if k != "type"}}
            if "type" in data:
                split["type"] = data["type"]
            return split
        return data


class SamplerSpec(_Typed):
    """Which Optuna sampler proposes parameters (``tpe``, ``random``, ``cmaes``, ...)."""

    type: str = "tpe"


class PrunerSpec(_Typed):
    """Which Optuna pruner stops weak trials early. Its steps are environment timesteps."""

    type: str = "median"


class EvalSpec(_Strict):
    """How often and how thoroughly a trial's agent is evaluated.

    ``every`` counts timesteps between evaluations; by default a tenth of the budget.
    ``final_episodes`` plays more episodes at the last evaluation only (the one at the budget,
    never pruned), where a long evaluation says most and costs least.
    """

    every: Annotated[PositiveWhole, Field(le=SIZES["every"].most)] | None = None
    episodes: Annotated[PositiveWhole, Field(le=SIZES["episodes"].most)] = 5
    final_episodes: Annotated[PositiveWhole, Field(le=SIZES["episodes"].most)] | None = None
    deterministic: Flag = True


class ObjectiveSpec(_Strict):
    """Which number of a trial's evaluations Optuna optimises."""

    type: Literal["last", "best", "mean_last"] = "last"
    k: PositiveWhole = 3

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data


class NormalizeSpec(_Strict):
    """VecNormalize settings; ``normalize: true`` normalises observations and rewards."""

    obs: Flag = True
    reward: Flag = True

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return {"obs": data, "reward": data}
        return data


class WrapperSpec(_Strict):
    """One env wrapper: a known name or ``module:Class``, with its keyword arguments.

    Written as rl-baselines3-zoo writes it: ``AtariWrapper`` alone, or ``{TimeLimit:
    {max_episode_steps: 200}}`` (see :mod:`rltui.spec.wrappers`)."""

    name: str
    kwargs: Entries = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _zoo_form(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data}
        if isinstance(data, dict) and len(data) == 1:
            ((name, kwargs),) = data.items()
            if not isinstance(name, str):
                raise _wrapper_error("a wrapper's name must be text")
            if kwargs is not None and not isinstance(kwargs, dict):
                raise _wrapper_error(
                    f"the keyword arguments of {name} must be a mapping, as in "
                    f"{{{name}: {{keyword: value}}}}"
                )
            return {"name": name, "kwargs": kwargs or {}}
        raise _wrapper_error(
            "each wrapper is a name, or one {Name: {keyword: value}} mapping: write several "
            "as a list, in the order they wrap the env"
        )

    @model_validator(mode="after")
    def _known(self) -> WrapperSpec:
        try:
            problem = wrappers.check_keywords(wrappers.resolve(self.name, self.kwargs))
        except wrappers.WrapperNameError as exc:
            problem = str(exc)
        if problem is not None:
            raise _wrapper_error(problem)
        return self


def _wrapper_error(message: str) -> PydanticCustomError:
    return PydanticCustomError("wrapper", "{message}", {"message": message})


def _wrapper_list(value: Any) -> Any:
    # One wrapper alone, a list of them, or (not zoo's form, but natural YAML) a mapping of
    # several in order.
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [{name: kwargs} for name, kwargs in value.items()]
    if not isinstance(value, list):
        raise _wrapper_error(
            "env_wrapper is a wrapper's name, or a list of them in the order they wrap the env"
        )
    return value


TENSORBOARD_INSTALL = "install rltui[tensorboard] (pip install 'rltui[tensorboard]')"
# What to write instead of SB3's own tensorboard_log, which rltui's logger would ignore.
TENSORBOARD_HINT = (
    "use train.tensorboard: true instead: each trial then logs to its folder's tensorboard/ "
    "(STUDY.rltui/trials/trial-N/tensorboard)"
)

POLICIES = (
    *("MlpPolicy", "CnnPolicy", "MultiInputPolicy"),
    *("MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy", "LinearPolicy"),  # sb3-contrib
)


class TrainSpec(_Strict):
    """What one trial trains: an SB3 algorithm on a Gymnasium env, or the user's function."""

    algorithm: str | None = None
    function: str | None = None
    env: str | None = None
    env_kwargs: Entries = Field(default_factory=dict)
    n_envs: Annotated[PositiveWhole, Field(le=SIZES["n_envs"].most)] = 1
    normalize: NormalizeSpec = Field(default_factory=lambda: NormalizeSpec(obs=False, reward=False))
    policy: str = "MlpPolicy"
    env_wrapper: Annotated[
        list[WrapperSpec], BeforeValidator(_wrapper_list), Field(max_length=MAX_WRAPPERS)
    ] = Field(default_factory=list)
    frame_stack: Annotated[PositiveWhole, Field(le=SIZES["frame_stack"].most)] | None = None
    vec_env: Literal["dummy", "subproc", "envpool"] = "dummy"
    timesteps: Timesteps
    eval: EvalSpec = Field(default_factory=EvalSpec)
    objective: ObjectiveSpec = Field(default_factory=ObjectiveSpec)
    seed: Seed | None = None
    seeds: list[Seed] | None = None
    target: Any = None  # checked by rltui.spec.target
    # Seconds a trial may run, every stint added up (time paused left out): past it, it is
    # pruned within one environment or gradient step (rltui.worker.heartbeat.RunningTrial).
    # "3x": three times what the study's complete trials took per timestep, times the budget.
    time_limit: TimeLimit | None = None
    # Each trial also writes its training log as TensorBoard event files, in
    # trials/trial-N/tensorboard/ (see rltui.train.progress).
    tensorboard: Flag = False

    @field_validator("algorithm")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return value.lower() if isinstance(value, str) else value

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in POLICIES:
            guess = did_you_mean(value, POLICIES)
            raise ValueError(
                f"unknown policy '{value}': "
                + (f"did you mean '{guess}'?" if guess else f"use one of {', '.join(POLICIES)}")
            )
        return value

    @field_validator("function")
    @classmethod
    def _function_ref(cls, value: str | None) -> str | None:
        if value is not None and not FUNCTION_RE.match(value):
            raise ValueError(f"'{value}' is not of the form 'package.module:function'")
        return value

    @field_validator("tensorboard")
    @classmethod
    def _tensorboard(cls, value: bool) -> bool:
        # Refused up front, as a missing extra is for an env: else every trial would fail.
        if value and importlib.util.find_spec("tensorboard") is None:
            raise ValueError(
                "TensorBoard logs need the 'tensorboard' package, which is not installed "
                f"here: {TENSORBOARD_INSTALL}, or set tensorboard: false"
            )
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and (not value or len(set(value)) != len(value)):
            raise ValueError("seeds must be a non-empty list of distinct integers")
        return value

    @model_validator(mode="after")
    def _what_to_train(self) -> TrainSpec:
        if self.function is None and self.algorithm is None:
            raise ValueError("give either 'algorithm' (with 'env') or 'function'")
        if self.function is None and self.env is None:
            raise ValueError("'env' is missing: name a Gymnasium env id such as CartPole-v1")
        if self.function is not None and self.algorithm is not None:
            raise ValueError("give 'algorithm' or 'function', not both")
        if self.vec_env == "subproc" and self.n_envs > MAX_SUBPROC_ENVS:
            raise ValueError(
                f"vec_env: subproc runs each of the {self.n_envs} envs as a process of its own: "
                f"use at most {MAX_SUBPROC_ENVS}, or vec_env: dummy"
            )
        if self.function is not None and self.seeds:
            raise ValueError(
                "'seeds' is for SB3 algorithms; a training function gets 'seed' "
                "and may loop over seeds itself"
            )
        return self

    @model_validator(mode="after")
    def _env_setup(self) -> TrainSpec:
        given = [k for k in ("env_wrapper", "frame_stack", "vec_env") if k in self.model_fields_set]
        if self.function is not None and given:
            raise ValueError(
                f"{', '.join(given)} set up the env of an SB3 algorithm; a training function "
                "builds its own envs: remove them"
            )
        if self.vec_env == "envpool" and self.env_wrapper:
            raise ValueError(
                "vec_env: envpool builds its envs in C++ and cannot wrap them: remove "
                "env_wrapper, or use vec_env: dummy or subproc"
            )
        limits = [w for w in self.env_wrapper if wrappers.is_time_limit(wrappers.resolve(w.name))]
        if limits and "max_episode_steps" in self.env_kwargs:
            raise ValueError(
                "env_kwargs.max_episode_steps and the TimeLimit wrapper both set the episode "
                "length: keep one"
            )
        return self

    @property
    def eval_every(self) -> int:
        return self.eval.every or max(1, self.timesteps // 10)

    @property
    def seed_list(self) -> list[int | None]:
        return list(self.seeds) if self.seeds else [self.seed]


class ControlSpec(_Strict):
    """How workers look after trials: liveness, retries after a crash, checkpoints."""

    heartbeat_interval: Number = Field(default=2.0, gt=0)
    heartbeat_grace: Number = Field(default=20.0, gt=0)
    retries: Whole = Field(default=0, ge=0)
    checkpoint_dir: str | None = None
    keep_checkpoints: Flag = False

    @model_validator(mode="after")
    def _grace(self) -> ControlSpec:
        if self.heartbeat_grace <= self.heartbeat_interval:
            raise ValueError("heartbeat_grace must be longer than heartbeat_interval")
        return self


class StudySpec(_Strict):
    """One study file, validated. ``source`` is the YAML text it was read from."""

    name: str
    description: str = ""
    storage: str | None = None
    # One objective or several, one direction each (rltui.spec.objectives says what each
    # objective means and what several of them change).
    objectives: obj.Objectives = (obj.Objective(name="reward"),)
    direction: obj.Directions = "maximize"
    n_trials: PositiveWhole = 20
    workers: PositiveWhole = 1
    device: str = "auto"
    # Which of this machine's GPUs the local launcher spreads workers over, and how many may
    # share one (rltui.spec.launching); where the workers run (local, ssh or slurm).
    gpus: Gpus = None
    workers_per_gpu: PositiveWhole | None = None
    launcher: LauncherSpec = Field(default_factory=LauncherSpec)
    sampler: SamplerSpec = Field(default_factory=SamplerSpec)
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    train: TrainSpec
    hyperparameters: Entries = Field(default_factory=dict)
    search_space: Entries = Field(default_factory=dict)
    enqueue: list[dict[str, Any]] = Field(default_factory=list)
    control: ControlSpec = Field(default_factory=ControlSpec)

    @model_validator(mode="before")
    @classmethod
    def _objective_defaults(cls, data: Any) -> Any:
        return pbt.with_defaults(obj.with_defaults(data))

    @field_validator("direction", "sampler", "pruner")
    @classmethod
    def _fits_objectives(cls, value: Any, info: ValidationInfo) -> Any:
        objectives = info.data.get("objectives")
        if objectives is None:
            return value  # its own problem is reported
        return obj.fitted(str(info.field_name), value, objectives)

    @property
    def directions(self) -> tuple[str, ...]:
        """One direction per objective, in order."""
        return self.direction if isinstance(self.direction, tuple) else (self.direction,)

    @property
    def multi_objective(self) -> bool:
        """Whether the study optimises several objectives (a Pareto front, no pruning)."""
        return len(self.objectives) > 1

    @property
    def maximize_reward(self) -> bool:
        """Whether a higher reward is better (what train.objective's ``best`` follows)."""
        return obj.maximize_reward(self.objectives, self.directions)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_RE.match(value):
            raise ValueError(
                "use letters, digits, '.', '_' and '-' only, starting with a letter or digit"
            )
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not DEVICE_RE.match(value):
            raise ValueError(f"'{value}' is not a device: use auto, cpu, cuda, cuda:N or mps")
        return value
