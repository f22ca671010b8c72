"""Reading rl-baselines3-zoo's hyperparams files as the zoo reads them, with bounded cost.

The zoo reads its files with PyYAML's ``safe_load`` (YAML 1.1: ``!!float 1e6``, ``True``), and
its files use anchors and merge keys (``<<: *mujoco-defaults``), which rltui's study-file
reader refuses. Here a file is first scanned event by event (size, depth, one document), then
composed into PyYAML's node graph, in which an alias is a second reference to the same node,
so the graph is as small as the text. Only then is one entry built, copying what aliases and
merge keys point to while counting every value: a file whose aliases would expand without
bound (a "billion laughs") or refer to themselves stops at :data:`limits.MAX_VALUES` values,
with a message, long before time or memory run out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml import events, nodes
from yaml.constructor import SafeConstructor

from rltui.convert import ConversionError
from rltui.spec import limits
from rltui.spec.source import byte_position

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # PyYAML built without libyaml: the same nodes, read more slowly
    from yaml import SafeLoader as _Loader

_CORE = "tag:yaml.org,2002:"
_MERGE = _CORE + "merge"
_COLLECTION_TAGS = {nodes.SequenceNode: _CORE + "seq", nodes.MappingNode: _CORE + "map"}
_PLAIN = (str, int, float, bool, type(None))
_WHAT_IS_READ = "a zoo file holds text, numbers, true/false, null, lists and mappings"


@dataclass(frozen=True)
class ZooDocument:
    """A hyperparams file, composed: its top-level keys (env ids, ``atari``, ``default``), each
    with the node of its entry, built into plain values on demand by :meth:`entry`."""

    path: Path
    entries: dict[str, nodes.Node]

    def entry(self, key: str) -> Any:
        """The entry under ``key`` as plain Python values, as ``yaml.safe_load`` would give it;
        raises :class:`ConversionError` when it expands past the bound or holds other types."""
        return _Builder(self.path, key).value(self.entries[key], 1)


def read_hyperparams(path: Path) -> ZooDocument:
    """Read and compose a zoo hyperparams file; raises :class:`ConversionError` (with the file,
    the line and the fix) for a file that cannot be read or is not a mapping of entries."""
    where = str(path)
    try:
        with open(path, "rb") as file:
            data = file.read(limits.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConversionError(
            f"{where}: no such file",
            "give the path of a zoo hyperparams file, such as rl_zoo3/hyperparams/ppo.yml",
        ) from None
    except IsADirectoryError:
        raise ConversionError(f"{where} is a folder", "give one hyperparams file in it") from None
    except OSError as exc:
        raise ConversionError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise ConversionError(
            f"{where} is larger than {limits.MAX_FILE_BYTES:,} bytes",
            "a zoo hyperparams file holds settings: the zoo's own are under 50 kB",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = byte_position(data, exc.start)
        raise ConversionError(
            f"{where}:{line}:{column}: not UTF-8 text", "a zoo hyperparams file is YAML text"
        ) from None
    _scan(text, where)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where) from None
    if not isinstance(root, nodes.MappingNode):
        raise ConversionError(
            f"{where} is not a zoo hyperparams file: it should map env ids to their settings "
            "(CartPole-v1: {n_timesteps: ..., policy: ...})"
        )
    return ZooDocument(path, _top_entries(root, where))


def _scan(text: str, where: str) -> None:
    """Refuse, from the event stream and in constant memory, what composing would pay for:
    nesting past :data:`limits.MAX_DEPTH`, and more than one document."""
    depth = documents = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, events.CollectionStartEvent):
                depth += 1
                if depth > limits.MAX_DEPTH:
                    raise _at(where, event, f"it nests more than {limits.MAX_DEPTH} levels deep")
            elif isinstance(event, events.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, events.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _at(
                        where,
                        event,
                        "it holds more than one YAML document",
                        "a hyperparams file is one mapping of env ids",
                    )
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, where) from None


def _top_entries(root: nodes.MappingNode, where: str) -> dict[str, nodes.Node]:
    entries: dict[str, nodes.Node] = {}
    merged: dict[str, nodes.Node] = {}
    for key, value in root.value:
        if key.tag == _MERGE:
            for source in _merge_sources(value, where):
                for inner_key, inner_value in source.value:
                    if isinstance(inner_key, nodes.ScalarNode):
                        merged.setdefault(str(inner_key.value), inner_value)
        elif isinstance(key, nodes.ScalarNode):
            entries[str(key.value)] = value
        else:
            raise _at(where, key, "a top-level key is not an env id", "write env ids as keys")
    return {**merged, **entries}


def _merge_sources(node: nodes.Node, where: str) -> list[nodes.MappingNode]:
    if isinstance(node, nodes.MappingNode):
        return [node]
    if isinstance(node, nodes.SequenceNode) and all(
        isinstance(item, nodes.MappingNode) for item in node.value
    ):
        return list(node.value)
    raise _at(where, node, "a merge key (<<) takes a mapping or a list of mappings")


class _Builder:
    """Builds one entry from its nodes, counting values against the bound."""

    def __init__(self, path: Path, key: str):
        self.where, self.key = str(path), key
        self.left = limits.MAX_VALUES
        self.scalars = SafeConstructor()

    def value(self, node: nodes.Node, depth: int) -> Any:
        self.left -= 1
        if self.left < 0:
            raise _at(
                self.where,
                node,
                f"the entry '{self.key}' expands to more than {limits.MAX_VALUES:,} values "
                "through its aliases",
                "an entry holds a few dozen settings: write them out",
            )
        if depth > limits.MAX_DEPTH:  # aliases can nest deeper than the text does
            raise _at(self.where, node, f"the entry '{self.key}' nests too deeply")
        if isinstance(node, nodes.ScalarNode):
            return self.scalar(node)
        expected = _COLLECTION_TAGS.get(type(node))
        if node.tag != expected:
            raise _at(self.where, node, f"the tag {node.tag} is not read", _WHAT_IS_READ)
        if isinstance(node, nodes.SequenceNode):
            return [self.value(item, depth + 1) for item in node.value]
        assert isinstance(node, nodes.MappingNode)
        return self.mapping(node, depth)

    def mapping(self, node: nodes.MappingNode, depth: int) -> dict[Any, Any]:
        own: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                # As PyYAML merges: the mapping's own keys win, then the first source's.
                for source in _merge_sources(value_node, self.where):
                    for key, value in self.value(source, depth + 1).items():
                        merged.setdefault(key, value)
                continue
            key = self.value(key_node, depth + 1)
            if not isinstance(key, _PLAIN):
                raise _at(self.where, key_node, "a key is a list or mapping", "keys are text")
            own[key] = self.value(value_node, depth + 1)
        return {**merged, **own}

    def scalar(self, node: nodes.ScalarNode) -> Any:
        try:
            value = self.scalars.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            message = f"cannot read this value: {problem}"
            raise _at(self.where, node, message, _WHAT_IS_READ) from None
        if not isinstance(value, _PLAIN):
            raise _at(
                self.where, node, f"a {type(value).__name__} value is not read", _WHAT_IS_READ
            )
        return value


def _at(where: str, item: Any, message: str, hint: str | None = None) -> ConversionError:
    mark = getattr(item, "start_mark", None)
    if mark is not None:
        where = f"{where}:{mark.line + 1}:{mark.column + 1}"
    return ConversionError(f"{where}: {message}", hint)


def _yaml_error(exc: yaml.YAMLError, where: str) -> ConversionError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        where = f"{where}:{mark.line + 1}:{mark.column + 1}"
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or str(exc)
    return ConversionError(f"{where}: not valid YAML: {problem}")
