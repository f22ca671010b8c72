"""The completion script for fish: one ``complete`` line per option and argument."""

from __future__ import annotations

from rltui.completion.model import Argument, Command


def fish_script(prog: str, top: Command, commands: list[Command], default: Command | None) -> str:
    names = " ".join(c.name for c in commands)
    func = f"__{prog.replace('-', '_')}_study_files"
    out = [
        f"# fish completion for {prog}, written by `{prog} completion fish`.",
        f"# Load it for good: {prog} completion fish > ~/.config/fish/completions/{prog}.fish",
        "",
        f"function {func}",
        "    # Study files and folders (fish's __fish_complete_suffix lists every file too).",
        "    for name in (commandline -ct)*",
        "        if test -d $name",
        "            echo $name/",
        "        else if string match -qr '\\.ya?ml$' -- $name",
        "            echo $name",
        "        end",
        "    end",
        "end",
        "",
        f"complete -c {prog} -f",
    ]
    at_top = f"not __fish_seen_subcommand_from {names}"
    for command in commands:
        help_ = _fish_quote(command.help)
        out.append(f"complete -c {prog} -n {_fish_quote(at_top)} -a {command.name} -d {help_}")
    out += _fish_command(prog, func, at_top, top)
    if default is not None and default.positionals:
        out += _fish_positionals(prog, func, at_top, default.positionals)
    for command in commands:
        seen = f"__fish_seen_subcommand_from {command.name}"
        out += _fish_command(prog, func, seen, command)
        out += _fish_positionals(prog, func, seen, command.positionals)
    return "\n".join(out) + "\n"


def _fish_command(prog: str, func: str, condition: str, command: Command) -> list[str]:
    out = []
    for option in command.options:
        flags = " ".join(
            f"-s {f[1:]}" if not f.startswith("--") else f"-l {f[2:]}" for f in option.flags
        )
        value = ""
        if option.takes_value:
            value = " -x" + _fish_values(func, option)
        help_ = f" -d {_fish_quote(option.help)}" if option.help else ""
        out.append(f"complete -c {prog} -n {_fish_quote(condition)} {flags}{value}{help_}")
    return out


def _fish_positionals(
    prog: str, func: str, condition: str, positionals: tuple[Argument, ...]
) -> list[str]:
    out = []
    for positional in positionals:
        values = _fish_values(func, positional)
        if not values:
            continue
        when = condition
        if positional.choices:  # offered until one of them is given
            when += f"; and not __fish_seen_subcommand_from {' '.join(positional.choices)}"
        out.append(f"complete -c {prog} -n {_fish_quote(when)}{values}")
    return out


def _fish_values(func: str, argument: Argument) -> str:
    if argument.choices:
        return f" -a {_fish_quote(' '.join(argument.choices))}"
    return {
        "study": f" -a '({func})'",
        "folder": " -a '(__fish_complete_directories)'",
        "file": " -a '(__fish_complete_path)'",
        None: "",
    }[argument.kind]


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
