"""What the main screen tells about the study that the user did not directly cause: paused
trials that could not resume (announced once per note), and the events between two snapshots
(workers that ended or were lost, trials retried, the budget reached, a full disk), each a
notification once and a line in the Events tab.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rltui.search.events import ROUTINE, events_between
from rltui.search.reader import Snapshot, TrialRow
from rltui.ui.widgets.events_view import EventsView

if TYPE_CHECKING:
    from rltui.ui.screens.main import MainScreen
    from rltui.ui.services.session import Session

NOTE_TIMEOUT = 12  # seconds: the reason is long, and the user has to act on it
EVENT_TIMEOUT = 8


class StudyNews:
    """Announces news of each snapshot ``screen`` applies; the screen owns one."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._noted: dict[int, str] = {}  # trial number → the note last announced
        self._noted_session: Session | None = None

    def announce(self, previous: Snapshot | None, snapshot: Snapshot, session: Session) -> None:
        """Tell what is new in ``snapshot`` since ``previous`` (None: the study just opened)."""
        self.announce_notes(session, snapshot)
        self.announce_events(previous, snapshot, session)

    def announce_notes(self, session: Session, snapshot: Snapshot) -> None:
        """Notify once when a paused trial gets a note (a resume that could not reach its
        checkpoint), not on every poll; a different note on the same trial is news again.

        Only the changed rows are looked at, so this costs nothing on a quiet study; the
        first snapshot of a study has every row changed, so notes written while no UI was
        open are announced when the study opens.
        """
        if self._noted_session is not session:
            self._noted_session, self._noted = session, {}
        noted = self._noted
        new: list[TrialRow] = []
        for number in sorted(snapshot.changed):
            row = snapshot.rows.get(number)
            if row is None or row.note is None:
                noted.pop(number, None)
            elif noted.get(number) != row.note:
                noted[number] = row.note
                new.append(row)
        if len(new) == 1:
            self.screen.notify(
                f"{new[0].note}\n(r asks to resume it again)",
                title=f"Trial {new[0].number} could not resume: still PAUSED",
                severity="warning",
                timeout=NOTE_TIMEOUT,
            )
        elif new:
            numbers = ", ".join(str(row.number) for row in new)
            self.screen.notify(
                f"trials {numbers}: {new[0].note}\n(enter on a trial shows its reason)",
                title=f"{len(new)} paused trials could not resume",
                severity="warning",
                timeout=NOTE_TIMEOUT,
            )

    def announce_events(
        self, previous: Snapshot | None, snapshot: Snapshot, session: Session
    ) -> None:
        """Events once as a notification, and kept in the Events tab."""
        events = events_between(previous, snapshot, session.study.announced_budget)
        if not events:
            return
        self.screen.query_one(EventsView).add(events)
        for event in (e for e in events if e.kind not in ROUTINE):
            self.screen.notify(
                event.text, title=event.title, severity=event.severity, timeout=EVENT_TIMEOUT
            )
