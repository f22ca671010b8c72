"""Keys typed in one burst are handled one after another, each where the focus is once the key
before it is done (rltui.ui.textual.key_order), on a small app of Textual's own widgets."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from rltui.ui.textual.key_order import KeysInOrderApp


class Form(ModalScreen[tuple[str, str] | None]):
    BINDINGS: ClassVar = [
        Binding("ctrl+s", "submit", "Submit"),
        Binding("escape", "dismiss(None)", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        yield Input(id="first")
        yield Input(id="second")

    def action_submit(self) -> None:
        self.dismiss(
            (self.query_one("#first", Input).value, self.query_one("#second", Input).value)
        )


class Table(Static, can_focus=True):
    """A focused widget that is not a text field: its keys are bindings."""

    BINDINGS: ClassVar = [
        Binding("e", "app.open_form", "Form"),
        Binding("x", "vanish", "Remove"),
        Binding("end", "app.note('end')", "End"),
    ]

    def action_vanish(self) -> None:
        self.remove()


def probe(base: type[App[None]]) -> App[None]:
    class Probe(base):  # type: ignore[misc,valid-type]
        BINDINGS: ClassVar = [Binding("z", "note('z')", "Z")]

        def __init__(self) -> None:
            super().__init__()
            self.notes: list[str] = []
            self.answers: list[tuple[str, str] | None] = []

        def compose(self) -> ComposeResult:
            yield Table("table")

        def on_mount(self) -> None:
            self.query_one(Table).focus()

        def action_open_form(self) -> None:
            self.push_screen(Form(), self.answers.append)

        def action_note(self, what: str) -> None:
            self.notes.append(what)

    return Probe()


def burst(app: App[Any], *keys: str) -> None:
    """Post ``keys`` at once, as one read of typeahead: nothing runs between two keys."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


async def settled(app: App[Any], pilot: Any, done: Any) -> None:
    for _ in range(200):
        await pilot.pause(0.01)
        if done():
            return
    raise AssertionError("the keys were not all handled")


@pytest.mark.parametrize("base", [KeysInOrderApp, App], ids=["in order", "textual's"])
async def test_keys_behind_a_key_that_opens_a_form_go_to_the_form(base: type[App[None]]) -> None:
    app: Any = probe(base)
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, "e", "a", "b", "end", "tab", "c", "backspace", "d", "ctrl+s", "z")
        if base is App:  # Textual alone: the keys reach the table before the form opens
            await pilot.pause(0.3)
            assert app.answers != [("ab", "d")]
            return
        await settled(app, pilot, lambda: app.notes == ["z"])
        assert app.answers == [("ab", "d")]
        assert app.focused is app.query_one(Table)


async def test_a_paste_behind_the_key_that_opens_the_form_goes_to_its_field() -> None:
    app: Any = probe(KeysInOrderApp)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(events.Key("e", "e"))
        app.post_message(events.Paste("pasted"))
        burst(app, "ctrl+s")
        await settled(app, pilot, lambda: app.answers)
        assert app.answers == [("pasted", "")]


async def test_esc_and_a_key_typed_together_are_handled_as_both_keys() -> None:
    # What a terminal sends for Esc and z typed at once: alt+z, which nothing binds here.
    app: Any = probe(KeysInOrderApp)
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(events.Key("e", "e"))
        app.post_message(events.Key("alt+z", "z"))
        await settled(app, pilot, lambda: app.notes == ["z"])
        assert app.answers == [None]


async def test_a_key_that_removes_the_focused_widget_holds_up_no_key() -> None:
    app: Any = probe(KeysInOrderApp)
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, "x", "z", "z")
        await settled(app, pilot, lambda: app.notes == ["z", "z"])
        assert not app.query(Table) and app.keys_held == 0


async def test_a_key_whose_widget_never_answers_is_held_at_most_a_while(monkeypatch) -> None:
    # A key whose way up is lost (a queue that drops what it holds) stops the keyboard for
    # HOLD_AT_MOST seconds at most, never for good.
    monkeypatch.setattr("rltui.ui.textual.key_order.HOLD_AT_MOST", 0.2)
    app: Any = probe(KeysInOrderApp)
    async with app.run_test() as pilot:
        await pilot.pause()
        follow, lost = app._follow, []

        def loses_the_first(node: Any, then: Any) -> None:
            if lost:
                follow(node, then)
            else:
                lost.append(node)

        monkeypatch.setattr(app, "_follow", loses_the_first)
        burst(app, "end", "z")
        await settled(app, pilot, lambda: app.notes == ["end", "z"])
        assert lost == [app.query_one(Table)]
