"""Keys as terminals really send them: the one module that reads Textual's key tables.

Esc and a digit typed together (what SSH typeahead delivers when a user leaves the editor and
switches tabs at once) reach the app as one sequence, ``ESC 1``. Textual reads that sequence as
macOS's Option+1 and names it after the character Option+1 types (``¡``:
``inverted_exclamation_mark``), not ``alt+1``; a terminal that sends Alt+1 the same way is read
the same. rltui binds both names wherever it binds ``alt+DIGIT``, so the key does what the user
meant whichever name arrives, and ``¡`` is never typed into a study file by accident.

``tests/ui/test_keys.py`` fails when Textual changes these tables; the supported range of
Textual is pinned in ``pyproject.toml``.
"""

from __future__ import annotations

from functools import cache

from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.keys import _character_to_key


@cache
def alt_digit(digit: str) -> str:
    """``alt+1`` and the other name the same sequence arrives under, comma-separated, as
    :class:`textual.binding.Binding` takes several keys."""
    names = [f"alt+{digit}"]
    character = ANSI_SEQUENCES_KEYS.get(f"\x1b{digit}")
    if isinstance(character, str) and len(character) == 1:
        names.append(_character_to_key(character))
    return ",".join(names)


def fused_escape_names() -> frozenset[str]:
    """The names (other than ``alt+DIGIT``) that Esc and a digit typed together arrive as:
    a text widget must not take them as text."""
    return frozenset(name for digit in "1234567890" for name in alt_digit(digit).split(",")[1:])
