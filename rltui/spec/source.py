"""Reading YAML so that every value keeps the line it came from, with bounded time and memory.

The text goes through libyaml's event parser (PyYAML's C binding: a 1 MB file parses in a
fraction of a second) and plain dicts and lists are built from the events in one loop with an
explicit stack, so that no nesting can exhaust Python's recursion limit. Scalars are read by
the YAML 1.2 core schema, as ruamel.yaml reads them (``1e-5`` is a number, ``yes`` is text).

A study file is hand-written and short, so it may not use what only serves to make it large:
aliases (``*name``, the "billion laughs"), merge keys, more than :data:`limits.MAX_DEPTH`
levels of nesting, more than :data:`limits.MAX_VALUES` values, more than
:data:`limits.MAX_FILE_BYTES` bytes, or tags other than the plain types'.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events

from rltui.spec import limits
from rltui.spec.problems import KeyPath, Problem, clip

try:
    from yaml import CBaseLoader as _Loader
except ImportError:  # PyYAML built without libyaml: the same events, read more slowly
    from yaml import BaseLoader as _Loader

_CORE = "tag:yaml.org,2002:"
_NOT_ALLOWED = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The YAML 1.2 core schema, as ruamel.yaml's resolver writes it.
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_NULL = re.compile(r"~|null|Null|NULL|")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
    r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN)"
)
_INT = re.compile(r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+")
_MAX_DIGITS = 300  # longer whole numbers stay text: floats and messages could not hold them
_TOO_DEEP = f"nested more than {limits.MAX_DEPTH} levels deep"
_FLATTEN = "a study file needs a few levels: flatten this value"
_PLAIN_TYPES = "text, numbers, true/false, null, lists and mappings"


@dataclass
class YamlSource:
    """Plain Python data from a YAML text plus a map from key paths to (line, column)."""

    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:end]))
            if pos is not None:
                return pos
        return None, None

    def place(self, problem: Problem) -> Problem:
        if problem.line is not None:
            return problem
        return problem.located(*self.locate(problem.path))


class YamlSyntaxError(Exception):
    """A text that cannot be read as a study file's YAML; ``problem`` says where and why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def byte_position(data: bytes, offset: int) -> tuple[int, int]:
    """The 1-based line and column of byte ``offset`` in ``data`` (columns count bytes)."""
    line = data.count(b"\n", 0, offset) + 1
    return line, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def parse_yaml(text: str) -> YamlSource:
    """Parse ``text``; raises :class:`YamlSyntaxError`, carrying a located problem."""
    _check_size(text)
    builder = _Builder()
    try:
        for event in _events(text):
            builder.add(event)
    except yaml.MarkedYAMLError as exc:
        mark = _culprit(exc, text)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        msg = exc.problem or exc.context or "malformed YAML"
        if "nesting depth" in msg:  # libyaml's own limit, met while it scans ahead
            raise _error(_TOO_DEEP, line, col, _FLATTEN) from None
        raise _error(f"YAML syntax error: {msg}", line, col, syntax_hint(msg)) from None
    except yaml.YAMLError as exc:
        raise _unreadable(text, exc) from None
    return YamlSource(builder.root, builder.positions)


def _culprit(exc: yaml.MarkedYAMLError, text: str) -> Any:
    """Where the mistake is. libyaml marks where it gave up: for a key without ':' that is
    the next line, and for a quote or bracket never closed the end of the file; the key, the
    quote or the bracket (its context's mark) is what to fix."""
    problem, context = exc.problem_mark, exc.context_mark
    if context is None or problem is None:
        return problem or context
    if exc.context == "while scanning a simple key" or problem.index >= len(text.rstrip()):
        return context
    return problem


# What most often causes each of libyaml's complaints, and how to fix it.
_SYNTAX_HINTS = (
    (
        "expected ',' or '}'",
        "close the braces of this {...} mapping, or put a comma between "
        "its entries; a value holding ',' or ':' needs quotes",
    ),
    (
        "expected ',' or ']'",
        "close the brackets of this [...] list, or put a comma between its "
        "items; an item holding ',' or ':' needs quotes",
    ),
    (
        "mapping values are not allowed",
        "a value holding ': ' needs quotes, or this line is indented deeper than its key's block",
    ),
    (
        "could not find expected ':'",
        "write each setting as 'key: value', a space after the ':'",
    ),
    (
        "cannot start any token",
        "YAML indents with spaces, not tabs; a value starting with @ or ` needs quotes",
    ),
    ("did not find expected key", "line this key up with the other keys of its block"),
    ("expected <block end>", "line this key up with the other keys of its block"),
    ("found unexpected end of stream", "close the quote opened here"),
)


