"""Sweep expressions from Hydra Optuna sweeper configs and Ray Tune grids."""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import pickle

import pytest
from optuna.distributions import CategoricalDistribution as Cat
from optuna.distributions import FloatDistribution as Float
from optuna.distributions import IntDistribution as Int

from rltui.spec import grammar, sweep_calls
from rltui.spec.grammar import (
    GrammarError,
    GridSearch,
    coerce_scalar,
    is_sweep_expression,
    parse_sweep,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10", 10),
        ("-3", -3),
        ("+4", 4),
        ("0", 0),
        ("1_000", 1000),
        ("1e-5", 1e-5),
        ("2E3", 2000.0),
        ("1E+3", 1000.0),
        (".5", 0.5),
        ("3.", 3.0),
        ("-0.25", -0.25),
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("true", True),
        ("FALSE", False),
        ("True", True),
        ("null", None),
        ("NULL", None),
        ("  relu  ", "relu"),
        ("MlpPolicy", "MlpPolicy"),
        ("007", "007"),  # a leading zero is no int in Hydra either
        ("1e", "1e"),
        ("None", "None"),
        ("~", "~"),
        ("", ""),
    ],
)
def test_coerce_scalar(text: str, expected: object) -> None:
    value = coerce_scalar(text)
    assert value == expected
    assert type(value) is type(expected)


def test_coerce_scalar_nan() -> None:
    value = coerce_scalar("nan")
    assert isinstance(value, float) and math.isnan(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice(a, b)", True),
        ("  range(1, 5)", True),
        ("interval(0, 1)", True),
        ("int(interval(1, 5))", True),
        ("float(range(1, 3))", True),
        ("tag(log, interval(1e-5, 1))", True),
        ("shuffle(choice(a, b))", True),
        ("sort(choice(b, a))", True),
        ("grid_search([1, 2])", True),
        ("choice (a, b)", True),
        ("1e-5", False),
        ("relu", False),
        ("choices(a, b)", False),
        ("my_choice(a)", False),
        ("integer(5)", False),
        ("choice", False),
        ("", False),
    ],
)
def test_is_sweep_expression(text: str, expected: bool) -> None:
    assert is_sweep_expression(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # choice
        ("choice(relu, tanh)", Cat(["relu", "tanh"])),
        ("choice(-5, 0, 5)", Cat([-5, 0, 5])),
        ("choice(32, 64, 128)", Cat([32, 64, 128])),
        ("choice(1e-4, .5, 3., 2E3, +4)", Cat([1e-4, 0.5, 3.0, 2000.0, 4])),
        ("choice(true, False, null)", Cat([True, False, None])),
        ("choice('x', \"y z\", 'it\\'s', \"a\\\\b\")", Cat(["x", "y z", "it's", "a\\b"])),
        ("choice('1', 1)", Cat(["1", 1])),
        ("choice(MlpPolicy, ornstein_uhlenbeck)", Cat(["MlpPolicy", "ornstein_uhlenbeck"])),
        ("choice(a-b, a.b, foo/bar, x:y)", Cat(["a-b", "a.b", "foo/bar", "x:y"])),
        ("choice(hello world, x)", Cat(["hello world", "x"])),  # inner blanks, as in Hydra
        ("choice(1, '1', 1.5)", Cat([1, "1", 1.5])),
        ("choice(only)", Cat(["only"])),
        ("  choice (  a ,b  )  ", Cat(["a", "b"])),
        ("choice(\n  a,\n  b\n)", Cat(["a", "b"])),
        # range: inclusive high, as the Optuna sweeper builds it
        ("range(1, 10)", Int(1, 10)),
        ("range(0, 100, 10)", Int(0, 100, step=10)),
        ("range(0, 100, step=10)", Int(0, 100, step=10)),
        ("range(5)", Int(0, 5)),
        ("range(-5.5, 5.5, step=0.5)", Float(-5.5, 5.5, step=0.5)),
        ("range(0, 1, 0.25)", Float(0.0, 1.0, step=0.25)),
        ("range(1.0, 3)", Float(1.0, 3.0, step=1.0)),
        ("range(3, 3)", Int(3, 3)),
        # interval: always float unless cast
        ("interval(0, 1)", Float(0.0, 1.0)),
        ("interval(0.1, 0.9)", Float(0.1, 0.9)),
        ("interval(-1e-3, 1e-3)", Float(-1e-3, 1e-3)),
        ("int(interval(1, 10))", Int(1, 10)),
        ("int(interval(1.5, 10.7))", Int(1, 10)),
        ("float(interval(1, 10))", Float(1.0, 10.0)),
        ("float(int(interval(1, 10)))", Float(1.0, 10.0)),
        ("int(range(1, 9, 2))", Int(1, 9, step=2)),
        ("float(range(1, 3))", Float(1.0, 3.0, step=1.0)),
        ("int(choice(1.0, 2.0))", Cat([1, 2])),
        ("float(choice(1, 2))", Cat([1.0, 2.0])),
        # tag
        ("tag(log, interval(0.001, 1))", Float(0.001, 1.0, log=True)),
        ("tag(log, interval(1e-5, 1e-2))", Float(1e-5, 1e-2, log=True)),
        ("tag(log, int(interval(1, 1024)))", Int(1, 1024, log=True)),
        ("int(tag(log, interval(1, 1024)))", Int(1, 1024, log=True)),
        ("tag(log, foo, interval(1, 2))", Float(1.0, 2.0, log=True)),
        ("tag(foo, interval(1, 2))", Float(1.0, 2.0)),
        ("tag(interval(1, 2))", Float(1.0, 2.0)),
        ("tag(log, choice(1, 10, 100))", Cat([1, 10, 100])),
        ("tag(log, range(1, 10))", Int(1, 10)),
        # shuffle / sort: Hydra's expansion of a range excludes the stop
        ("shuffle(choice(a, b, c))", Cat(["a", "b", "c"])),
        ("shuffle(range(1, 5))", Cat([1, 2, 3, 4])),
        ("shuffle(range(0, 10, 3))", Cat([0, 3, 6, 9])),
        ("shuffle(range(0, 0.5, 0.1))", Cat([0.0, 0.1, 0.2, 0.3, 0.4])),
        ("shuffle(a, b)", Cat(["a", "b"])),
        ("sort(choice(3, 1, 2))", Cat([1, 2, 3])),
        ("sort(choice(b, c, a), reverse=true)", Cat(["c", "b", "a"])),
        ("sort(choice(1, 3, 2), reverse=false)", Cat([1, 2, 3])),
        ("sort(3, 1, 2)", Cat([1, 2, 3])),
        ("sort(range(1, 4))", Int(1, 4)),
        ("sort(range(1, 4), reverse=true)", Cat([3, 2, 1])),
        ("sort(shuffle(choice(2, 1)))", Cat([1, 2])),
    ],
)
def test_parse_sweep(text: str, expected: object) -> None:
    assert parse_sweep(text) == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("grid_search([1e-4, 1e-5, 1e-6])", (1e-4, 1e-5, 1e-6)),
        ("grid_search([64, 128])", (64, 128)),
        ("grid_search([relu, 'tanh', true, null])", ("relu", "tanh", True, None)),
        ("grid_search( [ 1 ] )", (1,)),
    ],
)
def test_grid_search(text: str, values: tuple[bool | int | float | str | None, ...]) -> None:
    result = parse_sweep(text)
    assert result == GridSearch(values)
    assert isinstance(result, GridSearch) and result.values == values
    assert [type(v) for v in result.values] == [type(v) for v in values]


