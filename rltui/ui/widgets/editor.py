"""The study-file editor: a YAML TextArea that marks the lines with problems.

Keys are handled in the order they were typed. Textual inserts a printable key as soon as the
editor's queue reaches it, but resolves a bound key (a cursor move, ctrl+s) only after the key
has bubbled up through every parent's queue; a burst such as ``Down Down End ZZ`` (SSH
typeahead) then inserted ``ZZ`` before the cursor moved. Here every key bound on the editor or
its parents runs from the editor's own queue, in turn with the typing. Keys that move the focus
elsewhere are the screen's priority bindings, decided in the app's queue, in typing order too.

Highlighting uses tree-sitter when ``textual[syntax]`` is installed and a small regex pass
otherwise. Lines with problems get a ``●`` in the gutter and an underline in the theme's
error colour; the colours follow the app theme (so the ANSI theme stays within 16 colours).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.color import Color
from textual.message import Message
from textual.strip import Strip
from textual.theme import Theme
from textual.widgets.text_area import TextAreaTheme

from rltui.ui.models.yaml_highlight import Highlight, highlight_map
from rltui.ui.textual.internals import TREE_SITTER, HookedTextArea
from rltui.ui.textual.keys import fused_escape_names

FUSED_ESCAPES = fused_escape_names()

PROBLEM = "rltui.problem"
THEME_NAME = "rltui"


def editor_theme(theme: Theme) -> TextAreaTheme:
    """Syntax colours from the app theme's semantic colours."""

    def colour(role: str) -> Color:
        return Color.parse(getattr(theme, role, None) or theme.primary)

    def style(role: str, **kwargs: object) -> Style:
        return Style(color=colour(role).rich_color, **kwargs)  # type: ignore[arg-type]

    syntax = {
        "yaml.field": style("primary", bold=True),
        "string": style("success"),
        "number": style("accent"),
        "float": style("accent"),
        "boolean": style("secondary", italic=True),
        "function.call": style("warning"),
        "comment": Style(dim=True, italic=True),
        "punctuation.bracket": Style(),
        PROBLEM: Style(underline=True, color=colour("error").rich_color)
        if theme.ansi
        else Style(
            underline=True,
            bgcolor=colour("error")
            .blend(Color.parse(theme.background or "#000000"), 0.75)
            .rich_color,
        ),
    }
    return TextAreaTheme(name=THEME_NAME, syntax_styles=syntax)


def next_indent(line: str) -> str:
    """The indentation of a new line after ``line`` (the text before the cursor) in YAML:
    the same as the line's, one level deeper after a key that opens a block, and under the
    item's key after a list dash."""
    stripped = line.rstrip()
    indent = line[: len(line) - len(line.lstrip(" "))]
    body = stripped.lstrip(" ")
    if body.startswith("- "):
        indent += "  "  # the keys of a list item line up after its dash
        body = body[2:].lstrip(" ")
    if body.endswith(":") and not body.startswith("#"):
        indent += "  "
    return indent


class StudyEditor(HookedTextArea):
    """A study file's text. ``problem_lines`` are 1-based line numbers to mark."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Not a priority binding: it runs from the editor's queue, after every key typed
        # before it has reached the buffer, so the save holds all of them.
        Binding(
            "ctrl+s",
            "save",
            "Save",
            tooltip="Save the study file (a study with trials: preview, then apply)",
            id="editor.save",
        ),
    ]

    class SaveRequested(Message):
        """ctrl+s: ``text`` is the buffer as typed up to that key."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        self._problem_lines: frozenset[int] = frozenset()
        self._problem_style = Style(bold=True, color="red")
        language = "yaml" if TREE_SITTER else None  # else the regex highlighter takes over
        super().__init__(
            text,
            id=id,
            language=language,
            show_line_numbers=True,
            tab_behavior="indent",
            soft_wrap=False,
        )
        self.indent_width = 2

    async def key_pressed(self, event: events.Key) -> bool:
        key = event.key
        if key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            row, column = self.selection.end
            before = self.document.get_line(row)[:column]
            start, end = self.selection
            self.replace("\n" + next_indent(before), start, end, maintain_selection_offset=False)
            return True
        return False  # TextArea types it, or moves the cursor

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        # Esc and a digit typed together arrive as a printable character (see
        # rltui.ui.textual.keys): left to the screen's bindings, which switch tabs, not typed
        # into the file.
        if key in FUSED_ESCAPES:
            return False
        return super().check_consume_key(key, character)

    def action_save(self) -> None:
        self.post_message(self.SaveRequested(self.text))

    def on_mount(self) -> None:
        self._use_app_theme()
        self.watch(self.app, "theme", self._use_app_theme, init=False)

    def _use_app_theme(self) -> None:
        current = self.app.current_theme
        self.register_theme(editor_theme(current))
        self._problem_style = Style(bold=True, color=Color.parse(current.error or "red").rich_color)
        self.theme = THEME_NAME
        self.forget_rendered_lines()
        self.refresh()

    def mark_problems(self, lines: Iterable[int]) -> None:
        """Mark these 1-based lines; an empty iterable clears the marks."""
        marked = frozenset(line - 1 for line in lines if line and line > 0)
        if marked == self._problem_lines:
            return
        self._problem_lines = marked
        self.rebuild_highlights()
        self.refresh()

    def jump_to(self, line: int, column: int | None = None) -> None:
        """Put the cursor on a 1-based line and column, scrolled into view, and focus."""
        row = max(0, min(line - 1, self.document.line_count - 1))
        col = max(0, (column or 1) - 1)
        self.cursor_location = (row, min(col, len(self.document.get_line(row))))
        self.scroll_cursor_visible(center=True)
        self.focus()

    def add_highlights(self, highlights: dict[int, list[Highlight]], tree_sitter: bool) -> None:
        if not tree_sitter:
            highlights.update(highlight_map(self.document.lines))
        for row in self._problem_lines:
            highlights[row].append((0, None, PROBLEM))

    def decorate_line(self, strip: Strip, y: int) -> Strip:
        """A problem line's gutter shows ``●``."""
        if not self._problem_lines or not self.show_line_numbers:
            return strip
        place = self.document_place(y)
        if place is None:
            return strip
        row, section = place
        if section or row not in self._problem_lines:
            return strip
        gutter = self.gutter_width
        marker = Strip([Segment("●", self._problem_style)], 1)
        return Strip.join(
            [strip.crop(0, gutter - 2), marker, strip.crop(gutter - 1, strip.cell_length)]
        )
