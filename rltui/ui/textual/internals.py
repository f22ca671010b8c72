"""Every reach into Textual's and plotext's private parts, in one module.

Each is the only way to get something rltui needs (keys named as the user meant them, a
10,000-trial table that updates one row at a time, an editor that marks problem lines, a
palette whose Enter never runs a stale entry, charts of the widget's size). Each is small,
named after what it does for rltui, and checked by ``tests/ui/test_textual_internals.py``,
which fails naming the private part when an installed Textual or plotext no longer has it as
used here; the versions that test covers are pinned in ``pyproject.toml``.

A private method that must be overridden is overridden here, once, in a base class that turns
it into a documented hook (:class:`LiveDataTable`, :class:`HookedTextArea`,
:class:`HookedCommandPalette`); rltui's widgets subclass these and override the hooks.
"""

from __future__ import annotations

import array
import fcntl
import os
import sys
import termios
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual._tree_sitter import TREE_SITTER as _TREE_SITTER
from textual._xterm_parser import XTermParser
from textual.command import CommandPalette
from textual.drivers import linux_driver
from textual.geometry import Size
from textual.keys import _character_to_key
from textual.notifications import Notification
from textual.widgets import DataTable, TextArea
from textual.widgets._toast import Toast
from textual.widgets.data_table import ColumnKey, RowKey

from rltui.ui.models.yaml_highlight import Highlight

if TYPE_CHECKING:
    from textual.app import App
    from textual.strip import Strip
    from textual.worker import Worker
    from textual_plotext.plot import Plot

__all__ = [
    "TREE_SITTER",
    "HookedCommandPalette",
    "HookedTextArea",
    "LiveDataTable",
    "Toast",
    "install_typeahead_parser",
    "key_of_sequence",
    "keys_read_from",
    "notifications",
    "size_plot",
]

CellType = TypeVar("CellType")

# Whether tree-sitter and its YAML grammar are installed (``textual[syntax]``): TextArea
# highlights with it; without it the editor uses rltui's own highlighter.
TREE_SITTER: bool = _TREE_SITTER


# Keys ----------------------------------------------------------------------------------


def key_of_sequence(sequence: str) -> str | None:
    """The key name Textual gives ``sequence`` when it reads those bytes as one printable
    character (``ESC 1`` is macOS's Option+1, ``¡``: ``inverted_exclamation_mark``), or None
    when it reads them otherwise."""
    character = ANSI_SEQUENCES_KEYS.get(sequence)
    if isinstance(character, str) and len(character) == 1:
        return _character_to_key(character)
    return None


def keys_read_from(data: str, typed_ahead: int = 0) -> list[str]:
    """The key names rltui's terminal parser makes of ``data``, as the app would see them;
    ``typed_ahead``: how many of its characters were typed before the terminal was raw."""
    parser = TypeaheadParser(typed_ahead=typed_ahead)
    return [getattr(event, "key", "") for event in parser.feed(data)]


ESC = "\x1b"
# What may follow ESC in a sequence a terminal sends: CSI, SS3, OSC, DCS, APC, ST, and the
# second character of every ESC sequence in Textual's key table (ESC b, ESC 1, ESC Tab, ...).
SEQUENCE_STARTS = frozenset("[O]P_\\") | frozenset(
    sequence[1] for sequence in ANSI_SEQUENCES_KEYS if sequence[:1] == ESC and len(sequence) > 1
)
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


