"""The private parts of Textual and plotext that rltui reaches, each checked by name.

Every reach lives in :mod:`rltui.ui.textual.internals`. When an installed Textual or plotext
renames, removes or reshapes one, a test here fails naming it, before a user meets a broken
table, editor, palette, chart or key. The last tests keep the reaches in that one module.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections import defaultdict
from pathlib import Path
from typing import Any, ClassVar

import plotext
import textual
from rich.text import Text
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, TextArea
from textual.widgets.data_table import ColumnKey, RowKey
from textual.worker import Worker
from textual_plotext.plot import Plot

import rltui.ui
from rltui.ui.textual import internals
from rltui.ui.textual.internals import (
    ROW_CACHES,
    HookedCommandPalette,
    HookedTextArea,
    LiveDataTable,
    key_of_sequence,
    keys_read_from,
    notifications,
    size_plot,
)

UI = Path(rltui.ui.__file__).parent
INTERNALS = Path(internals.__file__)
VERSIONS = f"textual {textual.__version__}, plotext {plotext.__version__}"


def private(owner: Any, name: str, where: str) -> Any:
    """``owner.name``, or a failure naming what changed and what relies on it."""
    assert hasattr(owner, name), (
        f"{VERSIONS}: {getattr(owner, '__qualname__', owner)}.{name} is gone; "
        f"rltui.ui.textual.internals.{where} relies on it"
    )
    return getattr(owner, name)


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


# Keys ------------------------------------------------------------------------------------


def test_esc_and_a_digit_are_read_as_one_character_with_a_key_name():
    from textual import _ansi_sequences, keys

    table = private(_ansi_sequences, "ANSI_SEQUENCES_KEYS", "key_of_sequence")
    assert isinstance(table, dict), "ANSI_SEQUENCES_KEYS is no longer a dict"
    to_key = private(keys, "_character_to_key", "key_of_sequence")
    assert parameters(to_key) == ["character"], "_character_to_key takes other arguments"
    name = key_of_sequence("\x1b1")
    assert name and name != "alt+1", "ESC 1 is no longer read as one printable character"
    assert key_of_sequence("\x1b[A") is None, "an arrow key read as a printable character"


def test_the_terminal_parser_names_the_keys_as_the_key_tables_say():
    from textual import _xterm_parser

    parser = private(_xterm_parser, "XTermParser", "keys_read_from")
    assert parameters(parser.feed) == ["self", "data"], "XTermParser.feed takes other arguments"
    assert keys_read_from("\x1b1") == [key_of_sequence("\x1b1")]
    assert keys_read_from("ab") == ["a", "b"]


def test_the_driver_reads_keys_with_the_parser_rltui_installs(monkeypatch):
    from textual import _xterm_parser
    from textual.drivers import linux_driver

    from rltui.ui.textual.internals import TypeaheadParser, install_typeahead_parser

    assert private(linux_driver, "XTermParser", "install_typeahead_parser") is (
        _xterm_parser.XTermParser
    ), "the Linux driver no longer makes its parser from the name XTermParser"
    split = private(_xterm_parser.XTermParser, "_sequence_to_key_events", "TypeaheadParser")
    assert parameters(split)[:3] == ["self", "sequence", "alt"], (
        "XTermParser._sequence_to_key_events takes other arguments"
    )
    monkeypatch.setattr(linux_driver, "XTermParser", linux_driver.XTermParser)
    install_typeahead_parser()
    assert linux_driver.XTermParser is TypeaheadParser


def test_tree_sitter_availability_is_a_flag():
    from textual import _tree_sitter

    assert isinstance(private(_tree_sitter, "TREE_SITTER", "TREE_SITTER"), bool)


# The app ---------------------------------------------------------------------------------


async def test_the_apps_notifications_can_be_read():
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.notify("hello", title="a note")
        await pilot.pause()
        shown = notifications(app)
        assert [(n.message, n.title) for n in shown] == [("hello", "a note")], (
            f"{VERSIONS}: App._notifications no longer holds the notifications shown"
        )


def test_toasts_are_widgets():
    from textual.widgets import _toast

    assert issubclass(private(_toast, "Toast", "Toast"), Widget)


# DataTable -------------------------------------------------------------------------------


def test_datatable_keeps_the_private_state_live_tables_change():
    table: DataTable[str] = DataTable()
    for name in (*ROW_CACHES, "_data", "_row_locations"):
        cache = private(table, name, "LiveDataTable")
        if name in ROW_CACHES:
            assert hasattr(cache, "keys") and hasattr(cache, "discard") and hasattr(cache, "clear")
    assert isinstance(private(table, "_update_count", "LiveDataTable"), int)
    for name in ("_total_row_height", "_row_label_column_width"):
        assert isinstance(private(DataTable, name, "LiveDataTable"), property)
    update = private(DataTable, "_update_dimensions", "LiveDataTable._update_dimensions")
    assert parameters(update) == ["self", "new_rows"], "_update_dimensions takes other arguments"
    assert parameters(DataTable.refresh_row) == ["self", "row_index"]


class Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveDataTable[str](id="live")
        yield DataTable[str](id="plain")

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_column("a", width=4, key="a")
            table.add_column("b", width=6, key="b")
            for number in range(5):
                table.add_row(f"a{number}", f"b{number}", key=str(number))


async def test_a_live_table_forgets_one_rows_rendering_and_sizes_as_datatable_does():
    app = Tables()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        live = app.query_one("#live", LiveDataTable)
        plain = app.query_one("#plain", DataTable)
        assert live.virtual_size == plain.virtual_size, "fixed widths: sized as DataTable does"
        assert {RowKey("1"), RowKey("2")} <= live.cached_rows(), "the rows were rendered"
        generation = live.render_generation
        live.row_cells(RowKey("1"))[ColumnKey("a")] = "new"
        live.forget_rendering({RowKey("1")})
        assert RowKey("1") not in live.cached_rows() and RowKey("2") in live.cached_rows()
        assert live.render_generation == generation, "every row was forgotten"
        await pilot.pause()
        assert live.get_cell("1", "a") == "new"
        assert "new" in "".join(segment.text for segment in live.render_line(2))  # row 1


# TextArea --------------------------------------------------------------------------------


def test_textarea_keeps_the_private_methods_and_state_the_hooks_wrap():
    for name, arguments in (
        ("_on_key", ["self", "event"]),
        ("_build_highlight_map", ["self"]),
        ("_render_line", ["self", "y"]),
    ):
        method = private(TextArea, name, f"HookedTextArea.{name}")
        assert parameters(method) == arguments, f"TextArea.{name} takes other arguments"
    assert inspect.iscoroutinefunction(TextArea._on_key), "TextArea._on_key is no longer async"
    area = TextArea("a: 1\nb: 2")
    assert isinstance(private(area, "_highlights", "HookedTextArea"), defaultdict)
    private(area, "_highlight_query", "HookedTextArea")
    assert hasattr(private(area, "_line_cache", "HookedTextArea"), "clear")
    offsets = private(area.wrapped_document, "_offset_to_line_info", "document_place")
    assert isinstance(offsets, list)


class Editor(HookedTextArea):
    def __init__(self) -> None:
        self.calls: dict[str, list[Any]] = defaultdict(list)
        super().__init__("key: value\nother: 2")

    async def key_pressed(self, event: Any) -> bool:
        self.calls["key"].append(event.key)
        return event.key == "x"  # x is handled here: never typed

    def add_highlights(self, highlights: dict[int, list[Any]], tree_sitter: bool) -> None:
        self.calls["highlights"].append(tree_sitter)
        highlights[1].append((0, None, "mark"))

    def decorate_line(self, strip: Strip, y: int) -> Strip:
        self.calls["line"].append(y)
        return strip


class Editing(App[None]):
    def compose(self) -> ComposeResult:
        yield Editor()


async def test_the_text_area_hooks_run_where_textarea_would():
    app = Editing()
    async with app.run_test(size=(40, 10)) as pilot:
        editor = app.query_one(Editor)
        editor.focus()
        await pilot.pause()
        assert editor.calls["highlights"], "add_highlights never ran"
        assert editor._highlights[1][-1] == (0, None, "mark"), "the added highlight was dropped"
        assert editor.calls["line"], "decorate_line never ran"
        assert editor.document_place(0) == (0, 0) and editor.document_place(50) is None
        await pilot.press("x", "y")
        assert editor.calls["key"][-2:] == ["x", "y"]
        assert editor.text.startswith("y") and "x" not in editor.text
        editor.forget_rendered_lines()
        assert not editor._line_cache.keys()
        editor.rebuild_highlights()
        assert len(editor.calls["highlights"]) >= 2


# The command palette ---------------------------------------------------------------------


def test_the_command_palette_keeps_its_search_and_select_methods():
    gather = private(CommandPalette, "_gather_commands", "HookedCommandPalette._gather_commands")
    assert parameters(gather) == ["self", "search_value"], "_gather_commands changed"
    assert hasattr(gather, "__wrapped__"), "_gather_commands is no longer a @work method"
    select = private(CommandPalette, "_select_or_command", "run_highlighted")
    assert parameters(select)[:1] == ["self"]
    assert all(
        p.default is not inspect.Parameter.empty
        for p in list(inspect.signature(select).parameters.values())[1:]
    ), "_select_or_command needs an argument"


class Palette(HookedCommandPalette):
    searches: ClassVar[list[Worker[Any]]] = []

    def search_started(self, search: Worker[Any]) -> None:
        self.searches.append(search)


async def test_each_search_of_the_palette_is_seen():
    app: App[None] = App()
    async with app.run_test() as pilot:
        app.push_screen(Palette())
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert Palette.searches and all(isinstance(s, Worker) for s in Palette.searches), (
            f"{VERSIONS}: CommandPalette._gather_commands no longer returns its search's worker"
        )


# plotext ---------------------------------------------------------------------------------


def test_a_plot_is_drawn_at_the_size_asked():
    from plotext._figure import _figure_class

    set_size = private(_figure_class, "_set_size", "size_plot")
    assert parameters(set_size) == ["self", "width", "height"], "_set_size changed"
    plot = Plot()
    plot.clear_figure()
    plot.theme("clear")
    size_plot(plot, 300, 7)  # wider than any terminal plotext could measure here
    plot.plot([1, 2, 3], [3, 1, 2])
    lines = Text.from_ansi(plot.build()).plain.splitlines()
    assert len(lines) == 7 and {len(line) for line in lines} == {300}


# One module ------------------------------------------------------------------------------


def _defined_here(tree: ast.AST) -> set[str]:
    """Names a module defines or assigns itself (its own private attributes included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):  # not +=: that changes, not defines
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, ast.Attribute):
                        names.add(part.attr)
                    elif isinstance(part, ast.Name):
                        names.add(part.id)
    return names


