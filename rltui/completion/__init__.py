"""Shell completion for ``rltui``: scripts for bash, zsh and fish, written from the parser.

:func:`script` walks the argparse parser that the command itself parses with (commands,
their options, the choices of each, which arguments name a study file), so the completion
says what the command takes today and never needs updating by hand. Plain stdlib: no
completion library, and nothing runs in Python while the shell completes. One module per
shell writes its script from the same :class:`~rltui.completion.model.Command` records.
"""

from __future__ import annotations

import argparse

from rltui.completion.bash import bash_script
from rltui.completion.fish import fish_script
from rltui.completion.model import Command, complete_as, walk
from rltui.completion.zsh import zsh_script

__all__ = ["SHELLS", "complete_as", "script"]

SHELLS = ("bash", "zsh", "fish")


def script(shell: str, parser: argparse.ArgumentParser, default: str | None = None) -> str:
    """The completion script for ``shell`` (one of :data:`SHELLS`). ``default`` names the
    command that runs when the command line names none (``rltui FILE`` is ``rltui ui FILE``):
    its options and first argument complete at the top level too."""
    prog = parser.prog
    top, commands = walk(parser)
    default_command = next((c for c in commands if c.name == default), None)
    if default_command is not None:
        flags = {f for a in top.options for f in a.flags}
        extra = tuple(a for a in default_command.options if not set(a.flags) & flags)
        top = Command("", "", top.options + extra, ())
    writer = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}[shell]
    return writer(prog, top, commands, default_command)
