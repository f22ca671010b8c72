"""What applying an edited study file to its study would do, worked out before anything is
applied: the changes, the trials it would enqueue, the budget, and what Optuna refuses.

Plain Python (no Textual): built on a thread from the open session, shown by
:class:`rltui.ui.screens.apply_preview.ApplyPreviewScreen`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rltui.search import attrs
from rltui.search.optuna_internals import storage_of, study_id_of
from rltui.search.storage import StorageError
from rltui.search.study import planned_trials, stored_spec
from rltui.spec import Problem, SpecError, StudyFile, incompatible_changes
from rltui.spec.changes import Change, refused_changes, study_changes

if TYPE_CHECKING:
    from rltui.ui.services.session import Session


@dataclass(frozen=True)
class Preview:
    """The outcome of applying ``study``: nothing is applied until the user confirms."""

    study: StudyFile
    changes: tuple[Change, ...]
    refused: tuple[Problem, ...]
    enqueued: int  # trials the grid and the hand-picked list would add now
    trials: int  # trials the study has now
    budget_before: int
    budget_after: int

    @property
    def applicable(self) -> bool:
        return not self.refused

    @property
    def empty(self) -> bool:
        """Nothing the study would feel: the text changed only in form (comments, layout)."""
        return not self.changes and not self.refused and not self.enqueued

    @property
    def over_budget(self) -> bool:
        """Enqueued trials all run, even past the budget (a grid runs whole passes)."""
        return self.trials + self.enqueued > self.budget_after

    def budget_lines(self) -> list[str]:
        lines = []
        if self.budget_after != self.budget_before:
            lines.append(f"budget: {self.budget_before} → {self.budget_after} trials")
        if self.enqueued:
            lines.append(
                f"{self.enqueued} trial{'s' if self.enqueued != 1 else ''} enqueued now "
                f"(grid points and hand-picked trials), ahead of sampled ones"
            )
        if self.over_budget:
            total = self.trials + self.enqueued
            lines.append(
                f"the study then holds {total} trials ({self.trials} so far), more than its "
                f"budget of {self.budget_after}: enqueued trials all run"
            )
        return lines


def build_preview(session: Session, study: StudyFile) -> Preview:
    """Compare ``study`` with the version in force and read what the storage would do."""
    storage, study_id = storage_of(session.ostudy), study_id_of(session.ostudy)
    try:  # the version in force may come from another host
        current = stored_spec(storage, study_id)
    except (StorageError, SpecError):
        current = session.study
    system = storage.get_study_system_attrs(study_id)
    requested = system.get(attrs.BUDGET)
    refused = (
        *incompatible_changes(current.space, study.space, study.spec.name),
        *refused_changes(current, study),
    )
    enqueued = 0 if refused else len(planned_trials(session.ostudy, study))
    return Preview(
        study=study,
        changes=tuple(study_changes(current, study)),
        refused=refused,
        enqueued=enqueued,
        trials=storage.get_n_trials(study_id),
        budget_before=current.budget(requested),
        budget_after=study.budget(requested),
    )


def text_diff(before: str, after: str, before_name: str, after_name: str) -> list[str]:
    """A unified diff of two study-file texts, without trailing newlines."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=before_name,
            tofile=after_name,
            n=2,
        )
    ]
