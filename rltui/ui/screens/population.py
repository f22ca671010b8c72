"""A PBT study's population: its members (best first), who copied whom, the selected
member's joined reward curve, and the keys that steer the population while it trains.

The screen follows the window's polled snapshot (it reads the main screen's latest and
rebuilds only when that changed). Its keys write the study attributes the workers read at
each segment end (:mod:`rltui.search.segments`), through the session on a thread worker, and
say what they did.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from rltui.search import segments
from rltui.search.reader import Snapshot
from rltui.spec import pbt
from rltui.ui.display import cells
from rltui.ui.models import population
from rltui.ui.models.chart_data import PALETTE, downsample
from rltui.ui.models.population import MemberCurve, Population
from rltui.ui.models.trial_query import abbreviate
from rltui.ui.screens.picker import Picker
from rltui.ui.widgets.charts import TITLE_MARGIN, ChartView, plot_colour
from rltui.ui.widgets.footer import KeysFooter

if TYPE_CHECKING:
    from textual_plotext.plot import Plot

    from rltui.ui.screens.main import MainScreen
    from rltui.ui.services.session import Session

NARROW = "Narrow the perturbation factors (towards 1)"
WIDEN = "Widen the perturbation factors (away from 1)"
COLUMNS = ("member", "state", "steps", "value", "best", "copied", "frozen", "next")
REFRESH = 0.25  # seconds between looks at the window's latest snapshot
MARK_COLOUR = "red"


def open_population(screen: MainScreen) -> None:
    """Show the population of ``screen``'s study, or say why there is none."""
    session = screen.session
    if session is None:
        screen.notify("no study is open: open a PBT study first", severity="warning")
    elif not pbt.is_pbt(session.study.spec):
        screen.notify(
            f"not a PBT study: {session.name} uses the {session.study.spec.sampler.type} "
            "sampler (sampler: {type: pbt} trains a population)",
            severity="warning",
        )
    else:
        screen.app.push_screen(PopulationScreen(screen))


@dataclass(frozen=True)
class CurvesData:
    """What the chart draws: the members' curves, the selected one, and whether all show."""

    curves: tuple[MemberCurve, ...]
    selected: int | None
    every: bool


class PopulationChart(ChartView):
    """The selected member's joined curve (all members' with ``a``), its exploits as ``x``."""

    empty_message = "the members' curves appear here once they report evaluations"

    def draw(self, plt: Plot, data: CurvesData, width: int) -> bool:
        shown = [
            c
            for c in data.curves
            if c.points and (data.every or c.member == data.selected or data.selected is None)
        ]
        if not shown:
            return False
        # The selected member last, so that it is drawn over the others.
        shown.sort(key=lambda c: c.member == data.selected)
        for curve in shown:
            picked = downsample(curve.points, max(8, width - 8))
            colour = PALETTE[curve.member % len(PALETTE)]
            label = f"m{curve.member}" if data.every and len(shown) <= len(PALETTE) else None
            plt.plot(
                [p[0] for p in picked],
                [p[1] for p in picked],
                color=plot_colour(colour),
                marker="braille",
                label=label,
            )
            if curve.marks:
                xs, ys = zip(*curve.marks, strict=True)
                plt.scatter(list(xs), list(ys), color=MARK_COLOUR, marker="x")
        who = "all members" if data.every else f"m{data.selected}"
        title = f"{who}: reward vs timesteps · x: copied another member"
        plt.title(title if len(title) <= width - TITLE_MARGIN else who)
        return True