def test_choice_keeps_value_types() -> None:
    dist = parse_sweep("choice(2, 2.5, '3', true, null)")
    assert isinstance(dist, Cat)
    assert [type(v) for v in dist.choices] == [int, float, str, bool, type(None)]


def test_hydra_sweeper_params_block_converts() -> None:
    # hydra.sweeper.params from the Hydra Optuna sweeper docs, plus a few common RL knobs
    params = {
        "x": "range(-5.5, 5.5, step=0.5)",
        "y": "choice(-5, 0, 5)",
        "lr": "tag(log, interval(0.001, 1))",
        "batch": "choice(32, 64, 128)",
        "act": "choice(relu, tanh)",
        "n_steps": "choice(256, 512, 1024, 2048)",
        "gamma": "interval(0.9, 0.9999)",
        "n_layers": "range(1, 4)",
        "hidden": "tag(log, int(interval(16, 512)))",
    }
    assert all(is_sweep_expression(text) for text in params.values())
    space = {name: parse_sweep(text) for name, text in params.items()}
    assert space == {
        "x": Float(-5.5, 5.5, step=0.5),
        "y": Cat([-5, 0, 5]),
        "lr": Float(0.001, 1.0, log=True),
        "batch": Cat([32, 64, 128]),
        "act": Cat(["relu", "tanh"]),
        "n_steps": Cat([256, 512, 1024, 2048]),
        "gamma": Float(0.9, 0.9999),
        "n_layers": Int(1, 4),
        "hidden": Int(16, 512, log=True),
    }


