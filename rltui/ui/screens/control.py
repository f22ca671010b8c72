"""The main screen's keyboard control: trials, workers, drain, theme, quit.

Every action is a Binding with an ``id`` (so users can remap it), appears in the command
palette, is acknowledged with a notification, and is greyed out by ``check_action`` when it
does not apply. Storage writes run on thread workers; the poller is woken afterwards so the
table shows the result at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.binding import Binding

from rltui.search.endings import STOPPED_BY_USER
from rltui.search.lifecycle import ALLOWED, ControlAction, TrialStatus
from rltui.search.reader import TrialRow
from rltui.search.workers import WorkerRecord
from rltui.ui.screens.dialogs import ConfirmScreen, QuitScreen, UnsavedScreen
from rltui.ui.screens.enqueue import EnqueueScreen, QueueRequest
from rltui.ui.screens.host import MainScreenHost

if TYPE_CHECKING:
    from rltui.ui.session import Session

TRIAL_ACTIONS: dict[str, ControlAction] = {
    "pause": ControlAction.PAUSE,
    "resume": ControlAction.RESUME,
    "prune": ControlAction.PRUNE,
    "kill": ControlAction.KILL,
}

CHECKED = (
    *TRIAL_ACTIONS,
    "enqueue",
    "start_worker",
    "drain",
    "drain_worker",
    "resume_all",
)

# Keys of the study and the app: on the screen, so they work from every pane but the ones
# where the same keys are text.
STUDY_BINDINGS = [
    Binding("w", "start_worker", "+Worker", tooltip="Start a local worker", id="worker.start"),
    Binding(
        "W",
        "drain_worker",
        "-Worker",
        show=False,
        tooltip="Remove one worker after its current trial",
        id="worker.drain",
    ),
    Binding(
        "d",
        "drain",
        "Drain",
        show=False,
        tooltip="Drain: workers finish their trials and take no new ones (toggle)",
        id="study.drain",
    ),
    Binding(
        "R",
        "resume_all",
        "Resume all",
        show=False,
        tooltip="Resume every paused trial",
        id="study.resume_all",
    ),
    Binding(
        "t", "next_theme", "Theme", show=False, tooltip="Switch to the next theme", id="app.theme"
    ),
    Binding(
        "q",
        "quit_rltui",
        "Quit",
        tooltip="Quit (running workers keep going unless you say; unsaved edits are asked about)",
        id="app.quit",
    ),
]
# Actions bound to keys that are text where text is typed: hidden from the footer there.
TYPED_KEY_ACTIONS = frozenset([*(b.action for b in STUDY_BINDINGS), *TRIAL_ACTIONS, "enqueue"])


class ControlMixin(MainScreenHost):
    """Mixed into the main screen, which provides the attributes below."""

    # Applicability -------------------------------------------------------------

    def selected_trial(self) -> TrialRow | None:
        return self.table.selected_row

    def live_workers(self) -> list[WorkerRecord]:
        return [w for w in (self.snapshot.workers if self.snapshot else []) if w.alive]

    def why_not(self, action: str) -> str | None:
        """None when ``action`` applies now, else the reason it does not."""
        if action in TRIAL_ACTIONS:
            if self.session is None:
                return "no study is open"
            row = self.selected_trial()
            if row is None:
                return "no trial is selected"
            if TRIAL_ACTIONS[action] not in ALLOWED[row.status]:
                return f"trial {row.number} is {row.status.value}"
            return None
        if action in ("enqueue", "start_worker", "drain", "resume_all") and self.session is None:
            return "no study is open"
        if action == "resume_all" and not any(
            row.status == TrialStatus.PAUSED
            for row in (self.snapshot.rows.values() if self.snapshot else ())
        ):
            return "no trial is paused"
        if action == "drain_worker" and not self.live_workers():
            return "no worker is running"
        return None

    def refresh_keys(self) -> None:
        """Refresh the footer only when what applies changed: it recomposes on each refresh."""
        applies = tuple(self.why_not(a) is None for a in CHECKED)
        if applies != getattr(self, "_applies", None):
            self._applies = applies
            self.refresh_bindings()  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in TYPED_KEY_ACTIONS and self.typing():
            return False
        if action not in CHECKED:
            return True
        return True if self.why_not(action) is None else None

    def invoke(self, action: str) -> None:
        """Run ``action`` from the palette: like its key, but says why when it does not apply."""
        reason = self.why_not(action)
        if reason:
            self.notify(f"{action.replace('_', ' ')}: {reason}", severity="warning")
            return
        getattr(self, f"action_{action}")()

    # Trials ----------------------------------------------------------------------

    def _control(self, action: str) -> None:
        row = self.selected_trial()
        if row is None or self.session is None:
            return
        self._request(self.session, row.number, TRIAL_ACTIONS[action])

    @work(thread=True, exit_on_error=False, group="control")
    def _request(self, session: Session, number: int, action: ControlAction) -> None:
        message = session.request(number, action)
        self.notify(
            message, severity="warning" if message.startswith("not done") else "information"
        )
        self.wake_poller()

    def action_pause(self) -> None:
        self._control("pause")

    def action_resume(self) -> None:
        self._control("resume")

    def action_prune(self) -> None:
        self._control("prune")

    def action_kill(self) -> None:
        row = self.selected_trial()
        if row is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._control("kill")
            else:
                self.notify(f"trial {row.number} left running", title="Kill cancelled")

        self.app.push_screen(
            ConfirmScreen(
                f"Kill trial {row.number}? It ends FAIL with the reason '{STOPPED_BY_USER}'.",
                yes="Kill",
            ),
            answered,
        )

    def action_enqueue(self) -> None:
        session = self.session
        if session is None:
            return
        row = self.selected_trial()
        clone_of = row.number if row is not None else None

        def answered(request: QueueRequest | None) -> None:
            if request is None:
                self.notify("nothing enqueued", title="Enqueue cancelled")
            else:
                self._enqueue(session, request, clone_of)

        self.app.push_screen(
            EnqueueScreen(session.study.space, dict(row.params) if row else {}, clone_of), answered
        )

    @work(thread=True, exit_on_error=False, group="control")
    def _enqueue(self, session: Session, request: QueueRequest, clone_of: int | None) -> None:
        self.notify(session.enqueue(request.params, clone_of, run_next=request.run_next))
        self.wake_poller()

    # Workers and the study ----------------------------------------------------------

    def action_start_worker(self) -> None:
        if self.snapshot is not None and self.snapshot.draining:
            self.notify(
                "the study is draining: a new worker takes no trial and leaves at once "
                "(d lifts the drain)",
                severity="warning",
                timeout=6,
            )
        if self.session is not None:
            # On the UI thread, so that each press gets its own index (its own sampler seed).
            known = self.snapshot.workers if self.snapshot is not None else []
            self._start_worker(self.session, self.session.next_worker_index(known))

    @work(thread=True, exit_on_error=False, group="control")
    def _start_worker(self, session: Session, index: int) -> None:
        try:
            self.notify(
                session.start_workers(1, first_index=index)
                + f", index {index}; logs in {session.log_dir}"
            )
            self.wake_poller()  # its "starting" entry shows at once
        except (OSError, ValueError) as exc:  # ValueError: a bad RLTUI_WORKER_NICE, said how
            self.notify(f"could not start a worker: {exc}", severity="error")

    def action_drain_worker(self) -> None:
        if self.session is None:
            return
        record = self.workers_view.selected
        if record is None or not record.alive:
            live = self.live_workers()
            row = self.selected_trial()
            mine = [w for w in live if row is not None and w.id == row.worker]
            candidates = mine or live[-1:]
            record = candidates[0] if candidates else None
        if record is None:
            self.notify("no worker is running", severity="warning")
            return
        self._drain_worker(self.session, record)

    @work(thread=True, exit_on_error=False, group="control")
    def _drain_worker(self, session: Session, record: WorkerRecord) -> None:
        self.notify(session.drain_worker(record))
        self.wake_poller()

    def action_drain(self) -> None:
        if self.session is not None:
            on = not (self.snapshot.draining if self.snapshot else False)
            self._set_drain(self.session, on)

    @work(thread=True, exit_on_error=False, group="control")
    def _set_drain(self, session: Session, on: bool) -> None:
        self.notify(session.set_drain(on))
        self.wake_poller()

    # The app -------------------------------------------------------------------------

    def action_next_theme(self) -> None:
        names = self.app.theme_names
        current = self.app.theme
        following = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        self.app.theme = following
        self.notify(f"theme: {following}")

    def action_resume_all(self) -> None:
        if self.session is not None:
            self._resume_all(self.session, not self.live_workers())

    @work(thread=True, exit_on_error=False, group="control")
    def _resume_all(self, session: Session, idle: bool) -> None:
        count = session.controller.resume_all()
        note = f"{count} paused trial{'s' if count != 1 else ''} queued to resume"
        if count and idle:
            note += "; no worker is running: w starts one"
        self.notify(note)
        self.wake_poller()

    def action_quit_rltui(self) -> None:
        pane = self.study_pane
        if pane.modified:

            def answered(choice: str | None) -> None:
                if choice == "save":
                    pane.save_only(then=self._quit_workers)
                elif choice == "discard":
                    self._quit_workers()
                else:
                    self.notify("still here: your edits are in the Study file tab")

            name = pane.path.name if pane.path else "the study file"
            self.app.push_screen(UnsavedScreen(name), answered)
            return
        self._quit_workers()

    def _quit_workers(self) -> None:
        live = self.live_workers()
        if not live or self.session is None:
            self.app.exit(0)
            return
        session = self.session

        def answered(choice: str | None) -> None:
            if choice == "keep":
                self.notify(f"{len(live)} worker(s) keep going")
                self.app.exit(0)
            elif choice == "stop":
                self._stop_and_quit(session, live)
            else:
                self.notify("still here")

        self.app.push_screen(QuitScreen(len(live)), answered)

    @work(thread=True, exit_on_error=False, group="control")
    def _stop_and_quit(self, session: Session, live: list[WorkerRecord]) -> None:
        self.notify(session.stop_local_workers(live))
        self.app.call_from_thread(self.app.exit, 0)
