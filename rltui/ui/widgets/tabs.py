"""Tabbed panes that keep up with keys typed faster than the screen redraws.

Textual's TabbedContent shows the pane of a widget that was focused by code, when that
widget's Focus event arrives. With a burst such as ``alt+2 alt+3`` (SSH typeahead), the
editor of tab 2 is focused and then the charts of tab 3, in one go; the editor's Focus event
arrives after both, and brought tab 2 back while the charts kept the focus. Here a pane is
shown for a focused widget only while that widget still has the focus.
"""

from __future__ import annotations

from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """A TabbedContent whose tab follows the focus as it is now, not as it was."""

    def on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        # Textual runs this handler of every class in the MRO: prevent_default() keeps
        # TabbedContent's own from running too.
        focused = self.screen.focused
        if focused is None or event.tab_pane not in focused.ancestors_with_self:
            event.prevent_default()  # the focus has moved on since: a stale event
            event.stop()