class TypeaheadParser(XTermParser):
    """Textual's terminal parser, which reads Esc followed by a key that cannot start an
    escape sequence as that key with Alt, as Textual does when nothing follows them.

    With more typed behind them in the same read, Textual went on reading a sequence until 32
    characters or the next ESC (an arrow key), then gave them back as plain keys with the ESC
    turned into ``^``: ``Esc p Down`` in the editor typed ``^p`` into the study file.

    And keys typed while the window starts, before the terminal is switched to raw mode, were
    turned by the terminal's line discipline from Enter (CR) into LF, which Textual reads as
    ctrl+j: ``/ state:complete Enter`` typed as the window started left the focus in the
    filter line, and ctrl+j folds the bottom panel. ``typed_ahead`` characters (by default
    what is waiting on standard input when the parser is made, which the driver does once the
    terminal is raw) are read with their LF as Enter."""

    def __init__(self, debug: bool = False, typed_ahead: int | None = None) -> None:
        super().__init__(debug)
        self._pasting = False  # inside a bracketed paste: its text is not keys
        self._cooked = waiting_on_stdin() if typed_ahead is None else typed_ahead

    def feed(self, data: str) -> Iterator[Any]:
        if self._cooked:
            head, self._cooked = data[: self._cooked], max(0, self._cooked - len(data))
            data = head.replace("\n", "\r") + data[len(head) :]
        start = 0
        for index in range(len(data) - 1):
            if data[index] != ESC or index < start:
                continue
            if data.startswith((PASTE_START, PASTE_END), index):
                self._pasting = data.startswith(PASTE_START, index)
                continue
            if self._pasting or data[index + 1] in SEQUENCE_STARTS:
                continue
            if index > start:
                yield from super().feed(data[start:index])
            keys = list(self._sequence_to_key_events(data[index + 1], alt=True))
            if not any(key.key.startswith("alt+") for key in keys):  # Enter, Backspace, ...
                yield events.Key("escape", ESC)
            yield from keys
            start = index + 2
        if start < len(data) or not data:  # "" is the end of input
            yield from super().feed(data[start:])


def waiting_on_stdin() -> int:
    """How many bytes wait to be read on standard input, when it is a terminal; else 0."""
    try:
        stdin = sys.__stdin__
        if stdin is None or not os.isatty(stdin.fileno()):
            return 0
        waiting = array.array("i", [0])
        fcntl.ioctl(stdin.fileno(), termios.FIONREAD, waiting)
        return max(0, waiting[0])
    except (OSError, ValueError):
        return 0


def install_typeahead_parser() -> None:
    """Make Textual's terminal driver read keys with :class:`TypeaheadParser`."""
    linux_driver.XTermParser = TypeaheadParser  # type: ignore[misc]


# The app ---------------------------------------------------------------------------------


def notifications(app: App[Any]) -> list[Notification]:
    """The notifications the app shows now, oldest first."""
    return list(app._notifications)


# DataTable -------------------------------------------------------------------------------

# DataTable's render caches that forget_rendering trims row by row: keys (row key, column
# key, ...), (row key, line, ...), (update count, row index), and screen lines.
ROW_CACHES = ("_cell_render_cache", "_row_render_cache", "_row_renderable_cache", "_line_cache")


class LiveDataTable(DataTable[CellType]):
    """A DataTable for live data: a row's cells change in place and only that row is
    rendered again; rows added to a table whose columns all have fixed widths (and whose rows
    have one line and no label) are not measured.

    ``update_cell`` would change a cell too, but each call makes the table forget how every
    row renders (one global counter keys all its caches): with running trials' progress and
    durations changing every poll, each poll cost a re-render of the whole visible table and a
    walk over all rows (35 ms for 10,000 rows), and a key pressed just after waited for it.
    """

    def row_cells(self, row_key: RowKey) -> dict[ColumnKey, CellType]:
        """The row's cells by column, to change in place; then :meth:`forget_rendering`."""
        return self._data[row_key]

    def forget_rendering(self, rows: set[RowKey]) -> None:
        """Drop the cached rendering of ``rows`` and repaint them alone."""
        if not rows:
            return
        caches: list[Any] = [getattr(self, name, None) for name in ROW_CACHES]
        if not all(hasattr(cache, "keys") and hasattr(cache, "discard") for cache in caches):
            self._update_count += 1  # a DataTable laid out otherwise: forget every row
            self.refresh()
            return
        cells, row_lines, renderables, lines = caches
        located = (self._row_locations.get(key) for key in rows)
        indices = {index for index in located if index is not None}
        for cache, position, wanted in (
            (cells, 0, rows),
            (row_lines, 0, rows),
            (renderables, 1, indices),
        ):
            for key in [k for k in cache.keys() if k[position] in wanted]:  # noqa: SIM118
                cache.discard(key)
        lines.clear()  # keyed by screen line: rebuilt cheaply from the rows' caches
        # Repaint those rows alone: a whole-table refresh would send every visible row and
        # the scrollbar to the terminal again (about 25 kB/s over SSH while trials run).
        for index in indices:
            self.refresh_row(index)

    def cached_rows(self) -> set[RowKey]:
        """The rows whose cells have a cached rendering (what :meth:`forget_rendering` drops)."""
        return {key[0] for key in self._cell_render_cache.keys()}  # noqa: SIM118

    @property
    def render_generation(self) -> int:
        """Bumped each time the table forgets how every row renders."""
        return self._update_count

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # Every column has a fixed width and every row a height of 1, so there is nothing to
        # measure: DataTable would render every cell of every new row to find column widths
        # (about 2 s for 10,000 rows). Only the scrollable size changes.
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )


