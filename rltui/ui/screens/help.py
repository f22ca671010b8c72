"""The help screen: what rltui is, and every key, generated from the bindings.

The keys come from the bindings of the screens and panes (passed in as groups), plus the few
keys that Textual provides without a binding of ours (:data:`EXTRA_KEYS`). Keys are shown the
way a user types them (``alt+1``, ``ctrl+s``, ``?``, ``F1``), and the keys of one action share a
row (``1 / alt+1``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import ModalScreen
from textual.widgets import Static

from rltui.ui.widgets.footer import KeysFooter

INTRO = (
    "rltui watches and steers an Optuna study of RL agents. The UI only talks to the storage: "
    "trials run in detached worker processes, so closing rltui stops no training.\n\n"
    "Every key is below, with where it works. ctrl+p opens the command palette, which finds "
    "every action by name; esc always leaves the editor."
)

BindingGroup = tuple[str, Sequence[BindingType]]
"""(where the keys work, their bindings)."""

ExtraKey = tuple[str, str, str]
"""(key or comma-separated keys, what it does, where) for a key no binding of ours lists."""


def window_keys(anywhere: Sequence[BindingType]) -> list[BindingGroup]:
    """The main window's keys: ``anywhere`` (the screen's), then each pane's. The panes'
    modules are imported here, when help is asked for (the Charts tab's are not on the way to
    the first frame)."""
    from rltui.ui.widgets.charts_pane import ChartsPane
    from rltui.ui.widgets.compare_pane import ComparePane
    from rltui.ui.widgets.editor import StudyEditor
    from rltui.ui.widgets.study_file import StudyFilePane
    from rltui.ui.widgets.trial_table import TrialTable
    from rltui.ui.widgets.trials_pane import TrialsPane
    from rltui.ui.widgets.workers_view import WorkersView

    return [
        ("anywhere", list(anywhere)),
        ("trials", [*TrialsPane.BINDINGS, *TrialTable.BINDINGS]),
        ("study file", [*StudyEditor.BINDINGS, *StudyFilePane.BINDINGS]),
        ("charts", list(ChartsPane.BINDINGS)),
        ("compare", list(ComparePane.BINDINGS)),
        ("workers", list(WorkersView.BINDINGS)),
    ]


# Keys that Textual handles itself (the palette, focus moves, a DataTable's selection, the
# modal screens' escape), so no binding of rltui's names them.
EXTRA_KEYS: tuple[ExtraKey, ...] = (
    ("ctrl+p", "Command palette: every action, found by name", "anywhere"),
    ("enter", "The selected trial's detail: parameters, evaluations, error, log", "trials"),
    ("tab", "Next pane", "anywhere"),
    ("shift+tab", "Previous pane", "anywhere"),
    ("escape", "Close a dialog, the palette or this help", "anywhere"),
)

# Names users know by another spelling; F-keys are capitalised apart.
_SPOKEN = {"escape": "esc"}
_FUNCTION_KEY = re.compile(r"f\d{1,2}")


def key_label(key: str) -> str:
    """A Textual key as a user types it: ``question_mark`` → ``?``, ``escape`` → ``esc``,
    ``f1`` → ``F1``; modifiers stay spelled out (``alt+1``, ``ctrl+s``)."""
    *modifiers, base = key.strip().split("+")
    if _FUNCTION_KEY.fullmatch(base):
        name = base.upper()
    elif base in _SPOKEN:
        name = _SPOKEN[base]
    else:
        shown = format_key(base)
        # One printable ASCII character ('?' for question_mark); words stay words ('enter',
        # which Textual would show as a symbol; 'space').
        name = shown if len(shown) == 1 and shown.isascii() and shown.isprintable() else base
    return "+".join([*modifiers, name])


@dataclass
class KeyRow:
    """One line of the help: the keys of one action and where they work."""

    keys: list[str]
    action: str
    where: list[str] = field(default_factory=list)

    @property
    def shown_keys(self) -> str:
        return " / ".join(self.keys)


def key_rows(
    groups: Iterable[BindingGroup], extras: Iterable[ExtraKey] = EXTRA_KEYS
) -> list[KeyRow]:
    """Every described binding of ``groups``, then ``extras``, one row per action.

    A key listed twice for the same action (by its text, or by its binding id) shows once;
    the keys of one action share its row; a key that does different things in different
    places keeps a row for each.
    """
    rows: dict[str, KeyRow] = {}
    text_of_id: dict[str, str] = {}

    def add(keys: Iterable[str], action: str, where: str) -> None:
        row = rows.setdefault(action, KeyRow([], action))
        for key in keys:
            label = key_label(key)
            if label not in row.keys:
                row.keys.append(label)
        if where not in row.where:
            row.where.append(where)

    for where, bindings in groups:
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            action = binding.tooltip or binding.description
            if binding.id:
                action = text_of_id.setdefault(binding.id, action)
            add(binding.key.split(","), action, where)
    for keys, action, where in extras:
        add(keys.split(","), action, where)
    return list(rows.values())


def keys_table(groups: Iterable[BindingGroup], extras: Iterable[ExtraKey] = EXTRA_KEYS) -> Table:
    """The help's table of keys: key, action, where."""
    table = Table(show_header=True, header_style="bold", show_edge=False, expand=True)
    table.add_column("key", no_wrap=True)
    table.add_column("action")
    table.add_column("where", style="dim")
    for row in key_rows(groups, extras):
        table.add_row(row.shown_keys, row.action, ", ".join(row.where))
    return table


class HelpScreen(ModalScreen[None]):
    """F1 or ?; escape closes."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    #help { width: 90; max-width: 95%; height: 90%; border: round $primary; background: $surface;
            padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1,question_mark", "close", "Close", id="help.close")
    ]

    def __init__(
        self, bindings: Sequence[BindingGroup], extras: Sequence[ExtraKey] = EXTRA_KEYS
    ) -> None:
        super().__init__()
        self.bindings = list(bindings)
        self.extras = list(extras)
        self.rows = key_rows(self.bindings, self.extras)

    @property
    def keys(self) -> set[str]:
        """Every key the help lists, as shown."""
        return {key for row in self.rows for key in row.keys}

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help") as box:
            box.border_title = "rltui help"
            yield Static(Text(INTRO))
            yield Static(keys_table(self.bindings, self.extras))
        yield KeysFooter()

    def action_close(self) -> None:
        self.dismiss(None)
