"""What the main window shows about the study file outside its pane: the Problems panel, the
tab labels (``Study file ● ✗2``: ● while the buffer has unsaved edits, ✗ and the count of
problems; ``Problems 2``), and the notes of saves and applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.widgets import TabbedContent

from rltui.ui.models.study_buffer import Check
from rltui.ui.widgets.problems import ProblemsView
from rltui.ui.widgets.study_file import StudyFilePane

if TYPE_CHECKING:
    from rltui.ui.app import RltuiApp
    from rltui.ui.screens.main import MainScreen


def problems_note(check: Check) -> str | None:
    """What the Problems panel says above the problems of ``check``, if anything."""
    if check.incompatible:
        return "Optuna would refuse this edit in the running study (not applied on save):"
    if check.renamed:
        return (
            f"'name' changed to '{check.renamed}': saving makes a new study file, not a new version"
        )
    return None


class StudyFileStatus:
    """Keeps ``screen``'s Problems panel and tab labels in step with its study file pane, and
    says what saves and applies did; the screen owns one and hands it the pane's messages."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._problem_count = 0
        self._buffer_modified = False

    def checked(self, check: Check) -> None:
        """A check of the buffer arrived: show its problems, count them in the labels."""
        self.screen.query_one(ProblemsView).show(check.all_problems, problems_note(check))
        count = len(check.errors) + len(check.incompatible)
        self._label_study_tab(problems=count)
        self.screen.query_one("#panel", TabbedContent).get_tab("problems-tab").label = (
            f"Problems {count}" if count else "Problems"
        )

    def modified(self, modified: bool) -> None:
        """The buffer started or stopped differing from the file."""
        self._label_study_tab(modified=modified)

    def _label_study_tab(
        self, *, problems: int | None = None, modified: bool | None = None
    ) -> None:
        if problems is not None:
            self._problem_count = problems
        if modified is not None:
            self._buffer_modified = modified
        label = "Study file"
        if self._buffer_modified:
            label += " ●"
        if self._problem_count:
            label += f" ✗{self._problem_count}"
        self.screen.query_one("#tabs", TabbedContent).get_tab("study").label = label

    def saved(self, event: StudyFilePane.Saved) -> None:
        """Say what the save did; a study that could not be opened before is tried again."""
        good = event.written and not event.note.startswith("saved to disk, not applied")
        if event.note:
            self.screen.notify(
                event.note,
                title=str(event.path.name),
                severity="information" if good else "warning",
                timeout=6,
            )
        if self.screen.session is None and event.written and event.check.study is not None:
            # The study could not be opened before (a storage key being fixed, say): the
            # saved file is another try.
            app = cast("RltuiApp", self.screen.app)
            app.open_study(event.path, app.storage_url, None)

    def applied(self, event: StudyFilePane.Applied) -> None:
        """A version of the study file is in force: say so, and show its effect at once."""
        self.screen.notify(event.note, timeout=6)
        self.screen.wake_poller()
