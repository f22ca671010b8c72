"""The main screen's study-file handling: problems view, tab badges, save acknowledgements."""

from __future__ import annotations

from textual.widgets import TabbedContent

from rltui.ui.screens.host import MainScreenHost
from rltui.ui.widgets.problems import ProblemsView
from rltui.ui.widgets.study_file import StudyFilePane


class EditingMixin(MainScreenHost):
    """Mixed into the main screen, which provides ``study_pane``, ``query_one`` and ``notify``."""

    # Editor and problems --------------------------------------------------------

    def action_save(self) -> None:
        self.study_pane.save()

    def on_study_file_pane_checked(self, event: StudyFilePane.Checked) -> None:
        check = event.check
        note = None
        if check.incompatible:
            note = "Optuna would refuse this edit in the running study (not applied on save):"
        elif check.renamed:
            note = (
                f"'name' changed to '{check.renamed}': saving makes a new study file, "
                "not a new version"
            )
        self.query_one(ProblemsView).show(check.all_problems, note)
        count = len(check.errors) + len(check.incompatible)
        tab = self.query_one("#tabs", TabbedContent).get_tab("study")
        tab.label = f"Study file ✗{count}" if count else "Study file"
        self.query_one("#panel", TabbedContent).get_tab("problems-tab").label = (
            f"Problems {count}" if count else "Problems"
        )

    def on_study_file_pane_saved(self, event: StudyFilePane.Saved) -> None:
        good = event.applied is not None
        self.notify(
            event.note,
            title=str(event.path.name),
            severity="information" if good else "warning",
            timeout=6,
        )
        if good:
            self.wake_poller()
        elif self.session is None and event.check.study is not None:
            # The study could not be opened before (a storage key being fixed, say): the
            # saved file is another try.
            self.app.open_study(event.path, self.app.storage_url, None)

    def on_problems_view_problem_chosen(self, event: ProblemsView.ProblemChosen) -> None:
        self.query_one("#tabs", TabbedContent).active = "study"
        if event.problem.line:
            self.study_pane.editor.jump_to(event.problem.line, event.problem.column)
