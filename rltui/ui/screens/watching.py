"""What the main screen tells about the study beyond its trial rows: the workers of every
host, one worker whole on demand, and paused trials that could not resume, announced once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rltui.search.reader import Snapshot, TrialRow
from rltui.search.workers import WorkerRecord
from rltui.ui.screens.host import MainScreenHost
from rltui.ui.screens.worker_detail import WorkerDetailScreen
from rltui.ui.widgets.log_view import LogView
from rltui.ui.widgets.workers_view import WorkersView

if TYPE_CHECKING:
    from rltui.ui.session import Session

NOTE_TIMEOUT = 12  # seconds: the reason is long, and the user has to act on it


class WatchMixin(MainScreenHost):
    """Mixed into the main screen, which provides the attributes below."""

    def show_workers(self, session: Session, snapshot: Snapshot) -> None:
        self.workers_view.show(
            snapshot.workers, session.study.spec.control.heartbeat_interval, session.launches
        )

    def worker_of(self, row: TrialRow | None) -> WorkerRecord | None:
        """The record of the worker that runs (or last ran) ``row``'s trial."""
        if row is None or not row.worker or self.snapshot is None:
            return None
        return next((w for w in self.snapshot.workers if w.id == row.worker), None)

    def follow_log(self) -> None:
        """The log panel follows the selected trial's worker."""
        row = self.table.selected_row
        record = self.worker_of(row)
        log = self.query_one(LogView)
        if record is not None and record.log and row is not None:
            log.follow(Path(record.log), f"worker {record.id} (trial {row.number})")
        else:
            log.follow(None)

    def on_workers_view_worker_chosen(self, event: WorkersView.WorkerChosen) -> None:
        self.app.push_screen(WorkerDetailScreen(event.record, self.clock, event.late))

    def announce_notes(self, session: Session, snapshot: Snapshot) -> None:
        """Notify once when a paused trial gets a note (a resume that could not reach its
        checkpoint), not on every poll; a different note on the same trial is news again.

        Only the changed rows are looked at, so this costs nothing on a quiet study; the
        first snapshot of a study has every row changed, so notes written while no UI was
        open are announced when the study opens.
        """
        noted: dict[int, str] = getattr(self, "_noted", {})
        if getattr(self, "_noted_session", None) is not session:
            noted = {}
        self._noted_session, self._noted = session, noted
        new: list[TrialRow] = []
        for number in sorted(snapshot.changed):
            row = snapshot.rows.get(number)
            if row is None or row.note is None:
                noted.pop(number, None)
            elif noted.get(number) != row.note:
                noted[number] = row.note
                new.append(row)
        if len(new) == 1:
            self.notify(
                f"{new[0].note}\n(r asks to resume it again)",
                title=f"Trial {new[0].number} could not resume: still PAUSED",
                severity="warning",
                timeout=NOTE_TIMEOUT,
            )
        elif new:
            numbers = ", ".join(str(row.number) for row in new)
            self.notify(
                f"trials {numbers}: {new[0].note}\n(enter on a trial shows its reason)",
                title=f"{len(new)} paused trials could not resume",
                severity="warning",
                timeout=NOTE_TIMEOUT,
            )
