"""A small YAML highlighter for study files, used when tree-sitter is not installed.

Textual's TextArea highlights through tree-sitter (``textual[syntax]``), which a remote box
may lack; study files are short and regular, so a line-by-line regex pass covers them: keys,
comments, strings, numbers, booleans and the search-space grammar's functions. Offsets are
in bytes, as TextArea's highlight map expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Highlight = tuple[int, int | None, str]
"""(start, end or None for the line's end, highlight name), as TextArea keeps them: offsets
in bytes in a highlight map, in characters from :func:`line_highlights`."""

_KEY = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w.\-]*)(\s*:)(?=\s|$)")
_INLINE_KEY = re.compile(r"(?<=[{,]\s)([A-Za-z_][\w.\-]*)(:)|(?<=\{)([A-Za-z_][\w.\-]*)(:)")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'")
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_BOOL = re.compile(r"(?<![\w.])(?:true|false|null|True|False|yes|no|~)(?![\w.])")
_CALL = re.compile(r"\b(choice|range|interval|int|tag|log|grid_search)(?=\()")


def _comment_start(line: str) -> int | None:
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return index
    return None


def line_highlights(line: str) -> list[Highlight]:
    """Highlights of one line as (start, end, name) in character offsets."""
    out: list[Highlight] = []
    cut = _comment_start(line)
    code = line if cut is None else line[:cut]
    if cut is not None:
        out.append((cut, len(line), "comment"))
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    key = _KEY.match(code)
    if key:
        out.append((key.start(2), key.end(2), "yaml.field"))
        taken.append((0, key.end(3)))
    for match in _INLINE_KEY.finditer(code):
        group = 1 if match.group(1) else 3
        out.append((match.start(group), match.end(group), "yaml.field"))
        taken.append((match.start(group), match.end(group)))
    for match in _STRING.finditer(code):
        if free(*match.span()):
            out.append((*match.span(), "string"))
            taken.append(match.span())
    for pattern, name in ((_CALL, "function.call"), (_BOOL, "boolean"), (_NUMBER, "number")):
        for match in pattern.finditer(code):
            if free(*match.span()):
                out.append((*match.span(), name))
                taken.append(match.span())
    return out


def highlight_map(lines: Iterable[str]) -> dict[int, list[Highlight]]:
    """Highlights for each line, in byte offsets."""
    result: dict[int, list[Highlight]] = {}
    for index, line in enumerate(lines):
        found = line_highlights(line)
        if not found:
            continue
        if line.isascii():
            result[index] = found
        else:
            result[index] = [
                (_bytes(line, s), None if e is None else _bytes(line, e), n) for s, e, n in found
            ]
    return result


def _bytes(line: str, offset: int) -> int:
    return len(line[:offset].encode("utf-8"))
