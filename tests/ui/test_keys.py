"""The key names rltui binds for Esc+digit match what Textual makes of the bytes."""

from __future__ import annotations

from rltui.ui.textual.internals import keys_read_from
from rltui.ui.textual.keys import alt_digit


def test_esc_and_a_digit_typed_together_arrive_under_a_bound_name():
    for digit in "1234567890":
        names = alt_digit(digit).split(",")
        assert names[0] == f"alt+{digit}"
        keys = keys_read_from(f"\x1b{digit}")
        assert len(keys) == 1 and keys[0] in names, (digit, keys)
