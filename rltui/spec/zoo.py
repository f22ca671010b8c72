"""rl-baselines3-zoo's ``policy_kwargs`` strings, read without running them.

The zoo writes ``policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.ReLU)"`` and
``eval``s it. Here the string is parsed into a syntax tree and only literals are taken from
it: ``dict(...)`` calls with keyword arguments, lists, numbers, booleans, None and strings,
and the class names of an allow-list (``nn.ReLU`` becomes ``relu``, the name a study file
uses). Anything else is refused with the column where it stands.
"""

from __future__ import annotations

import ast
from typing import Any

from rltui.spec import limits
from rltui.spec.problems import did_you_mean

# rl-baselines3-zoo's names for classes, in its policy_kwargs strings: the last part of
# ``nn.ReLU``, ``th.nn.ReLU``, ``torch.optim.RMSprop`` -> the name a study file uses.
ZOO_ACTIVATIONS = {
    "Tanh": "tanh",
    "ReLU": "relu",
    "ELU": "elu",
    "LeakyReLU": "leaky_relu",
    "GELU": "gelu",
    "SiLU": "silu",
}
ZOO_OPTIMIZERS = {"Adam": "adam", "AdamW": "adamw", "RMSprop": "rmsprop", "SGD": "sgd"}
_ZOO_MODULES = {
    ("nn",): ZOO_ACTIVATIONS,
    ("th", "nn"): ZOO_ACTIVATIONS,
    ("torch", "nn"): ZOO_ACTIVATIONS,
    ("optim",): ZOO_OPTIMIZERS,
    ("th", "optim"): ZOO_OPTIMIZERS,
    ("torch", "optim"): ZOO_OPTIMIZERS,
}


class LiteralError(Exception):
    """A policy_kwargs string that is not one of the literals :func:`parse_zoo` reads;
    ``column`` (1-based, in the string) is where, when known."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.message, self.column = message, column


_WHAT_IS_READ = (
    "only dict(...) with keyword arguments, lists, numbers, True/False/None, strings and "
    "nn.X or th.optim.X class names are read (the string is never run)"
)


def parse_zoo(text: str) -> dict[str, Any]:
    """rl-baselines3-zoo's ``"dict(net_arch=[64, 64], activation_fn=nn.ReLU)"`` as a mapping
    (``{"net_arch": [64, 64], "activation_fn": "relu"}``), read from the syntax tree with an
    allow-list of class names; raises :class:`LiteralError`."""
    if len(text) > limits.MAX_LITERAL_CHARS:
        raise LiteralError(
            f"the string is {len(text):,} characters long; "
            f"at most {limits.MAX_LITERAL_CHARS:,} are read"
        )
    # One line, so that a column is a place in the string (newlines only separate tokens in a
    # call's arguments; the string is never run, so those inside a quoted string do not matter).
    flat = " ".join(text.splitlines())
    stripped = flat.strip()
    lead = len(flat) - len(flat.lstrip())
    try:
        tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        column = None if exc.offset is None else exc.offset + lead
        raise LiteralError(f"it is not a dict(...) expression: {exc.msg}", column) from None
    except (ValueError, RecursionError, MemoryError):  # NUL characters, absurd nesting
        raise LiteralError("it is not a dict(...) expression") from None
    if not _is_dict_call(tree.body):
        raise LiteralError("write it as dict(key=value, ...)", _column(tree.body, lead))
    value = _literal(tree.body, 0, lead)
    assert isinstance(value, dict)
    return value


def _is_dict_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"


def _column(node: ast.AST, lead: int) -> int:
    return getattr(node, "col_offset", 0) + 1 + lead


def _literal(node: ast.expr, depth: int, lead: int) -> Any:
    if depth > limits.MAX_LITERAL_DEPTH:
        raise LiteralError(
            f"it nests deeper than {limits.MAX_LITERAL_DEPTH} levels", _column(node, lead)
        )
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str):
        return node.value
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        number = getattr(node.operand, "value", None)
        signed = isinstance(number, int | float) and not isinstance(number, bool)
        if isinstance(node.operand, ast.Constant) and signed:
            assert isinstance(number, int | float)
            return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(item, depth + 1, lead) for item in node.elts]
    if _is_dict_call(node):
        assert isinstance(node, ast.Call)
        return _keywords(node, depth, lead)
    if isinstance(node, ast.Attribute):
        return _class_name(node, lead)
    raise LiteralError(
        f"{ast.unparse(node)[:40]!r} cannot be read: {_WHAT_IS_READ}", _column(node, lead)
    )


def _keywords(node: ast.Call, depth: int, lead: int) -> dict[str, Any]:
    if node.args:
        raise LiteralError(
            "dict(...) takes keyword arguments only here, e.g. dict(net_arch=[64, 64])",
            _column(node.args[0], lead),
        )
    out: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise LiteralError(
                "**mapping cannot be read: write each key=value", _column(keyword, lead)
            )
        if keyword.arg in out:
            raise LiteralError(f"'{keyword.arg}' is given twice", _column(keyword, lead))
        out[keyword.arg] = _literal(keyword.value, depth + 1, lead)
    return out


def _class_name(node: ast.Attribute, lead: int) -> str:
    parts: list[str] = [node.attr]
    inner: ast.expr = node.value
    while isinstance(inner, ast.Attribute):
        parts.insert(0, inner.attr)
        inner = inner.value
    if isinstance(inner, ast.Name):
        parts.insert(0, inner.id)
    module, name = tuple(parts[:-1]), parts[-1]
    known = _ZOO_MODULES.get(module)
    if isinstance(inner, ast.Name) and known is not None and name in known:
        return known[name]
    dotted = ".".join(parts)
    names = [f"nn.{n}" for n in ZOO_ACTIVATIONS] + [f"th.optim.{n}" for n in ZOO_OPTIMIZERS]
    guess = did_you_mean(dotted, names)
    also = f" (did you mean {guess}?)" if guess else f": use one of {', '.join(names)}"
    raise LiteralError(f"{dotted} is not a class rltui knows{also}", _column(node, lead))
