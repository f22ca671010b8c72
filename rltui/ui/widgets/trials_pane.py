"""The trials pane: the filter line, a state line that always says how the table is sorted
and filtered, and the trial table.

The screen sets the study's snapshot with :meth:`TrialsPane.apply` at each poll; the table's
messages (``SortChanged``, ``MarksChanged``, ``RowHighlighted``, ``RowSelected``) bubble up
unchanged. Sort and filter changes are acknowledged here, in the state line, not in
notifications.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.theme import Theme
from textual.widgets import Input, Static

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot
from rltui.ui.display import cells
from rltui.ui.display.cells import Clock
from rltui.ui.models.trial_query import QueryError, TrialQuery, abbreviate, parse
from rltui.ui.screens.note_editor import open_note_editor
from rltui.ui.textual.keys import fused_escape_names
from rltui.ui.widgets.trial_table import TrialTable

# Keys of the selected trial: shown in the footer while this pane has the focus, acted on by
# the screen, which holds the session.
TRIAL_BINDINGS = [
    Binding(
        "p",
        "screen.pause",
        "Pause",
        tooltip="Pause the selected trial (checkpoint, free the slot)",
        id="trial.pause",
    ),
    Binding(
        "r",
        "screen.resume",
        "Resume",
        tooltip="Resume the selected paused trial",
        id="trial.resume",
    ),
    Binding(
        "x",
        "screen.prune",
        "Prune",
        tooltip="Prune the selected trial (ends PRUNED)",
        id="trial.prune",
    ),
    Binding(
        "k",
        "screen.kill",
        "Kill",
        tooltip="Kill the selected trial (ends FAIL, after confirming)",
        id="trial.kill",
    ),
    Binding(
        "e",
        "screen.enqueue",
        "Enqueue",
        tooltip="Enqueue a trial prefilled with the selected one's parameters (clone with edits)",
        id="trial.enqueue",
    ),
]

FUSED_ESCAPES = fused_escape_names()
PLACEHOLDER = "filter: state:running value>60 lr<1e-3 net_arch=small, or words to find"


class FilterLine(Input):
    """The filter's input line; Enter and Escape hand the keyboard back to the table.

    They do it at once, as the key is handled: a key typed right behind them (SSH
    typeahead: ``/ state:complete Enter p``) goes to the table, not into this line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "leave",
            "Back to table",
            tooltip="Back to the trial table, keeping the filter",
            id="table.filter_leave",
        ),
    ]

    def __init__(self, leave: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._leave = leave

    def action_leave(self) -> None:
        self._leave()

    async def action_submit(self) -> None:
        await super().action_submit()
        self._leave()

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        # Esc and a digit typed together switch tabs, as from the editor (rltui.ui.textual.keys).
        if key in FUSED_ESCAPES:
            return False
        return super().check_consume_key(key, character)


class TrialsPane(Vertical):
    """The trial table with its filter line and state line."""

    DEFAULT_CSS = """
    TrialsPane { height: 1fr; }
    TrialsPane > #filter { height: 1; margin: 0; border: none; padding: 0 1; }
    TrialsPane > #table-state { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    TrialsPane > #table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *TRIAL_BINDINGS,
        Binding(
            "slash",
            "edit_filter",
            "Filter",
            key_display="/",
            tooltip="Filter trials: state:running value>60 lr<1e-3 net_arch=small, or words",
            id="table.text_filter",
            # Decided in the app's queue, so that a burst such as "/lr<1e-3" lands in the
            # filter line, not in the table (which had the focus when the keys were sent).
            priority=True,
        ),
        Binding(
            "f",
            "pick_states",
            "States",
            show=False,
            tooltip="Choose which trial states the table shows",
            id="table.state_filter",
        ),
        Binding(
            "C",
            "pick_columns",
            "Columns",
            show=False,
            tooltip="Choose which parameters have a column",
            id="table.columns",
        ),
        Binding(
            "N",
            "edit_note",
            "Note",
            show=False,
            tooltip="Edit trial note",
            id="trial.note",
        ),
        Binding(
            "u",
            "screen.clear_marks",
            "Unmark all",
            show=False,
            tooltip="Clear marks: unmark every trial marked for comparison",
            id="compare.unmark",
        ),
    ]

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.error: str | None = None  # why the filter line as typed does not apply
        self._theme: Theme | None = None
        self._shown_state: Text | None = None
        self.snapshot: Snapshot | None = None  # the last one applied
        self.kept_at: float | None = None  # when the kept rows shown were read (apply)

    def compose(self) -> ComposeResult:
        yield FilterLine(self._back_to_table, placeholder=PLACEHOLDER, id="filter")
        yield Static(id="table-state")
        yield TrialTable(clock=self.clock, id="table")

    def on_mount(self) -> None:
        self.filter_line.display = False
        self.show_state()

    @property
    def table(self) -> TrialTable:
        return self.query_one("#table", TrialTable)

    @property
    def filter_line(self) -> FilterLine:
        return self.query_one("#filter", FilterLine)

    def focus_table(self) -> None:
        self.screen.set_focus(self.table)

    def apply(
        self, snapshot: Snapshot, theme: Theme, maximize: bool, *, kept: bool = False
    ) -> None:
        """Bring the pane up to date with ``snapshot`` (called by the screen each poll);
        ``kept``: it is the table kept from the window's last run, not read from the study."""
        self._theme, self.snapshot = theme, snapshot
        self.kept_at = snapshot.read_at if kept else None
        table = self.table
        params = list(table.params)
        table.apply(snapshot, theme, maximize, first_rows_only=kept)
        if table.params != params and self.error is not None:
            self._filter_typed(self.filter_line.value)  # a parameter named may exist now
        self.show_state()

    # The state line ---------------------------------------------------------------

    def show_state(self) -> None:
        """Write the sort, the filter, any filter error and the counts in the state line
        (repainted only when its text changes)."""
        table = self.table
        theme = self._theme or self.app.current_theme
        line = Text(no_wrap=False)
        if self.error:
            line.append(self.error, style=cells.theme_style(theme, "error", bold=True))
            line.append(" · ")
        line.append(f"sort: {self.sort_summary()}")
        shown = table.trial_filter.text
        if shown:
            line.append(" · filter: ")
            line.append(shown)  # the user's text, appended as it is: never markup
        line.append(f" · {table.shown_count} of {len(table.rows_by_number)}")
        if self.kept_at is not None:
            kept_at = cells.moment(self.kept_at, self.clock)
            line.append(f" · as last shown {kept_at}; the study is not read yet")
        snapshot = self.snapshot
        if snapshot is not None and self.kept_at is None and not table.rows_by_number:
            working = any(w.alive for w in snapshot.workers)
            line.append(
                " · no trials yet: the workers are starting"
                if working
                else " · no trials yet: w starts a worker, which runs them"
            )
        if line != self._shown_state:
            self._shown_state = line
            self.query_one("#table-state", Static).update(line)

    def sort_summary(self) -> str:
        """How the rows are sorted, in words: ``value, best first``, ``lr, descending``,
        ``rank (Pareto front first)``."""
        table = self.table
        label = table.column_label(table.sort_column)
        if table.sort_column == "rank":
            # Rank 1 is the front; descending puts the most dominated trials first.
            return "rank (Pareto front first)" if not table.sort_reverse else "rank, front last"
        index = cells.objective_index(table.sort_column)
        if index is not None:
            # Each objective's own direction says which end is best.
            best = table.sort_reverse == (table.maximizing or (table.maximize,))[index]
            return f"{label}, {'best' if best else 'worst'} first"
        if table.sort_column == "number" and not table.sort_reverse:
            return label
        return f"{label}, {'descending' if table.sort_reverse else 'ascending'}"

    @on(TrialTable.SortChanged)
    def _sorted(self) -> None:
        self.show_state()  # the message goes on up: the screen listens too

    @on(TrialTable.MarksChanged)
    def _marked(self, event: TrialTable.MarksChanged) -> None:
        # Acknowledged here; the message goes on up to the screen, which compares them.
        if event.number is None:
            snap = self.snapshot
            best = "the best"
            if snap is not None and snap.multi_objective:
                best = f"the front's best by {snap.objective_label(0)}"
            self.notify(f"marks cleared: comparing the selected trial with {best}", timeout=2)
        else:
            done = "marked" if event.number in event.marked else "unmarked"
            listed = " ".join(f"#{n}" for n in sorted(event.marked)) or "none marked"
            self.notify(f"trial {event.number} {done} ({listed}); 4 compares", timeout=2)

    # The filter line --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_filter":
            return not isinstance(self.screen.focused, Input)  # "/" typed in a field is text
        if action == "edit_note":
            return True if self.table.selected_row is not None else None
        return True

    def action_edit_note(self) -> None:
        """The selected trial's note (shared with optuna-dashboard) in the note editor."""
        row = self.table.selected_row
        if row is not None:
            open_note_editor(self.screen, row.number)

    def action_edit_filter(self) -> None:
        line = self.filter_line
        line.display = True
        # At once, not after the next refresh: keys typed right after "/" go to the line.
        self.screen.set_focus(line)

    def leave_filter(self) -> None:
        """Back to the table, keeping the filter; an empty filter line is hidden."""
        self._back_to_table()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter_typed(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._filter_typed(event.value)  # the line has left for the table already

    def _back_to_table(self) -> None:
        if not self.filter_line.value.strip():
            self.filter_line.display = False
        self.focus_table()

    def _filter_typed(self, text: str) -> None:
        """Filter by ``text``; one that does not parse keeps the last good filter and says
        why in the state line."""
        table = self.table
        try:
            query = parse(text, table.params, table.objectives)
        except QueryError as error:
            self.error = str(error)
        else:
            self.error = None
            if query.terms != table.trial_filter.terms:
                table.filter_by(query)
        self.show_state()

    def set_filter(self, query: TrialQuery) -> None:
        """Filter by ``query`` and show it in the filter line."""
        self.error = None
        self.table.filter_by(query)
        if self.filter_line.value != query.text:
            with self.filter_line.prevent(Input.Changed):
                self.filter_line.value = query.text
        self.filter_line.display = self.filter_line.display and bool(query.text)
        self.show_state()

    # Pickers (loaded when first opened: SelectionList is not needed for the first paint)

    def action_pick_states(self) -> None:
        table = self.table
        states = table.trial_filter.states
        counts = {status: 0 for status in TrialStatus}
        for row in table.rows_by_number.values():
            counts[row.status] += 1
        items = [
            (
                f"{status.value:<9} {counts[status]:>6,}",
                status.value,
                bool(states and status in states),
            )
            for status in TrialStatus
        ]

        def chosen(values: tuple[str, ...] | None) -> None:
            if values is not None:
                picked = {TrialStatus(value) for value in values} or None
                self.set_filter(self.table.trial_filter.with_states(picked))

        from rltui.ui.screens.tick_list import TickList

        self.app.push_screen(
            TickList(
                "States shown", "space ticks a state; escape shows them; a: all; q: cancel", items
            ),
            chosen,
        )

    def action_pick_columns(self) -> None:
        table = self.table
        if not table.params:
            self.notify("This study has no parameters yet: nothing to choose.", timeout=3)
            return
        shorts = abbreviate(table.params)
        items = [
            (
                name if shorts[name] == name else f"{name}  ({shorts[name]})",
                name,
                name not in table.hidden_params,
            )
            for name in table.params
        ]

        def chosen(values: tuple[str, ...] | None) -> None:
            if values is not None:
                shown = set(values) or set(self.table.params)  # none ticked: all of them
                self.table.set_hidden_params(frozenset(self.table.params) - shown)
                self.show_state()

        from rltui.ui.screens.tick_list import TickList

        self.app.push_screen(
            TickList(
                "Parameter columns",
                "space ticks a parameter; escape shows the ticked; a: all; q: cancel",
                items,
            ),
            chosen,
        )