def _reaches(path: Path) -> list[str]:
    """Private names of other code that ``path`` uses: from a library's private module, a
    private name imported, ``obj._name`` of an object not its own, ``getattr(x, "_name")``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _defined_here(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(UI.parent.parent)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            names = [alias.name for alias in node.names]
            if parts[0] not in ("rltui", "__future__") and (
                any(p.startswith("_") for p in parts) or any(n.startswith("_") for n in names)
            ):
                found.append(f"{where} from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            if node.attr.startswith("__") or node.attr in own:
                continue
            found.append(f"{where} .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and str(node.args[1].value).startswith("_")
        ):
            found.append(f"{where} {node.func.id}(..., {node.args[1].value!r})")
    return found


def test_only_the_internals_module_reaches_private_parts():
    reaches = [
        reach for path in sorted(UI.rglob("*.py")) if path != INTERNALS for reach in _reaches(path)
    ]
    assert reaches == [], "reach these through rltui.ui.textual.internals"


def test_only_the_internals_module_overrides_private_methods():
    overrides = []
    for module in pkgutil.walk_packages(rltui.ui.__path__, "rltui.ui."):
        loaded = importlib.import_module(module.name)
        if loaded is internals:
            continue
        for cls in vars(loaded).values():
            if not inspect.isclass(cls) or cls.__module__ != loaded.__name__:
                continue
            outside = [base for base in cls.__mro__[1:] if not base.__module__.startswith("rltui")]
            for name, value in vars(cls).items():
                if not name.startswith("_") or name.startswith("__"):
                    continue
                if inspect.isfunction(value) and any(name in vars(b) for b in outside):
                    overrides.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert overrides == [], "override a hook of rltui.ui.textual.internals instead"