def _error(text: str) -> GrammarError:
    with pytest.raises(GrammarError) as info:
        parse_sweep(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "fragment", "at"),
    [
        # bounds and steps
        ("interval(0.1, 0.01)", "lower bound 0.1 is above the upper bound 0.01; swap them", "0.1"),
        ("range(10, 1)", "start 10 is above the stop 1", "10"),
        ("range(1, 5, 0)", "step must be above 0", "0)"),
        ("range(1, 5, step=-1)", "step must be above 0", "step"),
        ("int(range(0, 1, 0.5))", "step becomes 0", "0,"),
        ("tag(log, interval(0, 1))", "log scale needs a lower bound above 0", "0,"),
        ("tag(log, interval(-1, 1))", "log scale needs a lower bound above 0", "-1"),
        ("tag(log, int(interval(0, 8)))", "log scale needs a lower bound above 0", "0,"),
        ("range(a, 5)", "a is not a finite number", "a,"),
        ("interval(0, high)", "high is not a finite number", "high"),
        ("interval('0', 1)", "'0' is not a finite number", "'0'"),
        ("interval(true, 1)", "true is not a finite number", "true"),
        ("interval(0, inf)", "inf is not a finite number", "inf"),
        ("range(0, [1])", "is not a finite number", "[1]"),
        # names and keywords
        ("choise(a, b)", "unknown function 'choise'", "choise"),
        ("intervall(0, 1)", "unknown function 'intervall'", "intervall"),
        ("range(1, 5, stpe=2)", "no keyword argument 'stpe'", "stpe"),
        ("choice(a, b, reverse=true)", "no keyword argument 'reverse'", "reverse"),
        ("sort(choice(a, b), step=1)", "no keyword argument 'step'", "step"),
        ("range(1, 5, step=2, step=3)", "step= is given twice", "step=3"),
        ("range(1, 5, 2, step=3)", "too many arguments", "2,"),
        ("range(step=1, 5)", "positional argument follows a keyword", "5)"),
        ("sort(choice(a, b), reverse=maybe)", "reverse= must be true or false", "reverse"),
        # arity
        ("choice()", "needs at least one value", ")"),
        ("interval(1)", "missing arguments", ")"),
        ("interval(1, 2, 3)", "too many arguments", "3"),
        ("range()", "missing arguments", ")"),
        ("int()", "missing arguments", ")"),
        ("tag()", "missing arguments", ")"),
        ("grid_search()", "missing arguments", ")"),
        # structure
        ("choice(a, b", "this '(' is never closed", "("),
        ("tag(log, interval(1, 2)", "this '(' is never closed", "("),
        ("choice(a, b))", "this ')' has no '('", 12),
        ("choice(a, b) extra", "unexpected 'extra'", "extra"),
        ("choice(a, b), c", "unexpected ','", ", c"),
        ("choice(a,, b)", "expected a value, found ','", ", b"),
        ("choice(a, b,)", "expected a value, found ')'", ")"),
        ("choice(a, b]", "expected ',' or ')', found ']'", "]"),
        ("choice(a, 'b)", "quote is never closed", "'"),
        ("choice(", "expected a value, the text ends", None),
        ("grid_search([1, 2)", "expected ',' or ']'", ")"),
        ("choice({a: 1})", "mapping cannot be a sweep value", "{"),
        ("relu", "expected a sweep", "relu"),
        ("", "expected a sweep", None),
        ("relu, tanh", "expected a sweep", "relu"),
        ("int(5)", "is a single value, not a sweep", "int"),
        # values
        ("choice([64, 64], [64, 64])", "'[64, 64]' is listed twice", "[64, 64])"),
        ("choice(a, b, a)", "'a' is listed twice", "a)"),
        ("choice(1, 2, 1)", "1 is listed twice", "1)"),
        ("int(choice(1.2, 1.7))", "1 is listed twice", "1.7"),
        ("choice(1, 1.0)", "1.0 is the same choice as 1", "1.0"),
        ("choice(0, false)", "False is the same choice as 0", "false"),
        ("choice(choice(a, b))", "sweeps cannot be nested", "choice(a"),
        ("choice(grid_search([1]))", "sweeps cannot be nested", "grid"),
        ("tag(log, 5)", "last argument must be a sweep", "5"),
        ("tag(1, interval(1, 2))", "tag names must be words", "1,"),
        ("shuffle(interval(0, 1))", "an interval cannot be listed", "interval(0"),
        ("shuffle(range(3, 3))", "expands to 0 values", "shuffle"),
        ("shuffle(range(0, 1000000))", "expands to 1000000 values", "shuffle"),
        ("sort(choice(a, 1))", "cannot sort a mix", "sort"),
        ("int(choice(a, b))", "cannot convert 'a' to int", "a,"),
        ("grid_search([])", "expects a non-empty list", "[]"),
        ("grid_search(1, 2)", "too many arguments", "2"),
        ("grid_search(5)", "expects a non-empty list", "5"),
        ("grid_search([[64, 64], [64, 64]])", "'[64, 64]' is listed twice", "[64, 64]]"),
        ("grid_search([1, 1])", "1 is listed twice", "1]"),
    ],
)
def test_errors(text: str, fragment: str, at: str | int | None) -> None:
    # ``at``: the offending token's offset, or text that starts there, or None for the end
    err = _error(text)
    assert fragment in err.message
    expected = len(text) if at is None else at if isinstance(at, int) else text.index(at)
    assert err.position == expected, str(err)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("choice([32, 16], [64, 32])", Cat(("[32, 16]", "[64, 32]"))),
        ("choice(small, [64, 64], 128)", Cat(("small", "[64, 64]", 128))),
        ("choice([[64], [64]], [])", Cat(("[[64], [64]]", "[]"))),
        ("choice([4, episode], [1, step])", Cat(("[4, episode]", "[1, step]"))),
        ("grid_search([[64, 64], [128]])", GridSearch(("[64, 64]", "[128]"))),
    ],
)
def test_a_list_is_one_choice_held_as_its_label(text: str, expected: object) -> None:
    assert parse_sweep(text) == expected


