"""What the main screen's mixins use of the screen they are mixed into.

The mixins (control, watching) each hold one concern of the main
screen; this base declares, for type checkers only, the screen's parts they share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.message import Message

    from rltui.search.reader import Snapshot
    from rltui.ui.cells import Clock
    from rltui.ui.session import Session
    from rltui.ui.widgets.study_file import StudyFilePane
    from rltui.ui.widgets.trial_table import TrialTable
    from rltui.ui.widgets.workers_view import WorkersView


class MainScreenHost:
    """Base of the main screen's mixins; adds nothing at run time."""

    if TYPE_CHECKING:
        session: Session | None
        snapshot: Snapshot | None
        clock: Clock
        app: Any
        notify: Callable[..., None]
        query_one: Callable[..., Any]
        post_message: Callable[[Message], bool]

        @property
        def table(self) -> TrialTable: ...

        @property
        def workers_view(self) -> WorkersView: ...

        @property
        def study_pane(self) -> StudyFilePane: ...

        def wake_poller(self) -> None: ...

        def typing(self) -> bool: ...

        def action_show_tab(self, tab: str) -> None: ...

        def refresh_keys(self) -> None: ...