def syntax_hint(message: str) -> str:
    """How to fix the YAML syntax error libyaml describes as ``message``."""
    for words, hint in _SYNTAX_HINTS:
        if words in message:
            return hint
    return (
        "check this line and the one above it: indentation (spaces, not tabs), a quote or "
        "bracket left open, a value holding ': ' without quotes"
    )


def _check_size(text: str) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate, from a text that never was a file
        line, col = _line_col(text, exc.start)
        raise _error(
            "this character is not valid Unicode", line, col, "delete it and type it again"
        ) from None
    if size > limits.MAX_FILE_BYTES:
        cut = text.encode("utf-8")[: limits.MAX_FILE_BYTES].decode("utf-8", errors="ignore")
        line, col = _line_col(cut, len(cut))
        raise _error(
            f"the study file is larger than {limits.MAX_FILE_BYTES:,} bytes; it passes the limit "
            "here",
            line,
            col,
            "a study file holds settings, not data: keep it under 1 MB",
        )


def _events(text: str) -> Iterator[events.Event]:
    loader = _Loader(text)
    try:
        while loader.check_event():
            yield loader.get_event()
    finally:
        loader.dispose()


def _unreadable(text: str, exc: yaml.YAMLError) -> YamlSyntaxError:
    bad = _NOT_ALLOWED.search(text)
    if bad is None:
        return _error(f"YAML syntax error: {exc}", 1, 1)
    line, col = _line_col(text, bad.start())
    return _error(
        f"the character U+{ord(bad[0]):04X} is not allowed in YAML",
        line,
        col,
        "delete it; YAML allows printable characters, tabs and line breaks",
    )


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _error(
    message: str, line: int | None, col: int | None, hint: str | None = None
) -> YamlSyntaxError:
    return YamlSyntaxError(Problem((), message, hint, line, col))


def _at(event: events.Event, message: str, hint: str | None = None) -> YamlSyntaxError:
    mark = event.start_mark
    return _error(message, mark.line + 1, mark.column + 1, hint)


@dataclass
class _Open:
    """A mapping or list being filled, and (for a mapping) the key whose value comes next."""

    value: dict[str, Any] | list[Any]
    path: KeyPath
    key: str | None = None


