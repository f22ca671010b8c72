"""The user's settings: a small YAML file in the user's config folder (platformdirs).

It holds what the user chose in the UI and expects to find again next time (for now the
theme). The file is written atomically, so a crash never leaves half a file; keys this
version does not know are kept, so an older rltui never erases a newer one's settings. A file
that cannot be read is reported once, ignored, and never overwritten: the user's text stays
for them to fix, and nothing reaches them as a traceback.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
import yaml

APP_NAME = "rltui"
SETTINGS_NAME = "settings.yaml"


def config_dir() -> Path:
    """The user's rltui config folder (``$XDG_CONFIG_HOME/rltui`` on Linux), read each call
    so that the environment in force decides."""
    return Path(platformdirs.user_config_dir(APP_NAME))


def settings_path() -> Path:
    """Where the user's settings file lives."""
    return config_dir() / SETTINGS_NAME


@dataclass(frozen=True)
class Settings:
    """What the user chose; ``None`` where they chose nothing."""

    theme: str | None = None
    # Picked in a terminal with fewer than 256 colours: a theme picked in a richer one would
    # be unreadable there, and the other way round.
    theme_16: str | None = None


class UserSettings:
    """The settings file: :meth:`load` it, :meth:`remember` a choice, and ask
    :meth:`unreported` for problems to show the user (each problem is returned once)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else settings_path()
        self._pending: list[str] = []
        self._told: set[str] = set()
        # Cleared when the file exists but cannot be read: it is then never overwritten.
        self._writable = True

    def load(self) -> Settings:
        """The settings in the file; defaults where it is missing, unreadable or wrong."""
        data = self._read()
        if data is None:
            return Settings()
        names = {}
        for key in ("theme", "theme_16"):
            theme = data.get(key)
            if theme is not None and not (isinstance(theme, str) and theme):
                self._problem(
                    f"{self.path}: '{key}' must be a theme name, not {theme!r}; it is ignored "
                    "(pick a theme with t to replace it)"
                )
                theme = None
            names[key] = theme
        return Settings(**names)

    def remember(self, **choices: str) -> None:
        """Write ``choices`` into the file, keeping every other key in it. A file that could
        not be read is left as it is; a failed write is reported, never raised."""
        if not self._writable:
            return
        data = self._read() or {}
        if not self._writable:
            return
        data.update(choices)
        try:
            write_privately(self.path, yaml.safe_dump(data, sort_keys=True))
        except OSError as exc:
            self._problem(
                f"cannot save the settings to {self.path}: {exc.strerror or exc} "
                "(check that the folder can be written); the choice lasts until rltui closes"
            )

    def unreported(self) -> list[str]:
        """Problems met since the last call, each at most once per run."""
        fresh, self._pending = self._pending, []
        return fresh

    def _read(self) -> dict[str, Any] | None:
        """The file's mapping; ``None`` when there is no file or it cannot be used."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):  # no file (yet): saving says why not
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._unusable(f"cannot be read ({getattr(exc, 'strerror', None) or exc})")
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f" at line {mark.line + 1}" if mark is not None else ""
            self._unusable(f"is not valid YAML{line} ({getattr(exc, 'problem', None) or exc})")
            return None
        if data is None:  # an empty file: nothing chosen yet
            return {}
        if not isinstance(data, dict):
            self._unusable("must be a mapping of key: value, such as 'theme: rltui-light'")
            return None
        return {str(key): value for key, value in data.items()}

    def _unusable(self, why: str) -> None:
        self._writable = False
        self._problem(
            f"the settings file {self.path} {why}; it is ignored and left as it is "
            "(fix or delete it to save settings again)"
        )

    def _problem(self, text: str) -> None:
        if text not in self._told:
            self._told.add(text)
            self._pending.append(text)


def write_privately(path: Path, text: str) -> None:
    """Replace ``path`` by a file holding ``text``, readable by this user alone (mode 0600):
    readers see the old file or the new one, never a part (a temporary file in the same
    folder, flushed, then renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