class PopulationScreen(ModalScreen[None]):
    """Opened with ``O`` in a PBT study; escape closes it."""

    DEFAULT_CSS = """
    PopulationScreen { align: center middle; }
    #population { width: 100%; height: 100%; border: round $primary; background: $surface; }
    #pop-settings { height: auto; color: $text-muted; }
    #pop-table { height: auto; max-height: 40%; }
    #pop-chart { height: 2fr; min-height: 6; }
    #pop-lineage-box { height: 1fr; min-height: 3; max-height: 14; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(key, action, label, key_display=shown, tooltip=tooltip, id=f"population.{name}")
        for key, shown, action, label, tooltip, name in (
            ("f", None, "freeze", "Freeze", "Freeze or unfreeze the member", "freeze"),
            ("e", None, "exploit", "Exploit", "Make the member copy another", "exploit"),
            ("plus", "+", "grow(True)", "Grow", "Grow the population by one", "grow"),
            ("minus", "-", "grow(False)", "Shrink", "Shrink the population by one", "shrink"),
            ("left_square_bracket", "[", "perturb(False)", "Narrow", NARROW, "narrow"),
            ("right_square_bracket", "]", "perturb(True)", "Widen", WIDEN, "widen"),
            ("a", None, "every", "All", "Chart all members or the selected one", "all"),
            ("escape,q", None, "close", "Close", "Close the population", "close"),
        )
    ]

    def __init__(self, window: MainScreen) -> None:
        super().__init__()
        self.window = window
        self.population: Population | None = None
        self.settings: segments.Settings | None = None
        self.selected: int | None = None
        self.every = False
        self._shown: Snapshot | None = None
        self._columns: tuple[str, ...] = ()
        self._generation = 0  # of the latest build asked for: an older one is not shown
        # Values written and not yet in a snapshot: a second press builds on the first.
        self._asked_size: int | None = None
        self._asked_perturb: tuple[float, ...] | None = None
        self._writes: queue.SimpleQueue[Callable[[Session], str]] = queue.SimpleQueue()
        self._write_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        with Vertical(id="population") as box:
            box.border_title = "Population"
            yield Static(id="pop-settings")
            yield DataTable(id="pop-table", cursor_type="row", zebra_stripes=True)
            yield PopulationChart(id="pop-chart")
            with VerticalScroll(id="pop-lineage-box"):
                yield Static(id="pop-lineage")
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.follow()
        self.set_interval(REFRESH, self.follow)

    def on_resize(self) -> None:
        self._shown = None  # the lineage is wrapped to the width: build it again
        self.follow()

    @property
    def session(self) -> Session | None:
        return self.window.session

    # Following the window's snapshot ------------------------------------------------------

    def follow(self) -> None:
        """Show the window's latest snapshot, when it is one not shown yet."""
        snapshot, session = self.window.snapshot, self.session
        if snapshot is None or session is None or snapshot is self._shown:
            return
        previous, self._shown = self._shown, snapshot
        spec = session.study.spec
        settings = segments.settings(pbt.options_of(spec), snapshot.population)
        if previous is not None and not snapshot.changed and settings == self.settings:
            return
        self.settings = settings
        if self._asked_size == settings.population:
            self._asked_size = None
        if self._asked_perturb == settings.perturb:
            self._asked_perturb = None
        self._generation += 1
        rows, total, width = snapshot.rows.values(), spec.train.timesteps, self.size.width - 4
        maximize = spec.directions[0] == "maximize"
        build = partial(population.build, rows, settings, total, maximize, max(20, width))
        self._build(build, settings, self._generation)

    @work(thread=True, exclusive=True, group="population-build", exit_on_error=False)
    def _build(
        self, build: Callable[[], Population], settings: segments.Settings, generation: int
    ) -> None:
        """Build the population off the event loop: a study may have many thousand rows."""
        found = build()
        self.app.call_from_thread(self._built, found, settings, generation)

    def _built(self, found: Population, settings: segments.Settings, generation: int) -> None:
        if self.is_attached and generation == self._generation:
            self.population = found
            self._show(found, settings)

    def _show(self, found: Population, settings: segments.Settings) -> None:
        perturb = ", ".join(f"x{f:g}" for f in settings.perturb)
        if settings.explore == "pb2":  # the bandit picks numbers; lists still move by a factor
            perturb = f"pb2 ({perturb} for lists)"
        live = sum(1 for m in found.members if m.state != population.RETIRED)
        size = f"{settings.population}" + (f" ({live} now)" if live != settings.population else "")
        self.query_one("#pop-settings", Static).update(
            Text(
                f"population {size} · perturb {perturb} · quantile {settings.quantile:g} · "
                f"segments of {settings.interval:,}"
            )
        )
        self._fill_table(found)
        lineage = "\n".join(found.lineage) or "no member has started yet"
        self.query_one("#pop-lineage", Static).update(Text(lineage))
        self._show_chart()

    def _fill_table(self, found: Population) -> None:
        table = self.query_one("#pop-table", DataTable)
        short = abbreviate(found.param_names)
        columns = COLUMNS + tuple(short[n] for n in found.param_names)
        if columns != self._columns:
            table.clear(columns=True)
            for name in columns:
                table.add_column(name)
            self._columns = columns
        else:
            table.clear()
        for row in found.members:
            table.add_row(
                f"m{row.member}",
                row.state,
                f"{row.timesteps:,}",
                cells.number(row.latest),
                cells.number(row.best),
                str(row.exploits),
                "frozen" if row.frozen else "",
                f"copies m{row.forced}" if row.forced is not None else "",
                *(cells.param_cell(row.params.get(n, "")) for n in found.param_names),
                key=str(row.member),
            )
        if self.selected is None or found.member(self.selected) is None:
            self.selected = found.members[0].member if found.members else None
        if self.selected is not None:
            table.move_cursor(row=table.get_row_index(str(self.selected)), animate=False)

    def _show_chart(self) -> None:
        found = self.population
        curves = tuple(found.curves.values()) if found is not None else ()
        self.query_one(PopulationChart).set_data(CurvesData(curves, self.selected, self.every))

    @on(DataTable.RowHighlighted, "#pop-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self.selected = int(event.row_key.value)
            self._show_chart()

    # Keys ---------------------------------------------------------------------------------

    def _member(self) -> int | None:
        if self.selected is None or self.session is None or self.settings is None:
            self.notify("no member is selected", severity="warning")
            return None
        return self.selected

    def action_freeze(self) -> None:
        member = self._member()
        if member is not None and self.settings is not None:
            frozen = member not in self.settings.frozen
            self._write(lambda s: s.freeze_member(member, frozen))

    def action_exploit(self) -> None:
        member = self._member()
        found = self.population
        if member is None or found is None or self.settings is None:
            return
        choices: list[tuple[int | None, str]] = [
            (m.member, f"m{m.member}  {m.state}, value {cells.number(m.latest)}")
            for m in found.members
            if m.member != member and m.state != population.RETIRED
        ]
        if member in self.settings.force:
            choices.append((None, "none: PBT decides at its next segment end"))
        if not choices:
            self.notify(f"no other member for m{member} to copy", severity="warning")
            return

        def picked(answer: tuple[int | None] | None) -> None:
            if answer is None:
                self.notify("no exploit forced", timeout=2)
            else:
                self._write(lambda s: s.force_exploit(member, answer[0]))

        title = f"m{member} copies which member at its next segment end?"
        hint = "enter picks it · esc forces nothing"
        self.app.push_screen(Picker(title, hint, choices), picked)

    def action_grow(self, more: bool) -> None:
        if self.settings is None:
            return
        size = self._asked_size or self.settings.population
        wanted = population.grown(size, more)
        if wanted == size:
            self.notify(f"the population stays at {size}: PBT needs 2 members", timeout=3)
            return
        self._asked_size = wanted
        self._write(lambda s: s.set_population(wanted))

    def action_perturb(self, wider: bool) -> None:
        if self.settings is None:
            return
        factors = self._asked_perturb or self.settings.perturb
        wanted = population.moved_factors(factors, wider)
        if wanted == factors:
            shown = ", ".join(f"x{f:g}" for f in factors)
            way = "wide" if wider else "narrow"
            self.notify(f"the perturbation factors stay {shown}: as {way} as they go", timeout=3)
            return
        self._asked_perturb = wanted
        self._write(lambda s: s.set_perturb(wanted))

    def action_every(self) -> None:
        self.every = not self.every
        self._show_chart()
        self.notify("chart: all members" if self.every else "chart: the selected member", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)

    def _write(self, write: Callable[[Session], str]) -> None:
        """Carry out ``write`` on a thread, after the writes asked for before it."""
        self._writes.put(write)
        self._drain_writes()

    @work(thread=True, group="population", exit_on_error=False)
    def _drain_writes(self) -> None:
        # One thread at a time takes the writes in order: [ pressed twice is two steps.
        with self._write_lock:
            while not self._writes.empty():
                write = self._writes.get()
                session = self.session
                message = write(session) if session is not None else "not done: no study is open"
                refused = message.startswith("not done")
                if refused:
                    self._asked_size = self._asked_perturb = None
                self.notify(message, severity="warning" if refused else "information")
                self.window.wake_poller()

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        return None if action in ("freeze", "exploit") and self.selected is None else True