class _Builder:
    """Plain data and positions from a stream of YAML events, one event at a time."""

    def __init__(self) -> None:
        self.root: Any = None
        self.positions: dict[KeyPath, tuple[int, int]] = {(): (1, 1)}
        self.stack: list[_Open] = []
        self.values = 0
        self.documents = 0

    def add(self, event: events.Event) -> None:
        if isinstance(event, events.ScalarEvent):
            self._count(event)
            if self._wants_key():
                self._key(event)
            else:
                self._put(_scalar(event), event)
        elif isinstance(event, events.MappingStartEvent | events.SequenceStartEvent):
            self._count(event)
            self._open(event)
        elif isinstance(event, events.MappingEndEvent | events.SequenceEndEvent):
            self.stack.pop()
        elif isinstance(event, events.AliasEvent):
            raise _at(
                event,
                f"aliases (*{clip(event.anchor)}) are not supported in study files: "
                "write the value out",
                "anchors (&name) and aliases (*name) would let a short file grow without bound",
            )
        elif isinstance(event, events.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _at(
                    event,
                    "a study file holds one YAML document; a second one starts here",
                    "remove the '---' line and what follows, or merge the two",
                )

    def _count(self, event: events.Event) -> None:
        self.values += 1
        if self.values > limits.MAX_VALUES:
            raise _at(
                event,
                f"the study file holds more than {limits.MAX_VALUES:,} values",
                "a study file holds settings, not data: keep it short",
            )

    def _wants_key(self) -> bool:
        top = self.stack[-1] if self.stack else None
        return top is not None and isinstance(top.value, dict) and top.key is None

    def _key(self, event: events.ScalarEvent) -> None:
        top = self.stack[-1]
        value = _scalar(event)
        key = value if isinstance(value, str) else event.value
        if key == "<<" and event.implicit[0]:
            raise _at(
                event,
                "merge keys (<<) are not supported in study files: write the keys out",
                "copy the keys this mapping should share into it",
            )
        path = (*top.path, key)
        if key in top.value:
            line = self.positions[path][0]
            raise _at(
                event,
                f"'{clip(key)}' appears twice in this mapping",
                f"keep one; the first is on line {line}",
            )
        top.key = key
        self.positions[path] = (event.start_mark.line + 1, event.start_mark.column + 1)

    def _open(self, event: events.MappingStartEvent | events.SequenceStartEvent) -> None:
        is_map = isinstance(event, events.MappingStartEvent)
        if event.tag not in (None, "!", _CORE + ("map" if is_map else "seq")):
            raise _at(
                event,
                f"the YAML tag {_show_tag(event.tag)} is not supported in study files",
                f"remove it; study files hold {_PLAIN_TYPES}",
            )
        if self._wants_key():
            raise _at(
                event,
                "a key must be a word or a number, not a list or a mapping",
                "write the key as plain text",
            )
        if len(self.stack) >= limits.MAX_DEPTH:
            raise _at(event, _TOO_DEEP, _FLATTEN)
        value: dict[str, Any] | list[Any] = {} if is_map else []
        path = self._put(value, event)
        self.stack.append(_Open(value, path))

    def _put(self, value: Any, event: events.Event) -> KeyPath:
        """Place ``value`` where the stream has got to; returns its key path."""
        if not self.stack:
            self.root = value
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            path: KeyPath = (*top.path, len(top.value))
            top.value.append(value)
            self.positions[path] = (event.start_mark.line + 1, event.start_mark.column + 1)
            return path
        assert top.key is not None
        path = (*top.path, top.key)
        top.value[top.key] = value
        top.key = None
        return path


def _show_tag(tag: str) -> str:
    return clip("!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag)


def _scalar(event: events.ScalarEvent) -> Any:
    text, tag = event.value, event.tag
    if tag in (None, "!"):
        return _resolve(text) if event.implicit[0] else text
    kind = tag[len(_CORE) :] if tag.startswith(_CORE) else ""
    if kind == "str":
        return text
    if kind not in _TAGGED:
        raise _at(
            event,
            f"the YAML tag {_show_tag(tag)} is not supported in study files",
            f"remove it; study files hold {_PLAIN_TYPES}",
        )
    patterns, read, what = _TAGGED[kind]
    value = read(text) if any(p.fullmatch(text) for p in patterns) else _NOT_READ
    if value is _NOT_READ or isinstance(value, str):
        raise _at(
            event,
            f"{_short(text)} is not {what}, but it is tagged !!{kind}",
            f"write {what}, or remove the !!{kind} tag",
        )
    return value


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def _resolve(text: str) -> Any:
    """A plain (unquoted, untagged) scalar read by the YAML 1.2 core schema."""
    if not text:
        return None
    if len(text) > _MAX_DIGITS:  # no number or keyword is that long
        return text
    if text[0] not in "0123456789-+.tTfFnN~":
        return text
    if _BOOL.fullmatch(text):
        return text[0] in "tT"
    if _NULL.fullmatch(text):
        return None
    if _FLOAT.fullmatch(text):
        return _float(text)
    if _INT.fullmatch(text):
        return _int(text)
    return text


def _float(text: str) -> float | str:
    plain = text.replace("_", "").lower()
    sign = -1.0 if plain.startswith("-") else 1.0
    bare = plain.lstrip("+-")
    if bare == ".inf":
        return sign * math.inf
    if bare == ".nan":
        return math.nan
    try:
        return float(plain)
    except ValueError:
        return text


def _int(text: str) -> int | str:
    plain = text.replace("_", "")
    sign = -1 if plain.startswith("-") else 1
    bare = plain.lstrip("+-")
    base = {"0b": 2, "0x": 16, "0o": 8}.get(bare[:2], 10)
    digits = bare[2:] if base != 10 else bare
    if not digits or len(digits) > _MAX_DIGITS:
        return text
    try:
        return sign * int(digits, base)
    except ValueError:
        return text


def _tagged_float(text: str) -> float | str:
    value = _float(text) if _FLOAT.fullmatch(text) else _int(text)
    return value if isinstance(value, str) else float(value)


_NOT_READ = object()
# Explicit tags of the plain types (!!int 5): the patterns the text must match, the reader,
# and what the tag promises, for the message when the text breaks the promise.
_TAGGED: dict[str, tuple[tuple[re.Pattern[str], ...], Any, str]] = {
    "int": ((_INT,), _int, "a whole number"),
    "float": ((_FLOAT, _INT), _tagged_float, "a number"),
    "bool": ((_BOOL,), lambda text: text[0] in "tT", "true or false"),
    "null": ((_NULL,), lambda text: None, "null"),
}
