"""The filter line's grammar: states, comparisons, equality as the table shows numbers, text
words, names by prefix or short name, and a message for each bad term."""

from __future__ import annotations

import pytest

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import TrialRow
from rltui.ui.display import cells
from rltui.ui.models.trial_query import QueryError, abbreviate, parse, short_name

PARAMS = ["batch_size", "ent_coef", "gamma", "learning_rate", "net_arch", "vf_coef"]


def row(
    number: int = 7,
    status: TrialStatus = TrialStatus.COMPLETE,
    value: float | None = 64.0,
    **params: object,
) -> TrialRow:
    values = {"learning_rate": 3e-4, "gamma": 0.99, "net_arch": "small", "batch_size": 64}
    return TrialRow(
        number=number,
        trial_id=number,
        status=status,
        value=value,
        params={**values, **params},
        curve=(),
        timesteps=0,
        total=None,
        started=None,
        completed=None,
        worker="gpu-box-1",
        error=None,
        traceback=None,
        pending=None,
        spec_version=None,
        note=None,
    )


def matches(text: str, trial: TrialRow | None = None) -> bool:
    return parse(text, PARAMS).matches(trial or row())


def test_the_empty_filter_matches_every_trial() -> None:
    assert matches("") and matches("   ")


def test_states_one_or_several_by_prefix() -> None:
    assert matches("state:complete") and matches("STATE:comp")
    assert not matches("state:running")
    assert matches("state:paused,complete")
    assert not matches("state:running", row(status=TrialStatus.PAUSED))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("value>60", True),
        ("value>64", False),
        ("value>=64", True),
        ("value<64", False),
        ("value<=64", True),
        ("value=64", True),
        ("value!=64", False),
        ("number=7", True),
        ("#>7", False),
        ("learning_rate<1e-3", True),
        ("lr<1e-4", False),
        ("gam>0.98", True),
        ("batch=64", True),
        ("net_arch=small", True),
        ("net=SMALL", True),
        ("net_arch!=small", False),
        ("net_arch=large", False),
        ("net_arch>1", False),  # a categorical text is no number
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert matches(text) is expected


def test_all_terms_must_hold() -> None:
    assert matches("state:complete value>60 lr<1e-3 net_arch=small")
    assert not matches("state:complete value>60 lr<1e-4 net_arch=small")


def test_spaces_around_an_operator_or_after_state_are_read_as_none() -> None:
    query = parse("State: complete,running  value > 60 lr <= 1e-3 net_arch = small", PARAMS)
    assert query.text == "State:complete,running value>60 lr<=1e-3 net_arch=small"
    assert query.matches(row()) and not query.matches(row(value=50.0))
    assert not matches("lr != 3e-4") and matches("gamma >= 0.99")


def test_a_trial_without_the_named_value_matches_no_comparison() -> None:
    assert not matches("value>0", row(value=None))
    assert not matches("value!=3", row(value=None))
    assert not matches("ent_coef<1")  # this trial has no ent_coef


def test_typing_the_number_a_cell_shows_finds_the_trial() -> None:
    for value in (3.16227766e-4, 0.98765432, 12345.678, 2.5e7, 1e-5, 0.0):
        shown = cells.number(value)
        assert matches(f"lr={shown}", row(learning_rate=value)), (value, shown)
    assert not matches("gamma=0.99", row(gamma=0.994))


def test_bare_words_find_text_as_before() -> None:
    assert matches("gpu-box") and matches("small complete")
    assert not matches("large")


def test_names_resolve_by_short_name_and_prefix() -> None:
    query = parse("lr<1 learn>0 ga=0.99 vf>0", PARAMS)
    assert [c.name for c in query.comparisons] == [
        "learning_rate",
        "learning_rate",
        "gamma",
        "vf_coef",
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("lr<fast", "filter term 'lr<fast': < compares numbers and 'fast' is not one"),
        (
            "speed>3",
            "no value, number or parameter is called 'speed'; parameters: batch_size (batch)",
        ),
        ("v>3", "'v' could be value, vf_coef; write more of the name"),
        ("value>", "put a value after '>', e.g. value>60"),
        (">5", "put a name before '>'"),
        ("state:", "name a state after 'state:'"),
        ("state:done", "no state is called 'done'; states: waiting, running"),
    ],
)
def test_a_bad_term_says_which_and_how_to_write_it(text: str, said: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(f"value>1 {text}", PARAMS)
    assert said in str(raised.value)
    assert raised.value.term == text


def test_replacing_the_state_term_keeps_the_others() -> None:
    query = parse("value>1 state:running small", PARAMS)
    picked = query.with_states({TrialStatus.PAUSED, TrialStatus.RUNNING})
    assert picked.text == "state:running,paused value>1 small"
    assert picked.matches(row(status=TrialStatus.PAUSED, value=2.0))
    assert picked.with_states(None).text == "value>1 small"
    assert picked.with_states(set(TrialStatus)).states is None


def test_short_names() -> None:
    assert short_name("learning_rate") == "lr"
    assert short_name("gamma") == "gamma"
    assert short_name("target_update_interval") == "target_u"
    assert short_name("policy_kwargs.net_arch") == "net"
    assert short_name("replay_buffer_class") == "replay_bc"
    assert short_name("temperature") == "temperat"
    # Short names that would clash (or name another parameter) stay in full.
    assert abbreviate(["net_arch", "policy.net_arch", "lr", "learning_rate"]) == {
        "net_arch": "net_arch",
        "policy.net_arch": "policy.net_arch",
        "lr": "lr",
        "learning_rate": "learning_rate",
    }
