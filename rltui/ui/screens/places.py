"""The places of the main window, the keys that reach each from anywhere, and the keys of its
views (leave the editor, sidebar, bottom panel, help); :class:`Places` takes the focus there.

Every tab and pane has a digit (text while the editor or a field has the focus) and alt+digit
(always). Both are priority bindings: the app decides them in its own queue, in typing order,
before it hands the next key to a widget, so a burst such as ``esc 3 p`` lands where the user
meant each key. A third, hidden binding takes the name Esc and the digit arrive as when typed
together (see :mod:`rltui.ui.textual.keys`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import Input, TabbedContent, Tabs, TextArea

from rltui.ui.textual.keys import alt_digit

if TYPE_CHECKING:
    from textual.widget import Widget

    from rltui.ui.screens.main import MainScreen

WIDE_SIDEBAR = 160  # columns from which the sidebar has room for host names
SIDEBAR_FROM = 110  # columns from which the sidebar shows, unless the user chose
PANEL_FROM = 30  # lines from which the bottom panel shows, unless the user chose

# Places the focus keys go to: (key digit, where, label). Tabs of the main area, then the
# bottom panel's, then the sidebar's two panes.
PLACES: list[tuple[str, str, str]] = [
    ("1", "trials", "Trials tab"),
    ("2", "study", "Study file tab"),
    ("3", "charts", "Charts tab"),
    ("4", "compare", "Compare tab"),
    ("5", "curves-tab", "Panel: reward curves"),
    ("6", "problems-tab", "Panel: problems"),
    ("7", "log-tab", "Panel: worker log"),
    ("8", "events-tab", "Panel: events"),
    ("9", "workers", "Sidebar: workers"),
    ("0", "explorer", "Sidebar: explorer"),
]
PANEL_TABS = {"curves-tab", "problems-tab", "log-tab", "events-tab"}


def place_bindings() -> list[Binding]:
    """Bindings of each place: the plain digit (text while typing), alt+digit (always), and
    the name Esc and the digit typed at once arrive as (see :mod:`rltui.ui.textual.keys`;
    left out of the help and the palette)."""
    bindings = []
    for digit, where, label in PLACES:
        tooltip = label
        alt, *fused = alt_digit(digit).split(",")
        for keys, action, description, suffix in (
            (digit, "place", label, ""),
            (alt, "go", label, ".alt"),
            (",".join(fused), "go", "", ".fused"),
        ):
            if keys:
                bindings.append(
                    Binding(
                        keys,
                        f"{action}('{where}')",
                        description,
                        show=False,
                        tooltip=tooltip if description else "",
                        id=f"view.{where}{suffix}",
                        priority=True,
                    )
                )
    return bindings


# Keys of the window's views: leave the editor or the filter line, show or hide the sidebar
# and the bottom panel, help.
VIEW_BINDINGS = [
    Binding(
        "escape",
        "leave",
        "Leave",
        show=False,
        tooltip="Leave the editor or the filter line",
        id="view.leave",
        priority=True,
    ),
    Binding(
        "ctrl+b",
        "toggle_sidebar",
        "Sidebar",
        show=False,
        tooltip="Show or hide the sidebar",
        id="view.sidebar",
    ),
    Binding(
        "ctrl+j",
        "toggle_panel",
        "Panel",
        show=False,
        tooltip="Show or hide the bottom panel",
        id="view.panel",
    ),
    Binding(
        "f1,question_mark",
        "help",
        "Help",
        key_display="F1",
        tooltip="Keys and help",
        id="app.help",
    ),
]


class Places:
    """Takes the focus to the places of ``screen`` (which owns one), and shows or hides its
    sidebar and bottom panel: collapsed on small terminals, unless the user chose (ctrl+b,
    ctrl+j, or a key that goes to a place in them)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.sidebar_choice: bool | None = None
        self.panel_choice: bool | None = None

    def fit(self) -> None:
        """Collapse the sidebar and the bottom panel on small terminals, unless asked."""
        width, height = self.screen.app.size
        sidebar = self.sidebar_choice if self.sidebar_choice is not None else width >= SIDEBAR_FROM
        panel = self.panel_choice if self.panel_choice is not None else height >= PANEL_FROM
        self.screen.query_one("#sidebar").display = sidebar
        self.screen.query_one("#sidebar").set_class(width >= WIDE_SIDEBAR, "-wide")
        self.screen.query_one("#panel").display = panel

    def go(self, where: str) -> None:
        """Show the tab or pane ``where`` and give it the focus (see :data:`PLACES`)."""
        screen = self.screen
        if where in PANEL_TABS:
            panel = screen.query_one("#panel", TabbedContent)
            if not panel.display:
                panel.display = self.panel_choice = True
            panel.active = where
            target: Widget = panel.get_pane(where).children[0]
        elif where in ("workers", "explorer"):
            sidebar = screen.query_one("#sidebar")
            if not sidebar.display:
                sidebar.display = self.sidebar_choice = True
            target = screen.query_one(f"#{where}")
        else:
            tabs = screen.query_one("#tabs", TabbedContent)
            tabs.active = where
            target = {
                "trials": screen.table,
                "study": screen.study_pane.editor,
                "charts": screen.charts_pane,
                "compare": screen.compare_pane,
            }[where]
        screen.set_focus(target)

    def leave(self) -> None:
        """Escape: out of the editor to its tab bar, out of the filter line to the table."""
        focused = self.screen.focused
        if isinstance(focused, Input):
            self.screen.trials_pane.leave_filter()
        elif isinstance(focused, TextArea):
            self.screen.set_focus(self.screen.query_one("#tabs", TabbedContent).query_one(Tabs))

    def toggle_sidebar(self) -> None:
        sidebar = self.screen.query_one("#sidebar")
        self.sidebar_choice = not sidebar.display
        sidebar.display = self.sidebar_choice
        self.screen.notify(f"sidebar {'shown' if sidebar.display else 'hidden'}", timeout=2)

    def toggle_panel(self) -> None:
        panel = self.screen.query_one("#panel")
        self.panel_choice = not panel.display
        panel.display = self.panel_choice
        self.screen.notify(f"bottom panel {'shown' if panel.display else 'hidden'}", timeout=2)
