"""The completion script for bash: a function that reads ``COMP_WORDS`` and fills ``COMPREPLY``."""

from __future__ import annotations

from rltui.completion.model import Argument, Command

_BASH = """\
# bash completion for @PROG@, written by `@PROG@ completion bash`.
# Load it now: eval "$(@PROG@ completion bash)"; for good, add that line to ~/.bashrc.

@FUNC@_paths() {
    # $1: study (*.yaml, *.yml and folders), folder, or file; $2: the word so far
    local name
    compopt -o filenames 2>/dev/null  # (outside a completion it fails: a test, say)
    while IFS= read -r name; do
        case $1 in
            study) [[ -d $name || $name == *.yaml || $name == *.yml ]] || continue ;;
            folder) [[ -d $name ]] || continue ;;
        esac
        COMPREPLY+=("$name")
    done < <(compgen -f -- "$2")
}

@FUNC@() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd="" start=1 i n
    COMPREPLY=()
    # bash splits --option=value at the '='
    if [[ $cur == "=" ]]; then cur=""; fi
    if [[ $prev == "=" ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            @COMMANDS@) cmd=${COMP_WORDS[i]}; start=$((i + 1)); break ;;
            @TOPVALUED@) cmd=@DEFAULT@; start=$i; break ;;  # the default command's options
            -*) ;;
            *) cmd=@DEFAULT@; start=$i; break ;;
        esac
    done
    case $cmd in
@CASES@
    esac
}

complete -F @FUNC@ @PROG@
"""


def bash_script(prog: str, top: Command, commands: list[Command], default: Command | None) -> str:
    func = "_" + prog.replace("-", "_")
    names = [c.name for c in commands]
    cases = ['        "")', *_bash_command(func, top, names, default), "            ;;"]
    for command in commands:
        cases += [
            f"        {command.name})",
            *_bash_command(func, command, [], None),
            "            ;;",
        ]
    text = _BASH.replace("@COMMANDS@", "|".join(names)).replace("@CASES@", "\n".join(cases))
    valued = "|".join(f for a in top.options if a.takes_value for f in a.flags)
    if not valued:  # no option to take a value at the top level: no such case
        text = "\n".join(line for line in text.split("\n") if "@TOPVALUED@" not in line)
    text = text.replace("@TOPVALUED@", valued)
    text = text.replace("@DEFAULT@", default.name if default else '""')
    return text.replace("@FUNC@", func).replace("@PROG@", prog)


def _bash_command(
    func: str, command: Command, names: list[str], default: Command | None
) -> list[str]:
    # The value of the option just before the cursor; options that complete alike share a case.
    values: dict[str, list[str]] = {}
    for option in command.options:
        if option.takes_value:
            values.setdefault(_bash_value(func, option), []).extend(option.flags)
    out = ["            case $prev in"] if values else []
    out += [
        f"                {'|'.join(flags)}) {value}; return ;;" for value, flags in values.items()
    ]
    out += ["            esac"] if values else []
    flags = " ".join(f for a in command.options for f in a.flags)
    out += [
        "            if [[ $cur == -* ]]; then",
        f'                COMPREPLY=($(compgen -W "{flags}" -- "$cur")); return',
        "            fi",
    ]
    if names:  # the top level: a command, or what the default command takes first
        out.append(f'            COMPREPLY=($(compgen -W "{" ".join(names)}" -- "$cur"))')
        if default is not None and default.positionals:
            out.append(f"            {_bash_value(func, default.positionals[0])}")
        return out
    if not command.positionals:
        return out
    # Which positional the cursor is on: the words so far, less options and their values.
    valued = "|".join(f for a in command.options if a.takes_value for f in a.flags)
    skip = '[[ ${COMP_WORDS[i+1]} == "=" ]] && ((i++)); ((i++))'  # the value, and any '='
    out += [
        "            n=0",
        "            for ((i = start; i < COMP_CWORD; i++)); do",
        "                case ${COMP_WORDS[i]} in",
        *([f"                    {valued}) {skip} ;;"] if valued else []),
        "                    -*) ;;",
        "                    *) ((n++)) ;;",
        "                esac",
        "            done",
        "            case $n in",
    ]
    last = len(command.positionals) - 1
    for index, positional in enumerate(command.positionals):
        where = "*" if index == last and positional.repeats else str(index)
        out.append(f"                {where}) {_bash_value(func, positional)} ;;")
    return [*out, "            esac"]


def _bash_value(func: str, argument: Argument) -> str:
    if argument.choices:
        return f'COMPREPLY=($(compgen -W "{" ".join(argument.choices)}" -- "$cur"))'
    if argument.kind is not None:
        return f'{func}_paths {argument.kind} "$cur"'
    return ":"  # free text: nothing to offer
