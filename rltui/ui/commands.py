"""The command palette: every action of the main screen, by its description."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from rltui.ui.screens.main import MainScreen
from rltui.ui.widgets.trial_table import TrialTable

TABLE_ACTIONS = {b.action for b in TrialTable.BINDINGS if isinstance(b, Binding)}


def _actions() -> list[tuple[str, str, str, str]]:
    """(action, title, help, key) for every binding with a description."""
    found = []
    for binding in [*MainScreen.BINDINGS, *TrialTable.BINDINGS]:
        if isinstance(binding, Binding) and binding.description:
            key = binding.key_display or binding.key.split(",")[0]
            title = binding.tooltip or binding.description
            found.append((binding.action, title, f"key: {key}", binding.action))
    return found


class RltuiCommands(Provider):
    """Lists every action; one that does not apply now says why when run."""

    def _run(self, action: str) -> None:
        main = next((s for s in self.app.screen_stack if isinstance(s, MainScreen)), None)
        if main is None:
            return
        if action in TABLE_ACTIONS:
            getattr(main.table, f"action_{action}")()
        elif "(" in action:
            self.app.call_later(main.run_action, action)
        else:
            main.invoke(action)

    def _hits(self) -> list[tuple[str, str, str]]:
        return [(title, help_, action) for action, title, help_, _ in _actions()]

    async def discover(self) -> Hits:
        for title, help_, action in self._hits():
            yield DiscoveryHit(title, partial(self._run, action), help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_, action in self._hits():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_)
