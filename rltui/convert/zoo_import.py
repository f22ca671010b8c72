"""An rl-baselines3-zoo hyperparams entry as an rltui study file: one trial of the zoo's
preset, ready to run (``rltui run``), to search around, or to compare with the zoo.

The entry is found as the zoo finds it: the env id's own key, else ``atari`` for an Atari game,
else ``default``. The zoo's keys map to rltui's: ``n_timesteps`` is the trial's budget,
``n_envs``, ``policy``, ``normalize``, ``env_wrapper``, ``frame_stack`` and ``env_kwargs`` set
up the env, ``noise_type``/``noise_std`` are rltui's ``action_noise``/``action_noise_sigma``,
and the algorithm's arguments and policy options (``lin_X`` schedules and ``policy_kwargs``
strings included) are the study's fixed hyperparameters. Every other key is listed with why.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from rltui.convert import Conversion, ConversionError
from rltui.convert.study_text import (
    Draft,
    default_eval,
    finish,
    normalize_gamma_note,
    study_name,
)
from rltui.convert.zoo_yaml import read_hyperparams
from rltui.spec import algorithms as algos
from rltui.spec import limits
from rltui.spec import policy as pol
from rltui.spec.env_setup import is_atari
from rltui.spec.problems import did_you_mean, show_value
from rltui.spec.zoo import LiteralError, parse_zoo

# The zoo's algorithm names (its --algo and hyperparams file names) that rltui spells otherwise.
ZOO_ALGORITHMS = {"ppo_lstm": "recurrentppo"}
RLTUI_TO_ZOO = {rltui: zoo for zoo, rltui in ZOO_ALGORITHMS.items()}
_NOISES = {"normal": "normal", "ornstein-uhlenbeck": "ornstein_uhlenbeck"}
_CALLBACK_HINT = (
    "rltui trains with its own evaluation and control callback; a callback of your own needs "
    "train.function (a training function of yours)"
)
# Keys of the zoo's that set up what rltui does its own way, and what to do instead.
ZOO_ONLY = {
    "callback": _CALLBACK_HINT,
    "vec_env_wrapper": (
        "rltui sets up VecNormalize (train.normalize) and VecFrameStack (train.frame_stack) "
        "itself; another vec-env wrapper needs train.function"
    ),
    "monitor_kwargs": "rltui sets up the Monitor that evaluation counts; it takes no keywords",
    "replay_buffer_class": "rltui trains with the algorithm's own replay buffer",
    "replay_buffer_kwargs": "rltui trains with the algorithm's own replay buffer",
}


def import_zoo(
    hyperparams_file: Path,
    env_id: str,
    algorithm: str | None = None,
    *,
    vec_env: str | None = None,
    study_path: Path | None = None,
    check_env: bool = True,
) -> Conversion:
    """The study file for ``env_id``'s entry of a zoo hyperparams file (``rl_zoo3/hyperparams/
    ppo.yml``). ``algorithm`` is the zoo's name (``ppo``, ``ppo_lstm``); by default the file's
    name. ``vec_env`` is what the zoo's ``--vec-env`` flag would say (``dummy``, ``subproc``):
    the zoo takes it on its command line, not from the file. ``study_path`` is where the study
    will be written (a wrapper class of the user's is imported from beside it when checked).
    Raises :class:`ConversionError` for a file that is
    not a zoo hyperparams file, or has no entry for ``env_id``."""
    path = Path(hyperparams_file)
    zoo_name = (algorithm or path.stem).strip().lower()
    name = ZOO_ALGORITHMS.get(zoo_name, zoo_name)
    if name not in algos.ALGORITHM_ARGS:
        raise _not_an_algorithm(zoo_name, algorithm is None, path)
    document = read_hyperparams(path)
    key, note = _entry_key(list(document.entries), env_id, path)
    entry = document.entry(key)
    if not isinstance(entry, dict):
        raise ConversionError(
            f"{path}: the entry '{key}' is not a mapping of settings",
            "write it as n_timesteps: ..., policy: ..., one per line",
        )
    draft = _draft(entry, name, env_id, key, path)
    if vec_env is not None:
        draft.set("train", "vec_env", vec_env, "--vec-env")
    if note:
        draft.notes.append(note)
    filename = str(study_path) if study_path else str(path.parent / f"{draft.name}.yaml")
    return finish(draft, filename=filename, check_env=check_env)


def _not_an_algorithm(zoo_name: str, from_file: bool, path: Path) -> ConversionError:
    known = sorted({RLTUI_TO_ZOO.get(a, a) for a in algos.ALGORITHM_ARGS})
    if zoo_name == "her":
        return ConversionError(
            "HER's entries need its replay buffer (HerReplayBuffer), which rltui does not set up",
            "rltui trains the algorithms of " + ", ".join(known),
        )
    where = f"the file name {path.name} does not name" if from_file else f"'{zoo_name}' is not"
    guess = did_you_mean(zoo_name, known)
    return ConversionError(
        f"{where} an algorithm rltui trains",
        (f"did you mean '{guess}'? " if guess else "")
        + f"give the zoo's algorithm name ({', '.join(known)})",
    )


def _entry_key(keys: list[str], env_id: str, path: Path) -> tuple[str, str | None]:
    """The entry the zoo would use for ``env_id``, and a note when it is not the env's own."""
    if env_id in keys:
        return env_id, None
    if is_atari(env_id) and "atari" in keys:
        return "atari", f"{env_id} is an Atari game: the file's 'atari' entry, as the zoo does."
    if "default" in keys:
        return (
            "default",
            f"The file has no entry for {env_id}: its 'default' entry, as the zoo does.",
        )
    if {"name", "train"} <= set(keys):
        raise ConversionError(
            f"{path} is an rltui study file, not a zoo hyperparams file",
            f"run it as it is: rltui run {path}",
        )
    guess = did_you_mean(env_id, keys)
    listed = ", ".join(keys[:8]) + (", ..." if len(keys) > 8 else "")
    raise ConversionError(
        f"{path} has no entry for {env_id} (and no 'atari' or 'default' entry)",
        f"did you mean {guess}?" if guess else f"its entries: {listed or 'none'}",
    )


def _draft(entry: dict[Any, Any], algorithm: str, env_id: str, key: str, path: Path) -> Draft:
    timesteps = _timesteps(entry.get("n_timesteps"), key, path)
    display = algos.display_name(algorithm)
    draft = Draft(
        name=study_name(env_id, algorithm),
        algorithm=algorithm,
        env=env_id,
        timesteps=timesteps,
        source=f"Converted from rl-baselines3-zoo's {path.name}, entry {key}.",
        description=f"{display} on {env_id} with rl-baselines3-zoo's hyperparameters.",
        pruner={"type": "none"},  # one trial: nothing to prune against
    )
    # The zoo evaluates Atari games stochastically: a deterministic agent can stall in a game.
    atari = is_atari(env_id)
    draft.train["eval"] = default_eval(timesteps, deterministic=not atari)
    draft.train["objective"] = {"type": "mean_last", "k": 3}
    draft.train["seed"] = 0
    policy = entry.get("policy") if isinstance(entry.get("policy"), str) else None
    accepted = pol.accepted_hyperparameters(algorithm, policy)
    for raw_key, value in entry.items():
        name = str(raw_key)
        if name == "n_timesteps":
            continue
        if name in ("n_envs", "policy", "env_wrapper", "frame_stack", "env_kwargs"):
            draft.set("train", name, value, name)
        elif name == "normalize":
            _normalize(draft, value)
        elif name in ("noise_type", "noise_std"):
            _noise(draft, name, value)
        elif name == "policy_kwargs":
            _policy_kwargs(draft, algorithm, policy, value)
        elif name in ZOO_ONLY:
            draft.leave_out(name, value, ZOO_ONLY[name])
        elif name in accepted:
            draft.set("hyperparameters", name, value, name)
        else:
            draft.leave_out(name, value, _unknown_hint(algorithm, name, accepted))
    normalize = draft.train.get("normalize")
    rewards = normalize is True or (isinstance(normalize, dict) and normalize.get("reward"))
    note = normalize_gamma_note(bool(rewards), draft.hyperparameters.get("gamma"))
    if note:
        draft.notes.append(note)
    return draft


def _timesteps(value: Any, key: str, path: Path) -> int:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None or not 1 <= number < float("inf"):
        given = "" if value is None else f" (it gives {show_value(value)})"
        raise ConversionError(
            f"{path}: the entry '{key}' has no number of timesteps in n_timesteps{given}",
            "set n_timesteps: !!float 1e5 (the training budget) in the entry",
        )
    return int(number)


def _normalize(draft: Draft, value: Any) -> None:
    """``normalize: true``, or the zoo's ``"dict(norm_obs=True, norm_reward=False)"`` (a string
    or a mapping) as ``{obs, reward}``; VecNormalize's other keywords are left out."""
    if isinstance(value, bool):
        draft.set("train", "normalize", value, "normalize")
        return
    if isinstance(value, str):
        try:
            value = _python_dict(value) if value.lstrip().startswith("{") else parse_zoo(value)
        except LiteralError as exc:
            draft.leave_out("normalize", value, f"cannot be read: {exc.message}")
            return
    if not isinstance(value, dict):
        draft.leave_out("normalize", value, "normalize is true, false or dict(norm_obs=...)")
        return
    obs, reward = value.get("norm_obs", True), value.get("norm_reward", True)
    draft.set("train", "normalize", {"obs": obs, "reward": reward}, "normalize")
    for name, inner in value.items():
        if name not in ("norm_obs", "norm_reward"):
            draft.leave_out(
                f"normalize.{name}",
                inner,
                "rltui's VecNormalize takes norm_obs and norm_reward (train.normalize: "
                "{obs, reward}); its other keywords keep SB3's defaults",
            )


def _python_dict(text: str) -> dict[str, Any]:
    """A Python dict of plain values, ``"{'norm_obs': False, 'norm_reward': True}"`` (which the
    zoo ``eval``s), read from its syntax tree; raises :class:`LiteralError`."""
    if len(text) > limits.MAX_LITERAL_CHARS:
        raise LiteralError(f"the string is longer than {limits.MAX_LITERAL_CHARS:,} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise LiteralError("it is not a {'key': value} mapping") from None
    plain = (bool, int, float, str, type(None))
    if not isinstance(tree, ast.Dict) or not all(
        isinstance(node, ast.Constant) and isinstance(node.value, plain)
        for node in (*tree.keys, *tree.values)
    ):
        raise LiteralError("only {'key': value} with plain values is read (it is never run)")
    return {
        str(getattr(key, "value", "")): getattr(value, "value", None)
        for key, value in zip(tree.keys, tree.values, strict=True)
    }


def _noise(draft: Draft, name: str, value: Any) -> None:
    if "action_noise" not in algos.EXTRA_ARGS[draft.algorithm]:
        draft.leave_out(
            name, value, f"{algos.display_name(draft.algorithm)} takes no action noise in rltui"
        )
    elif name == "noise_std":
        draft.set("hyperparameters", "action_noise_sigma", value, name)
    elif isinstance(value, str) and value.strip() in _NOISES:
        draft.set("hyperparameters", "action_noise", _NOISES[value.strip()], name)
    else:
        draft.leave_out(name, value, "rltui's action_noise is normal or ornstein_uhlenbeck")


def _policy_kwargs(draft: Draft, algorithm: str, policy: str | None, value: Any) -> None:
    """The zoo's ``policy_kwargs`` string, kept as written when rltui reads all of it; else a
    mapping of what it reads, the options the policy does not take left out one by one."""
    kwargs = value
    if isinstance(value, str):
        try:
            kwargs = parse_zoo(value)
        except LiteralError as exc:
            draft.leave_out("policy_kwargs", value, f"cannot be read: {exc.message}")
            return
    if not isinstance(kwargs, dict):
        draft.leave_out("policy_kwargs", value, 'policy_kwargs is "dict(...)" or a mapping')
        return
    options = pol.policy_args(algorithm, policy)
    kept = {k: v for k, v in kwargs.items() if k in options}
    for name in kwargs.keys() - kept.keys():
        draft.leave_out(
            f"policy_kwargs.{name}",
            kwargs[name],
            _unknown_hint(algorithm, name, options, what="policy option"),
        )
    arch = kept.get("net_arch")
    old_form = False
    if isinstance(arch, list) and len(arch) == 1 and isinstance(arch[0], dict):
        kept["net_arch"] = arch[0]  # SB3 < 1.8's [dict(pi=..., vf=...)]: the mapping it meant
        old_form = True
    if kept and (old_form or kept != kwargs or not isinstance(value, str)):
        draft.set("hyperparameters", "policy_kwargs", kept, "policy_kwargs")
    elif kept:
        draft.set("hyperparameters", "policy_kwargs", value, "policy_kwargs")


def _unknown_hint(
    algorithm: str, name: str, accepted: frozenset[str], what: str = "argument"
) -> str:
    display = algos.display_name(algorithm)
    guess = did_you_mean(name, accepted)
    others = [a for a, args in algos.ALGORITHM_ARGS.items() if name in args and a != algorithm]
    if others:
        return f"an argument of {algos.display_name(others[0])}, not of {display}"
    if guess:
        return f"not an {what} of {display} in rltui: did you mean '{guess}'?"
    return f"not an {what} of {display} that a study sets"
