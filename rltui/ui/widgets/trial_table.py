"""The trial table: one row per trial, updated in place from storage snapshots.

Following dolphie's live tables: only changed rows are touched, cells are updated without
re-measuring columns (fixed widths), new rows are added by key, and the cursor stays on the
same trial whatever moves around it.

The trial's number and state never scroll sideways, so the trial a key acts on is always in
view; the other columns are laid out for the table's width (:func:`cells.table_columns`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.theme import Theme
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, ColumnKey, RowDoesNotExist, RowKey

from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.display import cells
from rltui.ui.display.cells import Clock, TableColumn
from rltui.ui.models.pareto import changed_ranks
from rltui.ui.models.trial_query import TrialQuery
from rltui.ui.textual.internals import LiveDataTable

# A rebuild (a study opened, a filter or the sort changed) adds this many rows at once, in
# order, and the rest in chunks between screen updates, so a 10,000-trial study shows its
# first rows at once and keys keep working while the rest load.
FIRST_ROWS = 200
ROW_CHUNK = 500


class TrialTable(LiveDataTable[object]):
    """Trials of one study; sortable by any column, filtered by a :class:`TrialQuery`."""

    DEFAULT_CSS = """
    TrialTable > .datatable--fixed { background: $panel 40%; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # A list of trials: Home and End go to the first and last one (DataTable's own
        # scroll the columns sideways, which shift+arrows and the scrollbar still do).
        Binding("home", "scroll_top", "First trial", show=False, id="table.first"),
        Binding("end", "scroll_bottom", "Last trial", show=False, id="table.last"),
        Binding(
            "s",
            "cycle_sort",
            "Sort",
            show=False,  # the state line above the table shows the sort
            tooltip="Sort by the next column (value: best first)",
            id="table.sort",
        ),
        Binding(
            "S",
            "reverse_sort",
            "Reverse",
            show=False,
            tooltip="Reverse the sort order",
            id="table.reverse",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            show=False,
            tooltip="Mark or unmark the selected trial for comparison",
            id="compare.mark",
        ),
    ]

    class SortChanged(Message):
        """The sort column or direction changed (for the screen's acknowledgement)."""

        def __init__(self, column: str, reverse: bool) -> None:
            super().__init__()
            self.column = column
            self.reverse = reverse

    class MarksChanged(Message):
        """Trials were marked or unmarked for comparison (``number`` None: all unmarked)."""

        def __init__(self, marked: frozenset[int], number: int | None) -> None:
            super().__init__()
            self.marked = marked
            self.number = number

    def __init__(self, *, clock: Clock = datetime.now, id: str | None = None) -> None:
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=False, fixed_columns=len(cells.FIXED)
        )
        self.clock = clock
        self.rows_by_number: dict[int, TrialRow] = {}
        self.params: list[str] = []
        self.hidden_params: frozenset[str] = frozenset()  # left out by the column picker
        self.best_number: int | None = None
        self.maximize = True  # the study's direction: "best first" follows it
        # Several objectives: their names, which are maximised, each trial's domination rank.
        self.objectives: list[str] = []
        self.maximizing: tuple[bool, ...] = ()
        self.ranks: dict[int, int] = {}
        self._sort_chosen = False  # the user picked a sort: a new snapshot keeps it
        # Trials marked for comparison: this UI's own choice, never written to the storage.
        self.marked: set[int] = set()
        self.sort_column: str = "number"
        self.sort_reverse: bool = False
        self.trial_filter = TrialQuery()
        self._layout: list[TableColumn] = []
        self._theme: Theme | None = None
        self._loading: list[int] = []  # trial numbers still to add, in display order
        self._generation = 0  # bumped by each rebuild; chunks of an older one stop
        self._rows_elsewhere = False  # the rows shown are not the next snapshot's: rebuild
        self._rest_held = False  # the rows after the first are not being added (load_rest)

    def on_mount(self) -> None:
        self._add_columns()

    # Columns -----------------------------------------------------------------

    @property
    def column_keys(self) -> list[str]:
        """The keys of the columns shown, in display order."""
        return [column.key for column in self._layout]

    @property
    def shown_params(self) -> list[str]:
        return [p for p in self.params if p not in self.hidden_params]

    def _laid_out(self) -> list[TableColumn]:
        # The vertical scrollbar's room is always kept, so that rows arriving (and the
        # scrollbar with them) never change the layout.
        width = self.size.width - self.styles.scrollbar_size_vertical
        return cells.table_columns(self.shown_params, width, self.cell_padding, self.objectives)

    def _add_columns(self) -> None:
        self._layout = self._laid_out()
        for column in self._layout:
            self.add_column(Text(column.label), width=column.width, key=column.key)

    def on_resize(self) -> None:
        self.relayout()

    def relayout(self) -> None:
        """Fit the columns to the table's width; another choice of columns rebuilds the rows
        (column widths depend on the column alone, so the same columns need nothing)."""
        if [c.key for c in self._laid_out()] != self.column_keys:
            self._rebuild()

    def set_hidden_params(self, hidden: frozenset[str]) -> None:
        """Leave out the columns of ``hidden`` parameters (the column picker's choice)."""
        if hidden != self.hidden_params:
            self.hidden_params = hidden
            self._rebuild()

    # Applying snapshots --------------------------------------------------------

    @property
    def selected_number(self) -> int | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:
            return None
        return int(key.value) if key.value is not None else None

    @property
    def selected_row(self) -> TrialRow | None:
        number = self.selected_number
        return None if number is None else self.rows_by_number.get(number)

    def apply(
        self,
        snapshot: Snapshot,
        theme: Theme,
        maximize: bool | None = None,
        *,
        first_rows_only: bool = False,
    ) -> None:
        """Bring the table up to date with ``snapshot``, touching only what changed.

        ``maximize``: the study's direction (by default the snapshot's), which "best first"
        follows. ``first_rows_only``: of a table built afresh, add the first rows alone until
        :meth:`load_rest` (the rows kept from the window's last run, shown while the study
        opens: adding thousands of them would hold up its opening)."""
        self._theme = theme
        self._rest_held = first_rows_only
        self.maximize = snapshot.direction.name == "MAXIMIZE" if maximize is None else maximize
        self.rows_by_number = snapshot.rows
        params = list(snapshot.summary.param_names)
        best = snapshot.best
        best_number = best.number if best else None
        objectives = self._objectives_of(snapshot)
        ranks, moved = snapshot.ranks, changed_ranks(self.ranks, snapshot.ranks)
        self.ranks = ranks
        rebuild = self._rows_elsewhere or not self.columns
        if rebuild or params != self.params or objectives != self.objectives:
            self._rows_elsewhere = False
            self.params = params
            self.best_number = best_number
            self.objectives = objectives
            self._rebuild()
            return
        keep = self.selected_number
        changed = set(snapshot.changed) | moved
        if best_number != self.best_number:
            changed |= {n for n in (best_number, self.best_number) if n is not None}
            self.best_number = best_number
        # Durations of running trials tick without any change in the storage.
        changed |= snapshot.summary.running
        added = False
        stale: set[RowKey] = set()
        loading = set(self._loading)
        for number in sorted(changed):
            row = snapshot.rows.get(number)
            if row is None or number in loading:
                continue  # a row still loading is added with its latest data
            present = str(number) in self.rows
            if not present and self._loading:
                self._loading.append(number)  # placed by the sort when loading ends
                continue
            if not self._matches(row):
                if present:
                    self.remove_row(str(number))
                continue
            if present:
                if self._set_cells(number, self._cells(row)):
                    stale.add(RowKey(str(number)))
            else:
                self.add_row(*self._cells(row), key=str(number))
                added = True
        self.forget_rendering(stale)
        resort = (snapshot.changed or moved) and self.sort_column != "number"
        if (added or resort) and self.row_count:
            self._sort(keep)
        elif keep is not None:
            self._restore(keep)

    def load_rest(self) -> None:
        """Add the rows held back by ``apply(first_rows_only=True)``."""
        if self._rest_held:
            self._rest_held = False
            if self._loading:
                self._load_more(self._generation, self.selected_number)

    def forget_rows(self) -> None:
        """The rows shown did not come from the snapshots applied next (another study's,
        or kept from the window's last run): the next :meth:`apply` puts every row in
        afresh, and a row of a trial the study does not have goes."""
        self._rows_elsewhere = True

    def _objectives_of(self, snapshot: Snapshot) -> list[str]:
        """The names of several objectives (none of one); sorted by rank unless picked."""
        if not snapshot.multi_objective:
            self.maximizing = ()
            return []
        self.maximizing = tuple(d.name == "MAXIMIZE" for d in snapshot.directions)
        self.maximize = self.maximizing[0]
        if not self._sort_chosen and self.sort_column == "number" and not self.sort_reverse:
            self.sort_column = "rank"
        return [snapshot.objective_label(i) for i in range(len(snapshot.directions))]

    def column_label(self, key: str) -> str:
        """The heading of column ``key`` as the table shows it (``reward``, ``lr``)."""
        return next((c.label for c in self._layout if c.key == key), key.removeprefix("param:"))

    def _set_cells(self, number: int, values: list[object]) -> bool:
        """Put one row's changed cells in place; whether any changed (then
        :meth:`forget_rendering` repaints the row alone, see :class:`LiveDataTable`)."""
        data = self.row_cells(RowKey(str(number)))
        changed = False
        for key, value in zip(self.column_keys, values, strict=True):
            column_key = ColumnKey(key)
            if data.get(column_key) != value:
                data[column_key] = value
                changed = True
        return changed

    def _rebuild(self) -> None:
        keep = self.selected_number
        self.clear(columns=True)
        self._add_columns()
        self._generation += 1
        ordered = self._ordered([r for r in self.rows_by_number.values() if self._matches(r)])
        for row in ordered[:FIRST_ROWS]:
            self.add_row(*self._cells(row), key=str(row.number))
        self._loading = [row.number for row in ordered[FIRST_ROWS:]]
        if self._loading and not self._rest_held:
            self.call_after_refresh(self._load_more, self._generation, keep)
        elif keep is not None:
            self._restore(keep)

    def _load_more(self, generation: int, keep: int | None) -> None:
        """Add the next chunk of a rebuild's rows; the last chunk sorts and restores the
        cursor (rows that arrived meanwhile are in place then)."""
        if generation != self._generation:
            return  # a newer rebuild took over
        chunk, self._loading = self._loading[:ROW_CHUNK], self._loading[ROW_CHUNK:]
        for number in chunk:
            row = self.rows_by_number.get(number)
            if row is not None and self._matches(row) and str(number) not in self.rows:
                self.add_row(*self._cells(row), key=str(number))
        if self._loading:
            self.set_timer(0.01, lambda: self._load_more(generation, keep))
        elif self.row_count:
            self._sort(keep if keep is not None else self.selected_number)

    def _cells(self, row: TrialRow) -> list[object]:
        """``row``'s cells in the order of the columns shown."""
        theme = self._theme or self.app.current_theme
        best = self.best_number  # the star; with several objectives, on each trial of the front
        leads = self.ranks.get(row.number) == 1 if self.objectives else row.number == best
        values: dict[str, object] = {
            "number": row.number,
            "state": cells.state_text(row.status, theme, row.pending, noted=row.note is not None),
            "value": cells.value_cell(row),
            "best": cells.best_and_mark(leads, row.number in self.marked, theme),
            "progress": cells.progress(row),
            "last_eval": cells.number(row.last_eval),
            "duration": cells.duration(cells.trial_duration(row, self.clock)),
            "worker": cells.literal(row.worker) if row.worker else "–",
        }
        for index in range(1, len(self.objectives)):
            values[cells.objective_key(index)] = cells.value_cell(row, index)
        if self.objectives:
            values["rank"] = cells.rank_cell(self.ranks.get(row.number))
        for name in self.shown_params:
            value = row.params.get(name)
            values[cells.param_key(name)] = "–" if value is None else cells.param_cell(value)
        return [values[key] for key in self.column_keys]

    # Marks for comparison --------------------------------------------------------

    def action_toggle_mark(self) -> None:
        number = self.selected_number
        if number is None:
            return
        self.marked.symmetric_difference_update({number})
        self._redraw_marks({number})
        self.post_message(self.MarksChanged(frozenset(self.marked), number))

    def clear_marks(self) -> None:
        if not self.marked:
            return
        cleared, self.marked = set(self.marked), set()
        self._redraw_marks(cleared)
        self.post_message(self.MarksChanged(frozenset(), None))

    def _redraw_marks(self, numbers: set[int]) -> None:
        stale = set()
        for number in numbers:
            row = self.rows_by_number.get(number)
            if (
                row is not None
                and str(number) in self.rows
                and self._set_cells(number, self._cells(row))
            ):
                stale.add(RowKey(str(number)))
        self.forget_rendering(stale)

    # Sorting and filtering -----------------------------------------------------

    def _ordered(self, rows: list[TrialRow]) -> list[TrialRow]:
        return cells.ordered(rows, self.sort_column, self.sort_reverse, self.clock, self.ranks)

    def _sort(self, keep: int | None) -> None:
        if self._loading:
            return  # the last chunk of the rebuild sorts
        # Rank the rows here (missing values last) and let the table sort by rank.
        ordered = self._ordered([self.rows_by_number[int(str(k.value))] for k in self.rows])
        rank = {row.number: index for index, row in enumerate(ordered)}
        self.sort("number", key=lambda number: rank.get(number, len(rank)))
        if keep is not None:
            self._restore(keep)

    def _restore(self, number: int) -> None:
        try:
            index = self.get_row_index(str(number))
        except RowDoesNotExist:
            return
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False, scroll=False)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (a column key; the star sorts by value, or with several
        objectives by domination rank). The same column again flips the direction; a new one
        starts ascending, an objective's value best first."""
        column = ("rank" if self.objectives else "value") if column == "best" else column
        index = cells.objective_index(column)
        if reverse is None:
            if column == self.sort_column:
                reverse = not self.sort_reverse
            else:
                reverse = index is not None and (self.maximizing or (self.maximize,))[index]
        self._sort_chosen = True
        self.sort_column, self.sort_reverse = column, reverse
        if self.row_count:
            self._sort(self.selected_number)
        self.post_message(self.SortChanged(column, reverse))

    def action_cycle_sort(self) -> None:
        keys = [key for key in self.column_keys if key != "best"]  # the star sorts by value
        following = (
            keys[(keys.index(self.sort_column) + 1) % len(keys)]
            if self.sort_column in keys
            else "number"
        )
        best_first = cells.objective_index(following) is not None
        self.sort_by(following, reverse=None if best_first else False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column, reverse=not self.sort_reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def filter_by(self, query: TrialQuery) -> None:
        """Show the trials ``query`` matches."""
        self.trial_filter = query
        self._rebuild()

    @property
    def shown_count(self) -> int:
        """How many trials the filter shows (counting rows still loading)."""
        return self.row_count + len(self._loading)

    def _matches(self, row: TrialRow) -> bool:
        return self.trial_filter.matches(row)
