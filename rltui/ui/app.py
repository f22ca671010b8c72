"""The rltui application: opens a study (off the event loop), loads themes, shows the main
screen. Everything else lives in the screens and widgets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import work
from textual.app import App
from textual.command import CommandPalette, Provider
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from rltui.spec.reading import read_study, why_unreadable
from rltui.ui.screens.dialogs import UnsavedScreen
from rltui.ui.screens.main import MainScreen
from rltui.ui.screens.palette import RltuiCommands, RltuiPalette
from rltui.ui.screens.poller import POLL_INTERVAL
from rltui.ui.services import memory, table_cache
from rltui.ui.services.lock_notices import LockNotices
from rltui.ui.services.settings import UserSettings
from rltui.ui.services.themes import few_colours, initial_theme, load_themes, remember_theme
from rltui.ui.textual.internals import install_typeahead_parser
from rltui.ui.textual.key_order import KeysInOrderApp
from rltui.ui.widgets.explorer import Explorer, find_study_files
from rltui.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    # Optuna and pydantic load on the thread that opens the study, after the first paint.
    from rltui.ui.services.session import Session

PAUSE_AT_MOST = 30.0  # seconds the collector stays paused at start-up, at most


class RltuiApp(KeysInOrderApp[int]):
    """A client of one study's storage; closing it stops no training."""

    TITLE = "rltui"
    CSS_PATH = "app.tcss"
    # Textual's own system commands are left out: its Quit skips rltui's question about
    # running workers, its Theme offers themes without rltui's colours; F1 lists the keys.
    COMMANDS: ClassVar[set[type[Provider] | Callable[[], type[Provider]]]] = {RltuiCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        study_file: Path | None = None,
        storage_url: str | None = None,
        study_name: str | None = None,
        *,
        theme: str | None = None,
        clock: Callable[[], datetime] = datetime.now,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        super().__init__()
        self.study_file = Path(study_file) if study_file is not None else None
        self.storage_url = storage_url
        self.study_name = study_name
        self.clock = clock
        self.poll_interval = poll_interval
        self.main_screen: MainScreen | None = None
        loaded = load_themes()
        for item in loaded.themes.values():
            self.register_theme(item)
        self.theme_names = loaded.names
        self._theme_problems = loaded.problems
        self.user_settings = UserSettings()
        self._lock_notices = LockNotices(self)
        saved = self.user_settings.load()
        # Textual hides NO_COLOR from its console: no colour counts as fewer than 256.
        colours = None if self.no_color else self.console.color_system
        self._few_colours = few_colours(colours)
        remembered = saved.theme_16 if self._few_colours else saved.theme
        self.theme = initial_theme(loaded.names, colours, requested=theme, remembered=remembered)

    async def on_mount(self) -> None:
        self._lock_notices.install()
        self.main_screen = MainScreen(clock=self.clock, poll_interval=self.poll_interval)
        await self.push_screen(self.main_screen)
        # Only a theme picked from now on is remembered, not the one chosen at start-up.
        self.watch(self, "theme", self._theme_picked, init=False)
        self._report_settings_problems()
        if self._theme_problems:
            self.notify(
                "\n".join(self._theme_problems),
                title="Theme files skipped (using the default)",
                severity="warning",
                timeout=8,
            )
        new = self._new_study_file()
        if new is not None:
            memory.resume()  # nothing to load until the new file is saved
            self._start_new(new)
        elif self.study_file is not None or (self.storage_url and self.study_name):
            if self.study_file is not None:
                try:
                    text = read_study(self.study_file)
                except (OSError, UnicodeDecodeError):
                    pass  # opening it says why it cannot be read
                else:
                    self.main_screen.show_file(self.study_file, text)
            # Without a study file there is nothing to show if the study cannot be opened.
            alone = self.study_file is None
            kept = table_cache.cache_file(self.study_file, self.storage_url, self.study_name)
            if kept is not None:
                # Shown while the study opens, read on a thread from the second frame on:
                # the first reaches the terminal sooner with one thread fewer taking the
                # interpreter (measured: 20 ms sooner than from the first frame on).
                screen = self.main_screen
                screen.call_after_refresh(screen.call_after_refresh, self._show_kept, kept)
            # After the first frame: the opening thread imports Optuna and reads the storage,
            # and would hold the interpreter while the window is laid out and drawn.
            self.main_screen.call_after_refresh(
                self.open_study,
                self.study_file,
                self.storage_url,
                self.study_name,
                quit_on_failure=alone,
            )
        else:
            memory.resume()  # nothing to load: the collector's pause (if any) ends here
            self.main_screen.query_one(StatusBar).show_message(
                " no study open: pick a study file in the explorer (ctrl+b)"
            )
        # The study shown settles the collector (MainScreen.apply); a study that never shows
        # (a storage that cannot be read) does not keep it paused for longer than this.
        self.set_timer(PAUSE_AT_MOST, memory.resume)

    def _new_study_file(self) -> Path | None:
        """The file a new study starts in: the one named on the command line when it does not
        exist yet, or ``study.yaml`` when no study was named and this folder holds no study
        file to pick (the explorer lists those of its subfolders too)."""
        if self.study_file is not None:
            return None if self.study_file.exists() else self.study_file
        if self.storage_url and self.study_name:
            return None
        here = Path.cwd()
        if (here / "study.yaml").exists() or find_study_files([here], depth=0, limit=1):
            return None
        return here / "study.yaml"

    def _start_new(self, path: Path) -> None:
        """Show the starter study as ``path``'s text, unsaved; saving writes it and opens it."""
        from rltui.ui.models.starter import starter

        assert self.main_screen is not None
        self.main_screen.show_file(path, starter(path.stem))
        self.main_screen.places.go("study")
        self.main_screen.query_one(StatusBar).show_message(
            f" {path.name} is new: edit this starter; ctrl+s writes it and opens the study"
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="open")
    def open_study(
        self,
        study_file: Path | None,
        storage_url: str | None,
        study_name: str | None,
        *,
        quit_on_failure: bool = False,
    ) -> None:
        """Create or join the study on a thread, then attach the main screen to it.

        When it cannot be opened and ``quit_on_failure`` (a storage and study name given on
        the command line, no study file) the app exits with status 1 and prints why on the
        terminal; otherwise it says why and stays, showing the study file for editing.
        """
        # Optuna, numpy and pydantic are objects that live as long as the process: the
        # collector would walk them again and again as they load.
        with memory.bulk_load():
            from rltui.ui.services.session import Session, SessionError

        try:
            session = Session.open(study_file, storage_url, study_name)
        except SessionError as exc:
            self.call_from_thread(self._open_failed, str(exc), quit_on_failure)
            return
        except Exception as exc:  # unforeseen: said the same way, never "opening…" for ever
            reason = f"{type(exc).__name__}: {exc}"
            if storage_url:
                from rltui.search.storage import mask_url

                reason = reason.replace(storage_url, mask_url(storage_url))
            self.call_from_thread(self._open_failed, reason, quit_on_failure)
            return
        names = session.study_names()
        self.call_from_thread(self._session_opened, session, names)

    @work(thread=True, exit_on_error=False, group="kept")
    def _show_kept(self, path: Path) -> None:
        kept = table_cache.load(path)
        if kept is not None:
            assert self.main_screen is not None
            self.call_from_thread(self.main_screen.show_kept, kept)

    def _open_failed(self, reason: str, quit_on_failure: bool) -> None:
        memory.resume()
        if quit_on_failure:
            # Printed after the screen is restored, like the CLI's other errors (the
            # message masks any password, as StorageError does).
            self.exit(return_code=1, message=Text(f"rltui: {reason}"))
            return
        self.notify(reason, title="Study not opened", severity="error", timeout=10)
        assert self.main_screen is not None
        if self.main_screen.session is None:  # a study already open stays, and its status
            self.main_screen.query_one(StatusBar).show_problem(f" study not opened: {reason}")
            self.main_screen.not_opened()

    def _session_opened(self, session: Session, names: list[str]) -> None:
        assert self.main_screen is not None
        self.study_file = session.study_file
        self.storage_url = session.url
        self.main_screen.attach(session)
        self.main_screen.query_one(Explorer).show_studies(names, session.name)
        self.notify(f"opened study '{session.name}'", timeout=3)
        if session.read_only:
            self.notify(
                f"opened to read only: {session.read_only}",
                title="Read-only study",
                severity="warning",
                timeout=12,
            )
        if session.file_differs is not None and session.study_file is not None:
            self.notify(
                f"{session.study_file.name} differs from the version in force "
                f"(v{session.file_differs}), which the study runs: ctrl+s in its editor shows "
                "what applying the file would change",
                title="Study file not applied",
                severity="warning",
                timeout=12,
            )
        for note in session.journal_notes():
            self.notify(note, title="Journal mended", severity="warning", timeout=12)

    def on_unmount(self) -> None:
        self._lock_notices.remove()

    def _theme_picked(self, name: str) -> None:
        remember_theme(name, self.user_settings, few=self._few_colours)
        self._report_settings_problems()

    def _report_settings_problems(self) -> None:
        for problem in self.user_settings.unreported():
            self.notify(problem, title="Settings", severity="warning", timeout=8)

    def action_command_palette(self) -> None:
        """rltui's palette: Enter runs the entry found for everything typed before it."""
        if self.use_command_palette and not CommandPalette.is_open(cast("App[Any]", self)):
            self.push_screen(RltuiPalette())

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: rltui's messages quote study files, storage
        URLs, errors and package extras (``rltui[postgres]``), never Rich markup."""
        del markup
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Background work that failed is reported once, here, instead of crashing the UI."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{type(error).__name__}: {error}",
                title=f"{event.worker.name} failed",
                severity="error",
                timeout=8,
            )

    def on_explorer_study_file_chosen(self, event: Explorer.StudyFileChosen) -> None:
        assert self.main_screen is not None
        shown = self.main_screen.study_pane.path
        if shown is not None and shown.resolve() == event.path.resolve():
            self._already_open(f"{event.path.name} is open: the Study file tab", "study")
            return
        self._leaving_the_buffer(partial(self._open_file, event.path))

    def on_explorer_stored_study_chosen(self, event: Explorer.StoredStudyChosen) -> None:
        assert self.main_screen is not None
        session = self.main_screen.session
        if session is not None and session.name == event.name:
            self._already_open(f"study '{event.name}' is open: the Trials tab", "trials")
            return
        if self.storage_url:
            self._leaving_the_buffer(partial(self._join, event.name))

    def _already_open(self, said: str, where: str) -> None:
        """The explorer chose what is open: go there; nothing to save or reopen."""
        assert self.main_screen is not None
        self.main_screen.places.go(where)
        self.notify(said, timeout=3)

    def _open_file(self, path: Path) -> None:
        assert self.main_screen is not None
        try:
            text = read_study(path)
        except (OSError, UnicodeDecodeError) as exc:
            self.notify(f"cannot read {path}: {why_unreadable(exc)}", severity="error")
            return
        self.main_screen.show_file(path, text)
        self.notify(f"opening {path.name}…", timeout=2)
        self.open_study(path, None, None)

    def _join(self, name: str) -> None:
        self.notify(f"joining study '{name}'…", timeout=2)
        self.open_study(None, self.storage_url, name)

    def _leaving_the_buffer(self, then: Callable[[], None]) -> None:
        """Switching study with unsaved edits asks first: save them, drop them, or stay."""
        assert self.main_screen is not None
        pane = self.main_screen.study_pane
        if not pane.modified:
            then()
            return

        def answered(choice: str | None) -> None:
            if choice == "save":
                pane.save_only(then=then)
            elif choice == "discard":
                then()
            else:
                self.notify("still here: your edits are in the Study file tab")

        name = pane.path.name if pane.path else "the study file"
        self.push_screen(UnsavedScreen(name, leaving="opening another study"), answered)


def run_ui(
    study_file: Path | None = None,
    storage_url: str | None = None,
    study_name: str | None = None,
    theme: str | None = None,
) -> int:
    """Run the UI until the user quits; returns the exit status for the CLI."""
    install_typeahead_parser()  # Esc and a key typed ahead of others read as Esc and the key
    app = RltuiApp(study_file, storage_url, study_name, theme=theme)
    result = app.run()
    return int(result or 0) if app.return_code in (None, 0) else int(app.return_code or 1)
