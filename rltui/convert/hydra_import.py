"""A Hydra project tuned with Hydra's Optuna sweeper as an rltui study file.

The project is composed by Hydra (:mod:`rltui.convert.hydra_compose`); then each value of the
composed config finds its setting by its key: a key whose last part is a hyperparameter of the
algorithm (``agent.gamma``, ``model.policy_kwargs``) is that hyperparameter; the env id, the
algorithm, the budget and the env's setup come from the key names such projects use
(``env.id``, ``agent._target_: stable_baselines3.PPO``, ``total_timesteps``, ``n_envs``); the
sweeper's ``params`` (``hydra.sweeper.params``, however composed) are the search space, each
expression kept as written, since rltui reads Hydra's sweeper grammar. The sweeper's trial
budget, direction and sampler carry over. Every key that finds no setting is listed with why.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeGuard

from rltui.convert import Conversion, ConversionError
from rltui.convert.hydra_compose import ComposedProject, compose_project
from rltui.convert.hydra_keys import (
    ConfigPath,
    algorithm_named,
    class_names,
    dotted,
    drop_fixed,
    leaves,
    setting_of,
)
from rltui.convert.study_text import Draft, default_eval, finish, study_name
from rltui.convert.zoo_import import ZOO_ALGORITHMS
from rltui.spec import algorithms as algos
from rltui.spec import policy as pol
from rltui.spec.model import DEVICE_RE
from rltui.spec.optuna_options import SAMPLER_OPTIONS
from rltui.spec.problems import did_you_mean
from rltui.spec.space import config_path

# optuna.samplers' classes, by the last part of a sweeper's ``sampler._target_``.
_SAMPLERS = {
    "TPESampler": "tpe",
    "RandomSampler": "random",
    "CmaEsSampler": "cmaes",
    "QMCSampler": "qmc",
    "GPSampler": "gp",
    "NSGAIISampler": "nsgaii",
    "GridSampler": "grid",
}
_TARGET_HINT = "Hydra's instantiation target: rltui builds the algorithm and env itself"
# Constructor arguments of SB3's that a study leaves to rltui, and why.
_RLTUI_DOES = {
    "verbose": "rltui trains quietly and records each trial's progress itself",
    "tensorboard_log": "rltui writes each trial's progress to the study's folder",
    "stats_window_size": "rltui's evaluations, not the training episodes, score a trial",
    "_init_setup_model": "rltui builds the model itself",
}
DEFAULT_TIMESTEPS = 100_000


def import_hydra(
    config_dir: Path,
    config_name: str | None = None,
    overrides: Sequence[str] = (),
    *,
    algorithm: str | None = None,
    env_id: str | None = None,
    study_path: Path | None = None,
    check_env: bool = True,
) -> Conversion:
    """The study file of a Hydra project: ``config_name`` (``config`` by default) in
    ``config_dir``, composed with ``overrides`` (``agent=a2c``,
    ``search_spaces@hydra.sweeper.params=small``). ``algorithm`` and ``env_id`` name what the
    config does not. Raises :class:`ConversionError` for a project Hydra cannot compose or one
    whose algorithm or env cannot be told."""
    project = compose_project(Path(config_dir), config_name, overrides)
    return _Mapper(project, algorithm, env_id).convert(study_path, check_env)


class _Mapper:
    def __init__(self, project: ComposedProject, algorithm: str | None, env_id: str | None):
        self.project = project
        where = project.config_dir / project.config_name
        # Each setting of the study, and the config key it was taken from.
        self.claimed: dict[str, str] = {}
        self.eval: dict[str, Any] = {}  # eval settings found, applied once the budget is known
        found = self._first("algorithm")
        written = algorithm or (algorithm_named(*found) if found else None)
        if written is None:
            raise ConversionError(
                f"no algorithm found in {where}",
                "name it (rltui import hydra DIR --algo ppo), or keep it in the config as "
                "algorithm: ppo or agent._target_: stable_baselines3.PPO",
            )
        self.algorithm = _algorithm_name(written)
        if algorithm is not None:  # the caller's word over the config's
            self.claimed["algorithm"] = "the command line"
        found_env = self._first("env")
        env = env_id or (str(found_env[1]) if found_env else None)
        if env is None:
            raise ConversionError(
                f"no env id found in {where}",
                "name it (rltui import hydra DIR --env CartPole-v1), or keep it in the config "
                "as env.id or env_id",
            )
        self.env_id = env
        if env_id is not None:
            self.claimed["env"] = "the command line"

    def _first(self, setting: str) -> tuple[ConfigPath, Any] | None:
        for path, value in leaves(self.project.job, frozenset()):
            if setting_of(path, value) == setting:
                self.claimed.setdefault(setting, dotted(path))
                return path, value
        return None

    def convert(self, study_path: Path | None, check_env: bool) -> Conversion:
        project, sweeper = self.project, self.project.sweeper
        overrides = f" with {' '.join(project.overrides)}" if project.overrides else ""
        name = sweeper.get("study_name") or ""
        draft = Draft(
            name=study_name(str(name) or f"{project.config_dir.name}-{self.env_id}"),
            algorithm=self.algorithm,
            env=self.env_id,
            timesteps=DEFAULT_TIMESTEPS,
            source=f"Converted from the Hydra project {project.config_dir}, config "
            f"{project.config_name}{overrides}.",
            description=f"{algos.display_name(self.algorithm)} on {self.env_id}, from a Hydra "
            "project.",
        )
        self._map_job(draft)
        if self.eval:
            draft.train["eval"] = {**default_eval(draft.timesteps), **self.eval}
        if ("train", "timesteps") not in draft.origins:
            draft.notes.append(
                f"The config names no budget (total_timesteps): {DEFAULT_TIMESTEPS:,} timesteps "
                "per trial; change train.timesteps to suit."
            )
        self._map_search_space(draft)
        self._map_sweeper(draft)
        draft.notes += [
            f"{path}: its interpolation cannot be resolved outside a Hydra run; kept as written."
            for path in project.unresolved
        ]
        filename = str(study_path) if study_path else str(project.config_dir / "study.yaml")
        return finish(draft, filename=filename, check_env=check_env)

    # The composed config: settings, and hyperparameters of the algorithm.

    def _map_job(self, draft: Draft) -> None:
        policy = self._first("train.policy")
        accepted = pol.accepted_hyperparameters(
            self.algorithm, policy[1] if policy and isinstance(policy[1], str) else None
        )
        whole = accepted | {"env_kwargs", "normalize", "env_wrapper"}
        for path, value in leaves(self.project.job, whole):
            key, origin = str(path[-1]), dotted(path)
            setting = setting_of(path, value)
            if setting is not None:
                self._setting(draft, setting, value, origin)
            elif key == "_target_":
                draft.leave_out(origin, value, _TARGET_HINT)
            elif key in _RLTUI_DOES:
                draft.leave_out(origin, value, _RLTUI_DOES[key])
            elif key in accepted:
                if self._claim(draft, f"hyperparameters.{key}", origin, value):
                    draft.set("hyperparameters", key, class_names(key, value), origin)
            else:
                draft.leave_out(origin, value, _unknown_hint(self.algorithm, key, accepted))

    def _claim(self, draft: Draft, setting: str, origin: str, value: Any) -> bool:
        first = self.claimed.setdefault(setting, origin)
        if first != origin:
            draft.leave_out(origin, value, f"the study takes {setting} from {first}")
            return False
        return True

    def _setting(self, draft: Draft, setting: str, value: Any, origin: str) -> None:
        if not self._claim(draft, setting, origin, value) or setting in ("algorithm", "env"):
            return
        section, _, key = setting.partition(".")
        if setting == "timesteps":
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else 0
            if number >= 1:
                draft.timesteps = int(number)
                draft.origins[("train", "timesteps")] = origin
            else:
                draft.leave_out(origin, value, "the budget is a number of timesteps")
        elif section == "eval":
            self.eval[key] = value
        elif setting == "device":
            if isinstance(value, str) and DEVICE_RE.match(value):
                draft.device = value
            else:
                draft.leave_out(origin, value, "not a device: auto, cpu, cuda, cuda:N or mps")
        else:
            draft.set("train", key, value, origin)

    # The sweeper: its search space and its settings.

    def _map_search_space(self, draft: Draft) -> None:
        sweeper = self.project.sweeper
        params = {**_mapping(sweeper.get("search_space")), **_mapping(sweeper.get("params"))}
        policy = draft.train.get("policy")
        policy = policy if isinstance(policy, str) else None
        accepted = pol.accepted_hyperparameters(self.algorithm, policy)
        for raw_key, expression in params.items():
            origin = f"hydra.sweeper.params.{raw_key}"
            key = str(raw_key).lstrip("+")
            # The setting a config path names, read as a study file reads it.
            setting = key if key.split(".")[0] in accepted else None
            setting = setting or config_path(self.algorithm, policy, key)
            if str(raw_key).startswith("~") or setting is None:
                draft.leave_out(origin, expression, self._search_hint(key.split(".")))
                continue
            drop_fixed(draft.hyperparameters, setting.split("."))
            draft.set("search_space", setting, expression, origin)

    def _search_hint(self, parts: list[str]) -> str:
        node: Any = self.project.job
        for part in parts:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return (
                "a config group: rltui searches hyperparameters, not configs; convert once per "
                f"choice (override {'.'.join(parts)}=NAME)"
            )
        if setting_of(tuple(parts), None) is not None:
            return "rltui searches hyperparameters; this setting is the same for every trial"
        accepted = pol.accepted_hyperparameters(self.algorithm)
        return _unknown_hint(self.algorithm, parts[-1], accepted)

    def _map_sweeper(self, draft: Draft) -> None:
        sweeper = self.project.sweeper
        n_trials, direction = sweeper.get("n_trials"), sweeper.get("direction")
        n_jobs, sampler = sweeper.get("n_jobs"), sweeper.get("sampler")
        used = {"_target_", "params", "search_space", "study_name", "n_jobs"}
        if _whole(n_trials) and n_trials > 0:
            draft.n_trials = n_trials
            used.add("n_trials")
        elif draft.search_space:
            draft.n_trials = 20
        if not draft.search_space:
            draft.n_trials, draft.pruner = 1, {"type": "none"}  # nothing to search or prune
        if direction in ("minimize", "maximize"):
            draft.direction = direction
            used.add("direction")
        if _whole(n_jobs) and n_jobs > 1:
            draft.workers = n_jobs
        if isinstance(sampler, dict):
            used.add("sampler")
            self._sampler(draft, sampler)
        for key, value in sweeper.items():
            if key in used or value is None:
                continue
            hint = (
                "rltui keeps the study beside the study file; set storage: in the study to "
                "share one"
                if key == "storage"
                else "a setting of Hydra's sweeper that rltui has no counterpart for"
            )
            draft.leave_out(f"hydra.sweeper.{key}", value, hint)

    def _sampler(self, draft: Draft, sampler: dict[str, Any]) -> None:
        kind = _SAMPLERS.get(str(sampler.get("_target_", "")).rpartition(".")[2])
        if kind is None:
            draft.leave_out("hydra.sweeper.sampler", sampler, "not a sampler rltui knows")
            return
        options = {}
        for key, value in sampler.items():
            if key == "_target_" or value is None:
                continue
            if key in SAMPLER_OPTIONS[kind]:
                options[key] = value
            else:
                hint = f"not an option of rltui's {kind} sampler"
                draft.leave_out(f"hydra.sweeper.sampler.{key}", value, hint)
        draft.sampler = {"type": kind, **options}


def _whole(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _algorithm_name(written: str) -> str:
    name = ZOO_ALGORITHMS.get(written.lower(), written.lower())
    if name not in algos.ALGORITHM_ARGS:
        guess = did_you_mean(name, algos.ALGORITHM_ARGS)
        raise ConversionError(
            f"'{written}' is not an algorithm rltui trains",
            f"did you mean '{guess}'?"
            if guess
            else f"use one of {', '.join(algos.algorithm_names())}",
        )
    return name


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unknown_hint(algorithm: str, name: str, accepted: frozenset[str]) -> str:
    display = algos.display_name(algorithm)
    others = [a for a, args in algos.ALGORITHM_ARGS.items() if name in args and a != algorithm]
    # A project's own settings (log_dir, project names) are no misspellings of SB3's: only a
    # name very close to a hyperparameter gets a guess.
    close = difflib.get_close_matches(name, list(accepted), n=1, cutoff=0.85)
    guess = close[0] if close else None
    if others:
        return f"a hyperparameter of {algos.display_name(others[0])}, not of {display}"
    if guess:
        return f"not a hyperparameter of {display}: did you mean '{guess}'?"
    return "no rltui setting takes it"
