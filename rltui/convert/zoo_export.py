"""A study's settings, with one trial's hyperparameters, as an rl-baselines3-zoo hyperparams
file that ``python -m rl_zoo3.train --algo A --env E -conf FILE`` trains unchanged.

Values are written in the zoo's own forms: ``n_timesteps``, ``policy``, ``n_envs``,
``normalize``, ``env_wrapper`` (full import paths), ``frame_stack``, ``env_kwargs``,
``policy_kwargs`` as the zoo's ``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"`` string,
schedules as ``lin_X``, action noise as ``noise_type``/``noise_std``. What the zoo takes on its
command line (seed, evaluation, ``--vec-env``, device) is in the command written at the top of
the file; what it cannot express at all is listed there and in the result's ``unmapped``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from rltui.convert import Conversion, ConversionError, Unmapped, one_line
from rltui.convert.study_text import normalize_gamma_note
from rltui.convert.zoo_import import RLTUI_TO_ZOO
from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec import schedules
from rltui.spec import wrappers as wraps
from rltui.spec.env_setup import is_atari
from rltui.spec.loader import StudyFile
from rltui.spec.model import TrainSpec
from rltui.spec.problems import format_path
from rltui.spec.zoo import ZOO_ACTIVATIONS, ZOO_OPTIMIZERS

# Each algorithm's default learning rate (its signature's, compared by a test): the start of
# ``learning_rate_schedule: linear`` when the study gives no learning_rate.
DEFAULT_LEARNING_RATES = {
    "ppo": 3e-4,
    "a2c": 7e-4,
    "dqn": 1e-4,
    "sac": 3e-4,
    "td3": 1e-3,
    "ddpg": 1e-3,
    "tqc": 3e-4,
    "qrdqn": 5e-5,
    "trpo": 1e-3,
    "ars": 0.02,
    "recurrentppo": 3e-4,
    "crossq": 1e-3,
}
_ACTIVATION_CLASSES = {name: f"nn.{cls}" for cls, name in ZOO_ACTIVATIONS.items()}
_OPTIMIZER_CLASSES = {name: f"th.optim.{cls}" for cls, name in ZOO_OPTIMIZERS.items()}
_NOISE_TYPES = {"normal": "normal", "ornstein_uhlenbeck": "ornstein-uhlenbeck"}
_DEFAULT_NOISE_SIGMA = 0.1  # rltui's, when a study names a noise but no sigma


def trial_hyperparameters(study: StudyFile, params: Mapping[str, Any]) -> dict[str, Any]:
    """What a trial with sampled ``params`` trains with: the study's fixed hyperparameters, its
    fixed search-space values and the trial's own (:meth:`StudyFile.hyperparameters_for`)."""
    return study.hyperparameters_for(params)


def zoo_entry(
    study: StudyFile, hyperparameters: Mapping[str, Any], env_id: str | None = None
) -> dict[str, Any]:
    """The zoo hyperparams entry of ``study`` trained with ``hyperparameters`` (fixed and
    sampled, dotted names included: :func:`trial_hyperparameters`). ``env_id`` is the study's
    env by default. Raises :class:`ConversionError` for a study the zoo cannot train."""
    return _Exporter(study, env_id).entry(hyperparameters)


def export_zoo(
    study: StudyFile,
    params: Mapping[str, Any] | None = None,
    *,
    env_id: str | None = None,
    conf_name: str = "FILE",
    trial: int | None = None,
) -> Conversion:
    """The zoo hyperparams file for ``study`` with a trial's sampled ``params`` (None: the
    fixed settings only; searched ones are then listed as left out). ``conf_name`` is the
    file's name in the command line written at its top; ``trial`` its number, for the header.
    The result's ``unmapped`` lists what the zoo cannot express."""
    exporter = _Exporter(study, env_id)
    searched = [name for name in study.space.distributions if params is None]
    entry = exporter.entry(trial_hyperparameters(study, params or {}))
    for name in searched:
        exporter.leave_out(
            f"search_space.{name}",
            study.spec.search_space.get(name),
            "searched: export one trial's values (rltui export --format zoo --trial N)",
        )
    text = exporter.text(entry, conf_name, trial)
    name = f"{study.spec.name}-zoo"
    return Conversion(text, name, tuple(exporter.unmapped), tuple(exporter.notes))


