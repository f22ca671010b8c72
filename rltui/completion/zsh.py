"""The completion script for zsh: an ``_arguments`` spec per command, for ``compinit``."""

from __future__ import annotations

from rltui.completion.model import Argument, Command

_ZSH = """\
#compdef @PROG@
# zsh completion for @PROG@, written by `@PROG@ completion zsh`.
# Load it now: source <(@PROG@ completion zsh); for good, write it as _PROG into a folder
# of your $fpath before compinit runs.

@FUNC@() {
    local curcontext=$curcontext state state_descr line ret=1
    typeset -A opt_args
@TOP@
    case $state in
        command)
            local -a commands=(@DESCRIBED@)
            _describe -t commands '@PROG@ command' commands && ret=0
            @DEFAULT_FILE@
            ;;
        args)
            curcontext=${curcontext%:*:*}:@PROG@-$words[1]:
            case $words[1] in
@CASES@
            esac
            ;;
    esac
    return ret
}

if [[ $zsh_eval_context[-1] == loadautoload ]]; then
    @FUNC@ "$@"
else
    compdef @FUNC@ @PROG@
fi
"""


def zsh_script(prog: str, top: Command, commands: list[Command], default: Command | None) -> str:
    cases = []
    for command in commands:
        cases += [
            f"                {command.name})",
            _zsh_arguments(command),
            "                    ;;",
        ]
    if default is not None:  # `rltui FILE ...`: the default command, its file given
        rest = Command("", "", default.options, ())
        cases += ["                *)", _zsh_arguments(rest), "                    ;;"]
    first = default.positionals[0] if default is not None and default.positionals else None
    text = _ZSH.replace("@TOP@", _zsh_arguments(top, ["'1: :->command'", "'*:: :->args'"], 4))
    text = text.replace("@DESCRIBED@", " ".join(_quote(f"{c.name}:{c.help}") for c in commands))
    text = text.replace("@DEFAULT_FILE@", f"{_zsh_action(first)} && ret=0" if first else "")
    text = text.replace("@CASES@", "\n".join(cases))
    return text.replace("@FUNC@", "_" + prog.replace("-", "_")).replace("@PROG@", prog)


def _zsh_arguments(command: Command, more: list[str] | None = None, indent: int = 20) -> str:
    specs = _zsh_options(command) + (more or [])
    for index, positional in enumerate(command.positionals, start=1):
        where = "*" if positional.repeats else str(index)
        specs.append(_quote(f"{where}:{positional.name}:{_zsh_action(positional)}"))
    pad = " " * indent
    if not specs:
        return f"{pad}_message 'no arguments'"
    lines = [f"{pad}_arguments -C -s \\", *(f"{pad}    {s} \\" for s in specs[:-1])]
    return "\n".join([*lines, f"{pad}    {specs[-1]} && ret=0"])


def _zsh_options(command: Command) -> list[str]:
    specs = []
    for option in command.options:
        # -h/--help and --version end the command line: nothing else after them.
        final = not option.takes_value and option.flags[-1] in ("--help", "--version")
        stop = "(- *)" if final else ""
        for flag in option.flags:
            value = f":{option.name}:{_zsh_action(option)}" if option.takes_value else ""
            equals = "=" if option.takes_value and flag.startswith("--") else ""
            specs.append(_quote(f"{stop}{flag}{equals}[{_zsh_escape(option.help)}]{value}"))
    return specs


def _zsh_action(argument: Argument) -> str:
    if argument.choices:
        return "(" + " ".join(argument.choices) + ")"
    return {
        "study": "_files -g '*.(yaml|yml)'",
        "folder": "_files -/",
        "file": "_files",
        None: " ",  # free text: the message alone
    }[argument.kind]


def _zsh_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:")


def _quote(text: str) -> str:
    """``text`` in single quotes for bash, zsh or fish-free shells (POSIX quoting)."""
    return "'" + text.replace("'", "'\\''") + "'"