@pytest.mark.parametrize(
    "value", [[32, 16], [], [[64], [64]], [4, "episode"], {"pi": [64], "vf": [32]}, ["a b", 1e-5]]
)
def test_a_choice_label_reads_back_as_the_value(value: object) -> None:
    label = sweep_calls.choice_label(value)
    assert isinstance(label, str)
    assert sweep_calls.choice_value(label) == value


@pytest.mark.parametrize("text", ["[64, 64", "[1,2]", "{a: 1, }", "small", "[ 1 ]"])
def test_text_no_label_writes_stays_text(text: str) -> None:
    assert sweep_calls.choice_value(text) == text


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("choise(a, b)", "did you mean 'choice'?"),
        ("rnage(1, 2)", "did you mean 'range'?"),
        ("grid_serch([1])", "did you mean 'grid_search'?"),
        ("range(1, 5, stpe=2)", "did you mean 'step'?"),
        ("sort(choice(a, b), revers=true)", "did you mean 'reverse'?"),
        ("interval(0.1, 0.01)", "write interval(0.01, 0.1)"),
        # Other tools' spellings say how to write them here.
        ("loguniform(1e-5, 1e-2)", "a log-uniform float is written tag(log, interval(low, high))"),
        ("tune.uniform(0, 1)", "a uniform float is written interval(low, high)"),
        (
            "randint(1, 9)",
            "an integer from low to high - 1 (as Ray Tune's randint) is "
            "int(interval(low, high - 1))",
        ),
    ],
)
def test_error_hints(text: str, hint: str) -> None:
    assert _error(text).hint == hint


def test_error_str_and_attributes() -> None:
    err = _error("choise(a)")
    assert (err.message, err.position, err.hint) == (
        "unknown function 'choise'",
        0,
        "did you mean 'choice'?",
    )
    assert str(err) == "unknown function 'choise' (at column 1) — did you mean 'choice'?"
    assert isinstance(err, ValueError)
    assert str(GrammarError("bad")) == "bad"
    assert str(GrammarError("bad", 4)) == "bad (at column 5)"
    assert str(GrammarError("bad", hint="fix")) == "bad — fix"


def test_error_survives_pickling() -> None:
    err = pickle.loads(pickle.dumps(_error("interval(2, 1)")))
    assert isinstance(err, GrammarError)
    assert err.position == len("interval(")
    assert "swap them" in err.message


def test_position_counts_leading_blanks() -> None:
    assert _error("   choise(a)").position == 3


def test_grid_search_is_frozen_and_hashable() -> None:
    grid = GridSearch((1, 2))
    assert hash(grid) == hash(GridSearch((1, 2)))
    with pytest.raises(AttributeError):
        grid.values = (3,)  # type: ignore[misc]


def test_python_is_never_evaluated(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("user text must not be evaluated")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(ast, "literal_eval", forbidden)
    # A call to anything but the known functions is refused harmlessly ...
    err = _error("choice(__import__('os'))")
    assert "unknown function '__import__'" in err.message
    # ... and bare or quoted Python is just a string.
    assert parse_sweep("choice(__import__, 'os.system(1)')") == Cat(["__import__", "os.system(1)"])
    code = inspect.getsource(grammar).replace("``eval`` or ``ast.literal_eval``", "")
    assert "eval" not in code
