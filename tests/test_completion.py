"""``rltui completion bash|zsh|fish``: scripts written from the parser, run by real shells."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from rltui.cli import COMMANDS, build_parser, main
from rltui.completion import complete_as, script
from rltui.completion.model import walk
from rltui.export import FORMATS as EXPORT_FORMATS


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with study files, another file and a subfolder, to complete in."""
    for name in ("tiny.yaml", "other.yml", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "studies").mkdir()
    return tmp_path


def _bash(text: str, line: str, cwd: Path) -> list[str]:
    """What bash completes at the end of ``line`` (its words split at each space, the last
    one the word under the cursor), by calling the function the script registered for
    ``rltui``, as readline does on TAB."""
    words = line.split(" ")
    program = (
        'source "$1"; shift\n'
        # The function `complete` registered for rltui, whatever its name.
        'func=$(complete -p rltui | sed -n "s/.*-F \\([^ ]*\\) .*/\\1/p")\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
        'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
        '"$func" rltui "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    path = cwd.parent / f"{cwd.name}.bash"  # not in the folder whose files complete
    path.write_text(text)
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program, "bash", str(path), *words],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    path.unlink()
    return sorted(line for line in done.stdout.splitlines() if line)


def test_the_bash_script_is_valid_bash(capsys, tmp_path):
    path = tmp_path / "rltui.bash"
    path.write_text(_script("bash", capsys))
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rltui ct", ["ctl"]),
        ("rltui ctl pa", ["pause", "pause-all"]),
        ("rltui ctl --json re", ["resume", "resume-all"]),
        ("rltui ctl pause ", []),  # trial numbers: nothing to offer
        ("rltui export --format ", sorted(EXPORT_FORMATS)),
        ("rltui completion ", ["bash", "fish", "zsh"]),
        ("rltui run --w", ["--workers", "--workers-per-gpu"]),
        ("rltui validate --", ["--help", "--json"]),
    ],
)
def test_bash_completes_commands_actions_and_choices(line, expected, capsys, folder):
    assert _bash(_script("bash", capsys), line, folder) == expected


@pytest.mark.parametrize(
    "line",
    [
        "rltui ",  # the default command takes a study file
        "rltui run ",
        "rltui run --workers 2 ",
        "rltui validate ",
        "rltui ctl pause --study-file ",
        "rltui --storage x.journal --study s ",
    ],
)
def test_bash_offers_only_study_files_and_folders_for_a_study_file(line, capsys, folder):
    offered = _bash(_script("bash", capsys), line, folder)
    files = [word for word in offered if word not in COMMANDS]
    assert files == ["other.yml", "studies", "tiny.yaml"]


def test_bash_offers_folders_for_an_output_folder_and_any_file_for_a_storage(capsys, folder):
    text = _script("bash", capsys)
    assert _bash(text, "rltui export --out ", folder) == ["studies"]
    storage = _bash(text, "rltui run --storage ", folder)
    assert storage == ["notes.txt", "other.yml", "studies", "tiny.yaml"]


def test_hidden_options_are_not_offered(capsys, folder):
    offered = _bash(_script("bash", capsys), "rltui worker --", folder)
    assert offered == ["--device", "--help", "--max-trials", "--storage", "--study"]


def test_the_script_follows_the_parser():
    # A command added to a parser completes with no change to the completion code.
    parser = argparse.ArgumentParser(prog="tool")
    sub = parser.add_subparsers(dest="command")
    zoo = sub.add_parser("import", help="read a zoo file (hyperparams/ppo.yml)")
    complete_as(zoo.add_argument("source", type=Path), "study")
    zoo.add_argument("--algo", choices=("ppo", "sac"))
    _top, commands = walk(parser)
    assert [c.name for c in commands] == ["import"]
    assert commands[0].help == "read a zoo file"
    [source] = commands[0].positionals
    assert source.kind == "study"
    text = script("bash", parser)
    assert "complete -F _tool tool" in text and "import)" in text and "ppo sac" in text
    # And rltui's own parser: every command it parses is in each script.
    for shell in ("bash", "zsh", "fish"):
        text = script(shell, build_parser(), default="ui")
        assert all(command in text for command in COMMANDS)


def test_every_command_has_a_handler():
    _top, commands = walk(build_parser())
    assert [c.name for c in commands] == list(COMMANDS)


@pytest.mark.skipif(shutil.which("zsh") is None, reason="needs zsh")
def test_the_zsh_script_is_valid_and_registers_itself(capsys, tmp_path):
    path = tmp_path / "_rltui"
    path.write_text(_script("zsh", capsys))
    assert subprocess.run(["zsh", "-n", str(path)], capture_output=True).returncode == 0
    program = f"autoload -U compinit; compinit -u -D; source {path}; print $_comps[rltui]"
    done = subprocess.run(
        ["zsh", "-fc", program],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.stdout.strip() == "_rltui", done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="needs fish")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rltui ct", ["ctl"]),
        ("rltui ctl pa", ["pause", "pause-all"]),
        ("rltui run ", ["other.yml", "studies/", "tiny.yaml"]),
        ("rltui completion ", ["bash", "fish", "zsh"]),
    ],
)
def test_fish_completes_as_bash_does(line, expected, capsys, folder):
    path = folder.parent / f"{folder.name}.fish"  # not in the folder whose files complete
    path.write_text(_script("fish", capsys))
    assert subprocess.run(["fish", "-n", str(path)], capture_output=True).returncode == 0
    done = subprocess.run(
        ["fish", "--no-config", "-c", f"source {path}; complete -C '{line}'"],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(line.split("\t")[0] for line in done.stdout.splitlines()) == expected
