"""What a study's env needs beyond its id: the optional extras that run it, the wrappers around
it (:mod:`rltui.spec.wrappers`), and a policy that can read what it then observes.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rltui.spec import wrappers as wraps
from rltui.spec.problems import Problem, clip

if TYPE_CHECKING:
    from rltui.spec.model import TrainSpec

# Atari ids: ALE's own namespace, and the ids older Gym and rl-baselines3-zoo use
# (PongNoFrameskip-v4), which ale-py still registers for every game below.
_LEGACY_ATARI = re.compile(r"^([A-Z]\w*?)(?:-ram)?(?:NoFrameskip|Deterministic)?-v\d+$")
ATARI_GAMES = frozenset(
    """Adventure AirRaid Alien Amidar Assault Asterix Asteroids Atlantis Atlantis2 Backgammon
    BankHeist BasicMath BattleZone BeamRider Berzerk Blackjack Bowling Boxing Breakout Carnival
    Casino Centipede ChopperCommand CrazyClimber Crossbow Darkchambers Defender DemonAttack
    DonkeyKong DoubleDunk Earthworld ElevatorAction Enduro Entombed Et FishingDerby FlagCapture
    Freeway Frogger Frostbite Galaxian Gopher Gravitar Hangman HauntedHouse Hero HumanCannonball
    IceHockey Jamesbond JourneyEscape Kaboom Kangaroo KeystoneKapers KingKong Klax Koolaid Krull
    KungFuMaster LaserGates LostLuggage MarioBros MiniatureGolf MontezumaRevenge MrDo MsPacman
    NameThisGame Othello Pacman Phoenix Pitfall Pitfall2 Pong Pooyan PrivateEye Qbert Riverraid
    RoadRunner Robotank Seaquest SirLancelot Skiing Solaris SpaceInvaders SpaceWar StarGunner
    Superman Surround Tennis Tetris TicTacToe3D TimePilot Trondead Turmoil Tutankham UpNDown
    Venture VideoCheckers VideoChess VideoCube VideoPinball WizardOfWor WordZapper YarsRevenge
    Zaxxon""".split()  # noqa: SIM905 (a block of names reads better than a column)
)
# The modules each extra installs, as ``import`` names.
EXTRAS = {"atari": ("ale_py", "cv2"), "mujoco": ("mujoco", "imageio"), "envpool": ("envpool",)}
NATURE_CNN_SIDE = 36  # the smallest image side SB3's CnnPolicy (NatureCNN) can take


@dataclass(frozen=True)
class EnvSetup:
    """What of ``train`` besides the env id shapes the env the agent sees."""

    wrappers: tuple[wraps.WrapperRef, ...] = ()
    policy: str = "MlpPolicy"
    key: str = ""  # the wrappers, for the probe cache

    @classmethod
    def of(cls, train: TrainSpec | None) -> EnvSetup:
        if train is None:
            return cls()
        refs = tuple(wraps.resolve(w.name, w.kwargs) for w in train.env_wrapper)
        key = repr([(r.written, sorted(r.kwargs.items())) for r in refs])
        from rltui.spec.policy import policy_of  # the algorithm's default when none is set

        return cls(refs, policy_of(train), key if refs else "")

    def make_kwargs(self, env_kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``env_kwargs`` with a TimeLimit wrapper's length: it wraps the env itself, under
        the Monitor, so that evaluation counts the episodes it ends."""
        made = dict(env_kwargs)
        for ref in self.wrappers:
            if wraps.is_time_limit(ref):
                made["max_episode_steps"] = ref.kwargs["max_episode_steps"]
        return made


@dataclass(frozen=True)
class Observations:
    """What the wrapped env observes, as far as a policy cares."""

    text: str  # str() of the space, cut short
    kind: str  # the space's class name: Box, Dict, ...
    shape: tuple[int, ...]
    image: bool  # an image as SB3 sees one

    @classmethod
    def of(cls, space: Any) -> Observations:
        shape = tuple(getattr(space, "shape", None) or ())
        kind = type(space).__name__
        dtype = getattr(space, "dtype", None)
        text = f"{kind} observations" + (f" of shape {shape}" if shape else "")
        text += f", {dtype}" if dtype is not None else ""
        return cls(clip(text), kind, shape, is_image(space))


