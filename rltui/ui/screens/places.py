"""The places of the main window and the keys that reach each from anywhere.

Every tab and pane has a digit (text while the editor or a field has the focus) and alt+digit
(always). Both are priority bindings: the app decides them in its own queue, in typing order,
before it hands the next key to a widget, so a burst such as ``esc 3 p`` lands where the user
meant each key. A third, hidden binding takes the name Esc and the digit arrive as when typed
together (see :mod:`rltui.ui.keys`).
"""

from __future__ import annotations

from textual.binding import Binding

from rltui.ui.keys import alt_digit

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
    the name Esc and the digit typed at once arrive as (see :mod:`rltui.ui.keys`; left out of
    the help and the palette)."""
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
