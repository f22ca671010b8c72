"""What the main screen's study keys do: control the selected trial, enqueue, start and drain
workers, drain the study, resume every paused trial, switch theme, quit.

Every action is a Binding with an ``id`` (so users can remap it), appears in the command
palette, is acknowledged with a notification, and is greyed out by the screen's
``check_action`` (which asks :meth:`StudyControls.check`) when it does not apply. Storage
writes run on thread workers of the screen; the poller is woken afterwards so the table shows
the result at once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.notifications import SeverityLevel

from rltui.search.endings import STOPPED_BY_USER
from rltui.search.lifecycle import ALLOWED, ControlAction, TrialStatus
from rltui.search.reader import TrialRow
from rltui.search.workers import WorkerRecord
from rltui.spec.wording import counted, verb
from rltui.ui.models.worker_places import SLURM, SSH, Place
from rltui.ui.screens.dialogs import ConfirmScreen, QuitScreen, UnsavedScreen
from rltui.ui.screens.picker import Picker

if TYPE_CHECKING:
    from rltui.ui.app import RltuiApp
    from rltui.ui.screens.enqueue import QueueRequest
    from rltui.ui.screens.main import MainScreen
    from rltui.ui.services.session import Session

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
        "O",
        "population",
        "Population",
        show=False,
        tooltip="Population of a PBT study: members, lineage, freeze, force an exploit",
        id="study.population",
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


class StudyControls:
    """The study's and the app's actions for ``screen``, which owns one and calls it from
    its key actions; it reads the screen's session, snapshot, table and workers view."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._applies: tuple[bool, ...] | None = None  # what applied when keys last refreshed

    # Applicability -------------------------------------------------------------

    def selected_trial(self) -> TrialRow | None:
        return self.screen.table.selected_row

    def live_workers(self) -> list[WorkerRecord]:
        snapshot = self.screen.snapshot
        return [w for w in (snapshot.workers if snapshot else []) if w.alive]

    def why_not(self, action: str) -> str | None:
        """None when ``action`` applies now, else the reason it does not."""
        session, snapshot = self.screen.session, self.screen.snapshot
        if action in TRIAL_ACTIONS:
            if session is None:
                return "no study is open"
            row = self.selected_trial()
            if row is None:
                return "no trial is selected"
            if TRIAL_ACTIONS[action] not in ALLOWED[row.status]:
                return f"trial {row.number} is {row.status.value}"
            return None
        if action in ("enqueue", "start_worker", "drain", "resume_all") and session is None:
            return "no study is open"
        if action == "resume_all" and not any(
            row.status == TrialStatus.PAUSED for row in (snapshot.rows.values() if snapshot else ())
        ):
            return "no trial is paused"
        if action == "drain_worker" and not self.live_workers():
            return "no worker is running"
        return None

    def check(self, action: str) -> bool | None:
        """The screen's ``check_action`` for these actions: False hides the key (it is text
        where the focus is), None greys it out, True shows it."""
        if action in TYPED_KEY_ACTIONS and self.screen.typing():
            return False
        if action not in CHECKED:
            return True
        return True if self.why_not(action) is None else None

    def refresh_keys(self) -> None:
        """Refresh the footer only when what applies changed: it recomposes on each refresh."""
        applies = tuple(self.why_not(a) is None for a in CHECKED)
        if applies != self._applies:
            self._applies = applies
            self.screen.refresh_bindings()

    def _in_thread(self, name: str, work: Callable[[], None]) -> None:
        """Run ``work`` (storage writes, process starts) on a thread worker of the screen;
        a failure is reported by the app under ``name``."""
        self.screen.run_worker(work, name=name, group="control", thread=True, exit_on_error=False)

    def _done(self, message: str, severity: SeverityLevel = "information") -> None:
        """Say what happened (from a thread) and show it in the table at once."""
        self.screen.notify(message, severity=severity)
        self.screen.wake_poller()

    # Trials ----------------------------------------------------------------------

    def control(self, action: ControlAction) -> None:
        """Ask the selected trial's worker to pause, resume or prune it (kill: :meth:`kill`)."""
        row = self.selected_trial()
        session = self.screen.session
        if row is None or session is None:
            return
        self._in_thread("_request", partial(self._request, session, row.number, action))

    def _request(self, session: Session, number: int, action: ControlAction) -> None:
        message = session.request(number, action)
        self._done(message, "warning" if message.startswith("not done") else "information")

    def kill(self) -> None:
        """Kill the selected trial once the user confirms."""
        row = self.selected_trial()
        if row is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.control(ControlAction.KILL)
            else:
                self.screen.notify(f"trial {row.number} left running", title="Kill cancelled")

        self.screen.app.push_screen(
            ConfirmScreen(
                f"Kill trial {row.number}? It ends FAIL with the reason '{STOPPED_BY_USER}'.",
                yes="Kill",
            ),
            answered,
        )

    def enqueue(self) -> None:
        """Ask for a parameter set (the selected trial's, to edit) and enqueue it."""
        session = self.screen.session
        if session is None:
            return
        row = self.selected_trial()
        clone_of = row.number if row is not None else None
        from rltui.ui.screens.enqueue import EnqueueScreen  # loaded when first opened

        def answered(request: QueueRequest | None) -> None:
            if request is None:
                self.screen.notify("nothing enqueued", title="Enqueue cancelled")
            else:
                self._in_thread("_enqueue", partial(self._enqueue, session, request, clone_of))

        self.screen.app.push_screen(
            EnqueueScreen(session.study.space, dict(row.params) if row else {}, clone_of), answered
        )

    def _enqueue(self, session: Session, request: QueueRequest, clone_of: int | None) -> None:
        self._done(session.enqueue(request.params, clone_of, run_next=request.run_next))

    # Workers and the study ----------------------------------------------------------

    def start_worker(self) -> None:
        snapshot, session = self.screen.snapshot, self.screen.session
        if snapshot is not None and snapshot.draining:
            self.screen.notify(
                "the study is draining: a new worker takes no trial and leaves at once "
                "(d lifts the drain)",
                severity="warning",
                timeout=6,
            )
        if session is not None:
            # On the UI thread, so that each press gets its own index (its own sampler seed).
            records = list(snapshot.workers) if snapshot is not None else []
            index = session.next_worker_index(records)
            self._in_thread("_start_worker", partial(self._ask_where, session, index, records))

    def _ask_where(self, session: Session, index: int, records: list[WorkerRecord]) -> None:
        """On a thread (the host's GPUs are read): start here at once when there is no other
        place, else ask where (:class:`Picker`)."""
        places = session.worker_places(records)
        if not places:
            self._start_worker(session, index, records, None)
            return

        def picked(answer: tuple[Place] | None) -> None:
            if answer is None:
                self.screen.notify("no worker started", timeout=2)
                return
            start = partial(self._start_worker, session, index, records, answer[0])
            self._in_thread("_start_worker", start)

        picker = Picker(
            "Start a worker where?",
            "enter starts it there · esc starts none",
            [(p, p.label) for p in places],
        )
        self.screen.app.call_from_thread(self.screen.app.push_screen, picker, picked)

    def _start_worker(
        self, session: Session, index: int, records: list[WorkerRecord], place: Place | None
    ) -> None:
        from rltui.launch.ssh import LaunchError  # the launchers: not on the first paint

        try:
            said = session.start_workers(1, first_index=index, records=records, place=place)
            local = place is None or place.key not in (SSH, SLURM)
            self._done(said + (f", index {index}; logs in {session.log_dir}" if local else ""))
        # ValueError: a bad RLTUI_WORKER_NICE, or no room on the GPUs (workers_per_gpu), said
        # how; LaunchError: what ssh or sbatch said.
        except (OSError, ValueError, LaunchError) as exc:
            self.screen.notify(f"could not start a worker: {exc}", severity="error")

    def drain_worker(self) -> None:
        """Drain the worker selected in the sidebar, else the selected trial's, else the
        newest."""
        session = self.screen.session
        if session is None:
            return
        record = self.screen.workers_view.selected
        if record is None or not record.alive:
            live = self.live_workers()
            row = self.selected_trial()
            mine = [w for w in live if row is not None and w.id == row.worker]
            candidates = mine or live[-1:]
            record = candidates[0] if candidates else None
        if record is None:
            self.screen.notify("no worker is running", severity="warning")
            return
        self._in_thread("_drain_worker", partial(self._drain_worker, session, record))

    def _drain_worker(self, session: Session, record: WorkerRecord) -> None:
        self._done(session.drain_worker(record))

    def toggle_drain(self) -> None:
        session, snapshot = self.screen.session, self.screen.snapshot
        if session is not None:
            on = not (snapshot.draining if snapshot else False)
            self._in_thread("_set_drain", partial(self._set_drain, session, on))

    def _set_drain(self, session: Session, on: bool) -> None:
        self._done(session.set_drain(on))

    def resume_all(self) -> None:
        session = self.screen.session
        if session is not None:
            idle = not self.live_workers()
            self._in_thread("_resume_all", partial(self._resume_all, session, idle))

    def _resume_all(self, session: Session, idle: bool) -> None:
        count = len(session.controller.resume_all())
        note = f"{count} paused trial{'s' if count != 1 else ''} queued to resume"
        if count and idle:
            note += "; no worker is running: w starts one"
        self._done(note)

    def population(self) -> None:
        from rltui.ui.screens.population import open_population

        open_population(self.screen)

    # The app -------------------------------------------------------------------------

    def next_theme(self) -> None:
        app = cast("RltuiApp", self.screen.app)
        names = app.theme_names
        current = app.theme
        following = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
        app.theme = following
        self.screen.notify(f"theme: {following}")

    def quit(self) -> None:
        """Quit, asking first about unsaved edits, then about running workers."""
        pane = self.screen.study_pane
        if pane.modified:

            def answered(choice: str | None) -> None:
                if choice == "save":
                    pane.save_only(then=self._quit_workers)
                elif choice == "discard":
                    self._quit_workers()
                else:
                    self.screen.notify("still here: your edits are in the Study file tab")

            name = pane.path.name if pane.path else "the study file"
            self.screen.app.push_screen(UnsavedScreen(name), answered)
            return
        self._quit_workers()

    def _quit_workers(self) -> None:
        app = self.screen.app
        live = self.live_workers()
        session = self.screen.session
        if not live or session is None:
            app.exit(0)
            return

        def answered(choice: str | None) -> None:
            if choice == "keep":
                self.screen.notify(
                    f"{counted(len(live), 'worker')} {verb(len(live), 'keeps', 'keep')} going"
                )
                app.exit(0)
            elif choice == "stop":
                self._in_thread("_stop_and_quit", partial(self._stop_and_quit, session, live))
            else:
                self.screen.notify("still here")

        app.push_screen(QuitScreen(len(live)), answered)

    def _stop_and_quit(self, session: Session, live: list[WorkerRecord]) -> None:
        self.screen.notify(session.stop_local_workers(live))
        self.screen.app.call_from_thread(self.screen.app.exit, 0)