def is_atari(env_id: str) -> bool:
    if env_id.startswith("ALE/"):
        return True
    match = _LEGACY_ATARI.match(env_id)
    return match is not None and match[1] in ATARI_GAMES


def missing(extra: str) -> str | None:
    """The first module of ``extra`` that is not installed, or None. The ALE registers its
    games when imported, and is told to keep its banner off the terminal."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            return module
    if extra == "atari":
        import ale_py

        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    return None


def extra_problem(env_id: str, what: str, extra: str, module: str) -> Problem:
    return Problem(
        ("train", "env"),
        f"{env_id} is {what}, and '{module}', which runs it, is not installed",
        f"install rltui[{extra}] (pip install 'rltui[{extra}]')",
    )


def frame_skip_warnings(env_id: str, setup: EnvSetup, frameskip: int) -> list[Problem]:
    if frameskip <= 1:
        return []
    for index, ref in enumerate(setup.wrappers):
        if (skip := wraps.frames_per_action(ref)) > 1:
            return [
                Problem(
                    ("train", "env_wrapper", index),
                    f"{env_id} repeats each action for {frameskip} frames itself, and "
                    f"{ref.label} for {skip} more: each action lasts {frameskip * skip}",
                    "give the env env_kwargs {frameskip: 1}, or use its NoFrameskip-v4 id",
                    severity="warning",
                )
            ]
    return []


def is_image(space: Any) -> bool:
    """An image as SB3 sees one (``is_image_space``): a uint8 Box of 3 dimensions, 0 to 255."""
    import numpy as np
    from gymnasium import spaces

    return (
        isinstance(space, spaces.Box)
        and len(space.shape) == 3
        and space.dtype == np.uint8
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 255))
    )


def policy_problems(env_id: str, policy: str, seen: Observations) -> list[Problem]:
    """Problems with ``policy`` reading the observations the wrapped env gives."""
    gives = f"{env_id} gives {seen.text}"
    dict_obs = seen.kind == "Dict"
    if dict_obs != policy.startswith("MultiInput"):
        wanted = policy.replace("Mlp", "MultiInput").replace("Cnn", "MultiInput")
        if not dict_obs:
            wanted = policy.replace("MultiInput", "Mlp")
        reads = "Dict observations only" if not dict_obs else "no Dict observations"
        return [Problem(("train", "policy"), f"{policy} reads {reads}; {gives}", f"use {wanted}")]
    if not policy.startswith("Cnn"):
        return []
    if not seen.image:
        return [
            Problem(
                ("train", "policy"),
                f"{policy} reads images; {gives}",
                f"use {policy.replace('Cnn', 'Mlp')}, or wrap the env so that it gives images "
                "(uint8, 0 to 255, height x width x channels), as AtariWrapper does",
            )
        ]
    shape = seen.shape
    sides = shape[1:] if shape[0] == min(shape) else shape[:2]  # channels first, or last
    if min(sides) < NATURE_CNN_SIDE:
        return [
            Problem(
                ("train", "policy"),
                f"{policy}'s network needs images of at least {NATURE_CNN_SIDE}x"
                f"{NATURE_CNN_SIDE}; {gives}",
                "resize them, e.g. with env_wrapper: [{ResizeObservation: {shape: [84, 84]}}]",
            )
        ]
    return []


def envpool_problem(env_id: str) -> Problem | None:
    """What stops ``vec_env: envpool`` from training ``env_id``, as far as can be told without
    importing EnvPool (a second's import; which ids it has, a trial checks as it starts)."""
    if is_atari(env_id.rpartition(":")[2]):
        return Problem(
            ("train", "vec_env"),
            f"{env_id} is an Atari game, which EnvPool preprocesses its own way (frame skip, "
            "84x84 grey frames, stacking), unlike the ALE env this study evaluates on",
            "use vec_env: dummy or subproc for Atari games",
        )
    if ":" in env_id:
        return Problem(
            ("train", "vec_env"),
            f"vec_env: envpool runs EnvPool's own envs, not a module's ('{env_id}')",
            "use vec_env: dummy or subproc",
        )
    if (module := missing("envpool")) is not None:
        return Problem(
            ("train", "vec_env"),
            f"vec_env: envpool needs '{module}', which is not installed",
            "install rltui[envpool] (pip install 'rltui[envpool]'), or use vec_env: dummy",
        )
    return None
