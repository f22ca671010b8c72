"""The command palette: every action of the window by its description, and rltui's themes.

The entries are the described bindings that rltui's own screens and panes declare, read from
the screen the palette was opened on, so a pane added to the window is in the palette without
a list to keep up to date. An entry runs its action on the pane that declares it, like its
key, and says why when the action does not apply now.

:class:`RltuiPalette` is Textual's palette with one change: Enter runs the entry highlighted
for the text typed so far, waiting for that search to finish, never an entry of an earlier
search still on show (Textual's own palette runs whatever the list shows when Enter arrives).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from textual import on
from textual.actions import parse
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from rltui.ui.screens.help import key_label
from rltui.ui.screens.note_editor import open_note_editor
from rltui.ui.textual.internals import HookedCommandPalette


@dataclass(frozen=True)
class PaletteEntry:
    """One palette line: what it does, its key, and the action it runs on ``owner``."""

    title: str
    key: str
    action: str
    owner: DOMNode


def declared_bindings(node: DOMNode) -> Iterator[Binding]:
    """The described bindings that rltui's classes declare for ``node`` (not Textual's own:
    a DataTable's cursor keys are no palette entries)."""
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("rltui."):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                yield binding


def palette_entries(screen: Screen[object]) -> list[PaletteEntry]:
    """The screen's actions, then its panes' in the order they are laid out.

    An action bound twice (the same binding id, or the same words: ``1`` and ``alt+1``) is
    one entry, listing its keys, and runs the first binding's action."""
    entries: dict[str, PaletteEntry] = {}
    title_of_id: dict[str, str] = {}
    for node in [screen, *screen.query("*")]:
        for binding in declared_bindings(node):
            title = binding.tooltip or binding.description
            if binding.id:
                title = title_of_id.setdefault(binding.id, title)
            keys = [key_label(key) for key in binding.key.split(",")]
            entry = entries.get(title)
            if entry is None:
                entries[title] = PaletteEntry(title, " / ".join(keys), binding.action, node)
                continue
            known = entry.key.split(" / ")
            more = [key for key in keys if key not in known]
            if more:
                entries[title] = replace(entry, key=" / ".join([*known, *more]))
    return list(entries.values())


class RltuiCommands(Provider):
    """Every action of the window the palette was opened on, then rltui's themes."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """(title, help, what runs) for each entry, in the order to show them."""
        found: list[tuple[str, str, Callable[[], object]]] = [
            (entry.title, f"key: {entry.key}", partial(self._run, entry))
            for entry in palette_entries(self.screen)
        ]
        # The study's note has no key: the palette is its one way in. The trial's note is
        # an entry above, from its key (N on the trials pane).
        found.append(
            (
                "Edit study note",
                "the study's note, shared with optuna-dashboard",
                partial(open_note_editor, self.screen, None),
            )
        )
        # Textual's own theme picker would offer its built-in themes, which lack rltui's
        # colours; these are the themes rltui loaded (its own and the user's files).
        for name in getattr(self.app, "theme_names", []):
            found.append((f"Theme: {name}", "use this theme", partial(self._use_theme, name)))
        return found

    async def _run(self, entry: PaletteEntry) -> None:
        """Run ``entry`` like its key, or say why it does not apply now."""
        namespace, name, params = parse(entry.action)
        target = {"app": self.app, "screen": self.screen}.get(namespace, entry.owner)
        why_not = getattr(target, "why_not", None)
        reason = why_not(name) if callable(why_not) else None
        # None from check_action means "not now" (shown greyed in the footer); False only
        # that the key would be typed text where the focus is, which a palette pick is not.
        if reason is None and target.check_action(name, params) is None:
            reason = "it does not apply now"
        if reason:
            self.app.notify(f"{entry.title}: {reason}", severity="warning")
            return
        method = getattr(target, f"action_{name}", None)
        if method is None:
            self.app.notify(f"{entry.title}: not available here", severity="warning")
            return
        result = method(*params)
        if inspect.isawaitable(result):
            await result

    def _use_theme(self, name: str) -> None:
        self.app.theme = name

    async def discover(self) -> Hits:
        for title, help_, command in self._commands():
            yield DiscoveryHit(title, command, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_, command in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, text=title, help=help_)


class RltuiPalette(HookedCommandPalette):
    """Textual's command palette whose Enter never runs a stale entry.

    Each keystroke starts a new search in a worker, and the list shows the previous search's
    entries until the new one has gathered its hits. Textual's Enter picks from the list as
    it is, so typing a name and Enter at once ran the top entry of the list before the typing.
    Here an Enter that arrives while the search for the text typed so far is running waits
    for it, then picks that search's highlighted (best) entry.
    """

    def __init__(self) -> None:
        super().__init__(id="--command-palette")
        self._search: Worker[Any] | None = None
        self._enter_waiting = False

    def search_started(self, search: Worker[Any]) -> None:
        self._search = search

    def _searching(self) -> bool:
        return self._search is not None and self._search.state != WorkerState.SUCCESS

    @on(Input.Changed)
    def _typed(self) -> None:
        # Text typed after an Enter makes another request of it: that Enter is withdrawn.
        self._enter_waiting = False

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self._searching():
            event.stop()
            event.prevent_default()  # Textual's handler would pick from the stale list
            self._enter_waiting = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._search or event.state != WorkerState.SUCCESS:
            return
        event.stop()
        if self._enter_waiting:
            self._enter_waiting = False
            self.run_highlighted()
