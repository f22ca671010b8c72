"""What rltui reads from the bytes a terminal sends: the key names it binds for Esc+digit match
Textual's, and Esc with a key typed ahead of others is never text."""

from __future__ import annotations

from rltui.ui.textual.internals import keys_read_from
from rltui.ui.textual.keys import alt_digit


def test_esc_and_a_digit_typed_together_arrive_under_a_bound_name():
    for digit in "1234567890":
        names = alt_digit(digit).split(",")
        assert names[0] == f"alt+{digit}"
        keys = keys_read_from(f"\x1b{digit}")
        assert len(keys) == 1 and keys[0] in names, (digit, keys)


def test_esc_and_a_key_typed_ahead_of_others_are_read_as_that_key_with_alt():
    # As Textual reads them when nothing follows; with more behind them (here, arrows) it
    # read the ESC as "^" and the key as text.
    from textual._xterm_parser import XTermParser

    typed = "\x1bp\x1b[B\x1b[B"
    assert "circumflex_accent" in [getattr(e, "key", "") for e in XTermParser().feed(typed)]
    assert keys_read_from(typed) == ["alt+p", "down", "down"]
    assert keys_read_from("\x1bE" + "x" * 40) == ["alt+shift+e"] + ["x"] * 40
    assert keys_read_from("ab\x1b\r") == ["a", "b", "escape", "enter"]  # Esc, then Enter


def test_sequences_and_pastes_are_read_as_before():
    from textual import events

    from rltui.ui.textual.internals import TypeaheadParser

    assert keys_read_from("\x1b[A\x1bOP\x1b1\x1bb") == [
        "up",
        "f1",
        keys_read_from("\x1b1")[0],
        "ctrl+left",
    ]
    pasted = [
        e for e in TypeaheadParser().feed("\x1b[200~a\x1b[201~") if isinstance(e, events.Paste)
    ]
    assert [p.text for p in pasted] == ["a"]


def test_enter_typed_before_the_terminal_was_raw_is_enter_and_ctrl_j_after_it_is_not():
    # The terminal's line discipline turns Enter (CR) into LF while it is not raw yet, as
    # when keys are typed ahead while the window starts; LF read later is ctrl+j (the panel).
    typed = "/ok\nx"
    assert keys_read_from(typed, typed_ahead=len(typed)) == ["slash", "o", "k", "enter", "x"]
    assert keys_read_from(typed + "\n", typed_ahead=len(typed))[-1] == "ctrl+j"
    assert keys_read_from(typed) == ["slash", "o", "k", "ctrl+j", "x"]


def test_what_waits_on_a_terminal_is_counted_and_nothing_on_other_input(monkeypatch):
    import io
    import os
    import sys
    import termios
    import time
    import tty

    from rltui.ui.textual.internals import waiting_on_stdin

    assert waiting_on_stdin() == 0  # pytest's standard input is not a terminal
    main, terminal = os.openpty()
    try:
        os.write(main, b"/ok\rx")  # typed while the terminal is still cooked
        time.sleep(0.1)
        tty.setraw(terminal, termios.TCSANOW)  # as the window's driver does, keeping them
        monkeypatch.setattr(sys, "__stdin__", io.TextIOWrapper(io.FileIO(terminal, closefd=False)))
        assert waiting_on_stdin() == len("/ok\nx")
    finally:
        os.close(main)
        os.close(terminal)
