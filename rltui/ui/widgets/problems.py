"""The problems view: what is wrong with the study file, one line each, jump on select."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from rltui.spec import Problem

# How each severity is marked: an error, a warning, a note (what the file means, said once:
# "the search overrides the fixed value").
MARKS = {"error": ("✗", "bold red"), "warning": ("!", "bold yellow"), "note": ("i", "cyan")}


class ProblemsView(OptionList):
    """Problems of the editor's buffer; selecting one moves the editor's cursor there."""

    class ProblemChosen(Message):
        """The user picked a problem: go to its line."""

        def __init__(self, problem: Problem) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.problems: list[Problem] = []
        self.add_option(Option(Text("no problems", style="dim"), disabled=True))

    def show(self, problems: Sequence[Problem], note: str | None = None) -> None:
        """Replace the list; ``note`` (e.g. why a save was refused) goes first."""
        self.problems = list(problems)
        self.clear_options()
        if note:
            self.add_option(Option(Text(note, style="bold"), disabled=True))
        if not problems and not note:
            self.add_option(Option(Text("no problems", style="dim"), disabled=True))
        for index, problem in enumerate(problems):
            self.add_option(Option(self._line(problem), id=str(index)))

    def _line(self, problem: Problem) -> Text:
        where = f"{problem.line}:{problem.column or 1}" if problem.line else "–"
        text = Text()
        mark, style = MARKS.get(problem.severity, MARKS["warning"])
        text.append(f"{mark} ", style=style)
        text.append(f"{where:>7} ", style="dim")
        text.append(problem.key_label(), style="bold")
        text.append(problem.message)
        if problem.hint:
            text.append(f"  ({problem.hint})", style="italic")
        return text

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.ProblemChosen(self.problems[int(event.option.id)]))
