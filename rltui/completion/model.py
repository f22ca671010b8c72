"""What a completion script needs to know of the parser: its commands and their arguments."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Kind = Literal["study", "file", "folder"]
"""What an argument names: a study file (``*.yaml``, ``*.yml``), any file, or a folder."""

_KIND = "rltui_completion"  # the attribute complete_as() sets on an argparse action


def complete_as(action: argparse.Action, kind: Kind) -> argparse.Action:
    """Mark ``action`` (what ``add_argument`` returned) as naming a ``kind`` of path."""
    setattr(action, _KIND, kind)
    return action


@dataclass(frozen=True)
class Argument:
    """One option or positional argument, as a completion needs it."""

    flags: tuple[str, ...]  # empty for a positional
    name: str
    help: str
    takes_value: bool
    repeats: bool  # a positional taking any number of words
    choices: tuple[str, ...]
    kind: Kind | None  # None: free text (a number, a name), or no value at all


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Argument, ...]
    positionals: tuple[Argument, ...]


def _command(name: str, help_: str, arguments: list[Argument]) -> Command:
    return Command(
        name,
        help_,
        tuple(a for a in arguments if a.flags),
        tuple(a for a in arguments if not a.flags),
    )


def walk(parser: argparse.ArgumentParser) -> tuple[Command, list[Command]]:
    """The top level (its options and the default command's) and each subcommand, in the
    parser's order; options and commands hidden from ``--help`` are left out."""
    top: list[Argument] = []
    commands: list[Command] = []
    # argparse keeps its arguments in ``_actions`` and the subcommands' help in
    # ``_choices_actions``: private names, but the ones every completion tool reads.
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                arguments = [_argument(a) for a in sub._actions if a.help != argparse.SUPPRESS]
                commands.append(_command(name, _short(helps.get(name, "")), arguments))
        elif action.help != argparse.SUPPRESS:
            top.append(_argument(action))
    return _command("", "", top), commands


def _argument(action: argparse.Action) -> Argument:
    kind = getattr(action, _KIND, None)
    if kind is None and action.type is Path:
        kind = "file"
    return Argument(
        flags=tuple(action.option_strings),
        name=str(action.metavar or action.dest).replace("_", " "),
        help=_short(action.help or ""),
        takes_value=action.nargs != 0,
        repeats=action.nargs in ("*", "+", argparse.REMAINDER),
        choices=tuple(str(c) for c in action.choices or ()),
        kind=kind,
    )


def _short(text: str) -> str:
    """A help text as a one-line description: its first clause, without a parenthesis."""
    text = " ".join(text.split())
    return text.split(" (", 1)[0].split("; ", 1)[0]
