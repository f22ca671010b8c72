"""The help lists every key, as users type them, and the README's key table lists the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.dom import DOMNode

from rltui.ui.screens.help import EXTRA_KEYS, HelpScreen, key_label, key_rows

README = Path(__file__).resolve().parents[2] / "README.md"
SIZE = (120, 40)


def test_keys_read_as_typed_and_one_action_shares_a_row() -> None:
    main = [
        Binding("1,alt+1", "show_tab('trials')", "Trials", show=False, id="view.trials"),
        Binding("f1,question_mark", "help", "Help", key_display="F1", id="app.help"),
        Binding("ctrl+s", "save", "Save", tooltip="Save the study file", id="editor.save"),
        Binding("slash", "filter", "Filter", id="table.filter"),
        Binding("y", "hidden", ""),  # no description: not a key users are told about
    ]
    editor = [
        # The same binding id again: the same action, even where its words differ.
        Binding("ctrl+s", "app.save", "Save & apply", id="editor.save"),
        Binding("escape", "leave", "Leave the editor", id="editor.leave"),
    ]
    workers = [Binding("enter", "select", "Worker", tooltip="The worker's record", id="w.detail")]
    extras = [("escape", "Close a dialog", "anywhere"), ("alt+1", "Trials", "main")]
    rows = key_rows([("main", main), ("editor", editor), ("workers", workers)], extras)
    shown = [(row.shown_keys, row.action, ", ".join(row.where)) for row in rows]
    assert shown == [
        ("1 / alt+1", "Trials", "main"),
        ("F1 / ?", "Help", "main"),
        ("ctrl+s", "Save the study file", "main, editor"),
        ("/", "Filter", "main"),
        ("esc", "Leave the editor", "editor"),
        ("enter", "The worker's record", "workers"),
        ("esc", "Close a dialog", "anywhere"),
    ]


def test_key_labels() -> None:
    typed = ["question_mark", "slash", "space", "escape", "f12", "enter", "S", "alt+0", "ctrl+b"]
    shown = ["?", "/", "space", "esc", "F12", "enter", "S", "alt+0", "ctrl+b"]
    assert [key_label(k) for k in typed] == shown


def bound_keys(node: DOMNode) -> set[str]:
    """The described keys of the bindings that rltui's own classes declare for ``node``."""
    keys: set[str] = set()
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("rltui."):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                keys.update(key_label(key) for key in binding.key.split(","))
    return keys


async def open_help(wait, pilot, app) -> HelpScreen:
    await wait(pilot, lambda: app.main_screen is not None and app.main_screen.snapshot is not None)
    await pilot.press("f1")
    await wait(pilot, lambda: isinstance(app.screen, HelpScreen))
    assert isinstance(app.screen, HelpScreen)
    return app.screen


@pytest.mark.slow
async def test_help_lists_every_key_of_the_main_window(make_app, wait) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        main = app.main_screen
        help_screen = await open_help(wait, pilot, app)
        bound = set().union(*(bound_keys(node) for node in [main, *main.query("*")]))
        listed = help_screen.keys
    assert bound - listed == set(), "keys the help does not list"
    assert {"ctrl+p", "enter", "tab", "shift+tab", "esc"} <= listed
    assert {key_label(key) for keys, _, _ in EXTRA_KEYS for key in keys.split(",")} <= listed


def readme_keys(text: str) -> set[str]:
    """The keys in backticks in the first column of the '| key | action |' table under
    '## The terminal UI' (``p`` ``r``, ``w`` / ``W``, ``1 / alt+1``)."""
    section = text.split("\n## The terminal UI", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if re.fullmatch(r"\|\s*key\s*\|\s*action\s*\|", line.strip())
    )
    keys: set[str] = set()
    for line in lines[start + 2 :]:
        if not line.strip().startswith("|"):
            break
        first = line.strip().strip("|").split("|", 1)[0]
        for quoted in re.findall(r"`([^`]+)`", first):
            keys.update(part for part in re.split(r"\s+/\s+|\s+", quoted.strip()) if part)
    return keys


def test_readme_keys_are_read_from_the_table() -> None:
    text = (
        "intro\n## The terminal UI\n\n| key | action |\n| --- | --- |\n"
        "| `p` `r` | pause, resume |\n| `w` / `W` | workers |\n| `1 / alt+1` | trials |\n"
        "\nafter `z`\n## Next\n| `q` | x |\n"
    )
    assert readme_keys(text) == {"p", "r", "w", "W", "1", "alt+1"}


@pytest.mark.slow
async def test_the_readme_key_table_lists_the_keys_the_help_lists(make_app, wait) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        listed = (await open_help(wait, pilot, app)).keys
    documented = readme_keys(README.read_text(encoding="utf-8"))
    assert documented == listed, (
        f"only in the help: {sorted(listed - documented)}; "
        f"only in the README: {sorted(documented - listed)}"
    )