def write_zoo_file(
    study: StudyFile,
    path: Path,
    params: Mapping[str, Any] | None = None,
    *,
    env_id: str | None = None,
    trial: int | None = None,
) -> Conversion:
    """Write :func:`export_zoo`'s file to ``path``; returns what was written and left out.
    Raises :class:`ConversionError` when the file cannot be written."""
    path = Path(path)
    done = export_zoo(study, params, env_id=env_id, conf_name=str(path), trial=trial)
    try:
        path.write_text(done.text, encoding="utf-8")
    except OSError as exc:
        raise ConversionError(f"cannot write {path}: {exc.strerror or exc}") from None
    return done


class _Exporter:
    def __init__(self, study: StudyFile, env_id: str | None):
        train = study.spec.train
        if train.algorithm is None or train.env is None:
            raise ConversionError(
                f"the study '{study.spec.name}' trains a function of its own "
                f"({train.function}): the zoo trains SB3 algorithms only",
                "export it as CSV instead (rltui export --format csv)",
            )
        self.study, self.train = study, train
        self.algorithm: str = train.algorithm
        self.env_id: str = env_id or train.env
        self.policy = pol.policy_of(train)
        self.unmapped: list[Unmapped] = []
        self.notes: list[str] = []

    def leave_out(self, key: str, value: Any, hint: str) -> None:
        self.unmapped.append(Unmapped(key, value, hint))

    def entry(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        train = self.train
        entry: dict[str, Any] = {
            "n_timesteps": train.timesteps,
            "policy": self.policy,
            "n_envs": train.n_envs,
        }
        normalize = train.normalize
        if normalize.obs and normalize.reward:
            entry["normalize"] = True
        elif normalize.obs or normalize.reward:
            entry["normalize"] = f"dict(norm_obs={normalize.obs}, norm_reward={normalize.reward})"
        env_kwargs = dict(train.env_kwargs)
        wrappers = self._wrappers(train, env_kwargs)
        if wrappers:
            entry["env_wrapper"] = wrappers
        if train.frame_stack:
            entry["frame_stack"] = train.frame_stack
        if env_kwargs:
            entry["env_kwargs"] = env_kwargs
        entry.update(self._hyperparameters(hyperparameters))
        note = normalize_gamma_note(normalize.reward, entry.get("gamma"))
        if note and note not in self.notes:
            self.notes.append(note)
        return entry

    def _wrappers(self, train: TrainSpec, env_kwargs: dict[str, Any]) -> list[Any]:
        out: list[Any] = []
        for wrapper in train.env_wrapper:
            ref = wraps.resolve(wrapper.name, wrapper.kwargs)
            if wraps.is_time_limit(ref):
                # rltui applies a TimeLimit as gym.make does (under the Monitor that evaluation
                # reads), and so does the zoo with the same keyword in env_kwargs.
                env_kwargs["max_episode_steps"] = ref.kwargs["max_episode_steps"]
                continue
            name = f"{ref.module}.{ref.cls}"
            out.append({name: dict(ref.kwargs)} if ref.kwargs else name)
        return out

    def _hyperparameters(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        values = pol.nest(hyperparameters)
        options = pol.policy_args(self.algorithm, self.policy)
        args = algos.ALGORITHM_ARGS[self.algorithm]
        out: dict[str, Any] = {}
        policy_kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name in options:
                policy_kwargs[name] = _policy_value(self.algorithm, name, value)
            elif name == pol.POLICY_KWARGS:
                for key, inner in value.items():
                    policy_kwargs[key] = _policy_value(self.algorithm, key, inner)
            elif name in args:
                out[name] = self._argument(name, value)
            elif name not in ("learning_rate_schedule", "action_noise", "action_noise_sigma"):
                self.leave_out(f"hyperparameters.{name}", value, "no zoo setting takes it")
        if values.get("learning_rate_schedule") == "linear":
            start = out.get("learning_rate", DEFAULT_LEARNING_RATES[self.algorithm])
            out["learning_rate"] = f"lin_{start}" if not isinstance(start, str) else start
        noise = values.get("action_noise")
        if noise in _NOISE_TYPES:
            out["noise_type"] = _NOISE_TYPES[noise]
            out["noise_std"] = float(values.get("action_noise_sigma", _DEFAULT_NOISE_SIGMA))
        if policy_kwargs:
            out["policy_kwargs"] = python_literal(policy_kwargs)
        return out

    def _argument(self, name: str, value: Any) -> Any:
        schedule = schedules.read(value) if name in algos.SCHEDULABLE[self.algorithm] else None
        if schedule is None:
            if name in algos.CAST_TO_INT and isinstance(value, float) and value.is_integer():
                return int(value)
            return value
        if schedule.kind == "constant":
            return schedule.start
        if schedule.kind != "linear" or schedule.end != 0:
            self.leave_out(
                f"hyperparameters.{name}",
                value,
                f"the zoo's schedules are linear down to 0: written as lin_{schedule.start}, "
                f"where rltui's {schedule.kind} schedule ends at {schedule.end}",
            )
        return f"lin_{schedule.start}"

    def text(self, entry: dict[str, Any], conf_name: str, trial: int | None) -> str:
        """The file: a header (what it is, the command that trains it, what was left out),
        then the entry under its env id, as PyYAML writes it (the zoo reads it with PyYAML)."""
        spec, train = self.study.spec, self.train
        command = [
            "python -m rl_zoo3.train",
            f"--algo {RLTUI_TO_ZOO.get(self.algorithm, self.algorithm)}",
            f"--env {self.env_id}",
            f"-conf {conf_name}",
            f"--eval-freq {train.eval_every} --eval-episodes {train.eval.episodes}",
        ]
        if train.seed_list[0] is not None:
            command.append(f"--seed {train.seed_list[0]}")
        if train.vec_env == "subproc":
            command.append("--vec-env subproc")
        if spec.device != "auto":
            command.append(f"--device {spec.device}")
        self._command_line_notes(train)
        of = f"trial {trial} of " if trial is not None else ""
        said = [
            f"rl-baselines3-zoo hyperparameters for {self.env_id}, from {of}rltui's study "
            f"'{spec.name}'.",
            f"Train it with: {' '.join(command)}",
            *self.notes,
        ]
        lines = [f"# {one_line(line)}" for line in said]
        if self.unmapped:
            lines.append("# Not expressible in a zoo hyperparams file:")
            lines += [f"#   {item.line()}" for item in self.unmapped]
        body = yaml.safe_dump({self.env_id: entry}, sort_keys=False, width=100)
        return "\n".join(lines) + "\n" + body

    def _command_line_notes(self, train: TrainSpec) -> None:
        if train.seeds and len(train.seeds) > 1:
            self.notes.append(
                f"The study trains each trial with {len(train.seeds)} seeds "
                f"({', '.join(map(str, train.seeds))}): run the command once per --seed."
            )
        zoo_deterministic = not is_atari(self.env_id)  # the zoo's own rule
        if train.eval.deterministic != zoo_deterministic:
            zoo_way = "deterministically" if zoo_deterministic else "Atari games stochastically"
            way = "deterministically" if train.eval.deterministic else "stochastically"
            self.leave_out(
                format_path(("train", "eval", "deterministic")),
                train.eval.deterministic,
                f"the zoo evaluates {zoo_way} and takes no setting for it; the study "
                f"evaluates {way}",
            )
        if train.vec_env == "envpool":
            self.leave_out(
                format_path(("train", "vec_env")),
                "envpool",
                "the zoo steps Gymnasium's envs (its --vec-env dummy or subproc), not EnvPool's",
            )
        if train.objective.type != "last":
            self.notes.append(
                f"The study's objective ({train.objective.type}) ranks trials; the zoo reports "
                "every evaluation."
            )


def _policy_value(algorithm: str, name: str, value: Any) -> Any:
    """A policy option as the zoo's string writes it (before :func:`python_literal`)."""
    if name == "net_arch":
        return algos.layer_sizes(value)
    if name == "activation_fn" and value in _ACTIVATION_CLASSES:
        return _Name(_ACTIVATION_CLASSES[value])
    if name == "optimizer_class" and value in _OPTIMIZER_CLASSES:
        return _Name(_OPTIMIZER_CLASSES[value])
    return value


class _Name(str):
    """A class name the zoo's string names bare (``nn.ReLU``), not as a quoted string."""

    __slots__ = ()


def python_literal(value: Any) -> str:
    """``value`` as the zoo writes a ``policy_kwargs`` string: ``dict(key=value)`` for mappings,
    Python literals for the rest, class names bare."""
    if isinstance(value, _Name):
        return str(value)
    if isinstance(value, Mapping):
        if all(isinstance(key, str) and key.isidentifier() for key in value):
            inner = ", ".join(f"{key}={python_literal(item)}" for key, item in value.items())
            return f"dict({inner})"
        pairs = ", ".join(f"{key!r}: {python_literal(item)}" for key, item in value.items())
        return "{" + pairs + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    return repr(value)