# TextArea --------------------------------------------------------------------------------


class HookedTextArea(TextArea):
    """A TextArea with hooks over three of its private methods, and two reads of its state.

    - :meth:`key_pressed` sees every key before TextArea handles it;
    - :meth:`add_highlights` adds to the highlight map TextArea has just built;
    - :meth:`decorate_line` changes a line of the widget as TextArea rendered it;
    - :meth:`document_place` tells which document line a widget line shows;
    - :meth:`forget_rendered_lines` and :meth:`rebuild_highlights` drop what TextArea cached.
    """

    async def key_pressed(self, event: events.Key) -> bool:
        """Handle ``event`` before TextArea does; True when handled (TextArea then does not)."""
        return False

    def add_highlights(self, highlights: dict[int, list[Highlight]], tree_sitter: bool) -> None:
        """Add to ``highlights`` (line → highlights; a defaultdict) after TextArea built them;
        ``tree_sitter``: whether TextArea highlighted the language itself."""

    def decorate_line(self, strip: Strip, y: int) -> Strip:
        """The widget's line ``y`` as shown: ``strip`` is TextArea's rendering of it."""
        return strip

    def document_place(self, y: int) -> tuple[int, int] | None:
        """(document line, wrapped section) shown on the widget's line ``y``; None below the
        text."""
        try:
            row, section = self.wrapped_document._offset_to_line_info[y + self.scroll_offset.y]
        except IndexError:
            return None
        return row, section

    def forget_rendered_lines(self) -> None:
        """Render every line again (after a change of theme)."""
        self._line_cache.clear()

    def rebuild_highlights(self) -> None:
        """Build the highlight map again (calling :meth:`add_highlights`)."""
        self._build_highlight_map()

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs the key handler of every class in the MRO: TextArea's own comes next,
        # unless the default is prevented.
        if await self.key_pressed(event):
            event.prevent_default()
            return
        await super()._on_key(event)

    def _build_highlight_map(self) -> None:
        super()._build_highlight_map()
        self.add_highlights(self._highlights, bool(self._highlight_query))

    def _render_line(self, y: int) -> Strip:
        return self.decorate_line(super()._render_line(y), y)


# The command palette ---------------------------------------------------------------------


class HookedCommandPalette(CommandPalette):
    """Textual's command palette with a hook on each search it starts
    (:meth:`search_started`), and :meth:`run_highlighted`, what its Enter does."""

    def search_started(self, search: Worker[Any]) -> None:
        """A search for the text typed so far started: the list shows its hits when
        ``search`` ends."""

    def run_highlighted(self) -> None:
        """Run the highlighted entry, or complete the input with it, as Enter does."""
        self._select_or_command()

    def _gather_commands(self, search_value: str) -> Worker[Any]:
        # Textual's method is a @work method: calling it starts the search and returns its
        # worker, the one whose end means the list shows this text's hits.
        search: Worker[Any] = super()._gather_commands(search_value)
        self.search_started(search)
        return search


# plotext ---------------------------------------------------------------------------------


def size_plot(plot: Plot, width: int, height: int) -> None:
    """Make plotext draw ``plot`` at ``width`` × ``height`` characters.

    ``plotsize`` caps the size at what plotext measured of the terminal (not the widget's);
    this sets it as given, as textual-plotext's own widget does after ``plotsize``."""
    plot.plotsize(width, height)
    plot._set_size(width, height)
