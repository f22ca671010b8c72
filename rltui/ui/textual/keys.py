"""Keys as terminals really send them.

Esc and a digit typed together (what SSH typeahead delivers when a user leaves the editor and
switches tabs at once) reach the app as one sequence, ``ESC 1``. Textual reads that sequence as
macOS's Option+1 and names it after the character Option+1 types (``¡``:
``inverted_exclamation_mark``), not ``alt+1``; a terminal that sends Alt+1 the same way is read
the same. rltui binds both names wherever it binds ``alt+DIGIT``, so the key does what the user
meant whichever name arrives, and ``¡`` is never typed into a study file by accident.

Textual's key tables are read through :mod:`rltui.ui.textual.internals`;
``tests/ui/test_keys.py`` fails when Textual changes them.
"""

from __future__ import annotations

from functools import cache

from rltui.ui.textual.internals import key_of_sequence


@cache
def alt_digit(digit: str) -> str:
    """``alt+1`` and the other name the same sequence arrives under, comma-separated, as
    :class:`textual.binding.Binding` takes several keys."""
    names = [f"alt+{digit}"]
    other = key_of_sequence(f"\x1b{digit}")
    if other is not None:
        names.append(other)
    return ",".join(names)


def fused_escape_names() -> frozenset[str]:
    """The names (other than ``alt+DIGIT``) that Esc and a digit typed together arrive as:
    a text widget must not take them as text."""
    return frozenset(name for digit in "1234567890" for name in alt_digit(digit).split(",")[1:])
