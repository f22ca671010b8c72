"""Reading YAML so that every value keeps the line it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from rltui.spec.problems import KeyPath, Problem


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


def parse_yaml(text: str) -> YamlSource:
    """Parse ``text``; raises :class:`Problem`-carrying ``YamlSyntaxError`` on bad YAML."""
    yaml = YAML(typ="rt")
    try:
        raw = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        msg = exc.problem or exc.context or "malformed YAML"
        problem = Problem((), f"YAML syntax error: {msg}", line=line, column=col)
        raise YamlSyntaxError(problem) from None
    except YAMLError as exc:
        raise YamlSyntaxError(Problem((), f"YAML syntax error: {exc}")) from None
    positions: dict[KeyPath, tuple[int, int]] = {(): (1, 1)}
    return YamlSource(_plain(raw, (), positions), positions)


class YamlSyntaxError(Exception):
    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _plain(node: Any, path: KeyPath, positions: dict[KeyPath, tuple[int, int]]) -> Any:
    # ruamel's round-trip types carry positions; the rest of rltui wants plain dicts and lists.
    if isinstance(node, CommentedMap):
        out = {}
        for key, value in node.items():
            child = (*path, str(key))
            try:
                line, col = node.lc.key(key)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            out[str(key)] = _plain(value, child, positions)
        return out
    if isinstance(node, CommentedSeq):
        out_list = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                line, col = node.lc.item(index)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError, IndexError):
                pass
            out_list.append(_plain(value, child, positions))
        return out_list
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node
