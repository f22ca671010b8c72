"""Counts in messages read as people write them."""

from __future__ import annotations

from rltui.spec.wording import counted, verb


def test_a_count_takes_the_plural_unless_it_is_one() -> None:
    assert [counted(n, "trial") for n in (0, 1, 2, 1500)] == [
        "0 trials",
        "1 trial",
        "2 trials",
        "1,500 trials",
    ]
    assert counted(1, "GPU") == "1 GPU" and counted(3, "empty one") == "3 empty ones"
    assert counted(2, "process", "processes") == "2 processes"
    assert f"1 trial {verb(1, 'has', 'have')}, 2 trials {verb(2, 'has', 'have')}" == (
        "1 trial has, 2 trials have"
    )
