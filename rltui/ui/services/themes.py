"""Themes as small YAML data files turned into :class:`textual.theme.Theme`.

rltui ships ``rltui/themes/rltui-{dark,light,ansi}.yaml`` (package data, so a wheel has them);
users drop their own file into a ``themes/`` folder where they run rltui or the ``themes``
folder of their rltui config folder (``~/.config/rltui/themes/`` on Linux; a
later folder wins for the same name). A file that cannot be read is reported once and skipped;
when the default itself is broken a copy built into this module is used, so the UI always
starts.

Which theme a run starts in: the one asked for on the command line, else the one the user last
picked (remembered in their settings), else the one that fits the terminal: ``rltui-ansi``
where it shows fewer than 256 colours, whose 16 colours the terminal's own palette draws.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml
from textual.color import Color, ColorParseError
from textual.theme import Theme

from rltui.ui.services.settings import UserSettings, config_dir

DEFAULT_THEME = "rltui-dark"
ANSI_THEME = "rltui-ansi"
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "themes"  # package data: in the wheel too
# Rich's names (``Console.color_system``) of the colour systems with fewer than 256 colours.
# Not None (NO_COLOR set): Textual then greys out a theme's colours, and the 16-colour theme's
# ANSI names, which it cannot grey, come out as black on black.
FEW_COLOURS = frozenset({"standard", "windows"})

_COLOUR_KEYS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN = {f.name for f in fields(Theme)}

# Used when rltui-dark.yaml is missing or broken, so the UI still starts in its own colours.
FALLBACK = Theme(
    name=DEFAULT_THEME,
    primary="#3B8EEA",
    secondary="#8C7AE6",
    accent="#E5A550",
    warning="#E5C07B",
    error="#F14C4C",
    success="#89D185",
    foreground="#D4D4D4",
    background="#1E1E1E",
    surface="#252526",
    panel="#2D2D30",
    dark=True,
)


class ThemeFileError(Exception):
    """A theme file that cannot be used; the message names the file and the key."""


@dataclass
class LoadedThemes:
    """The themes found, in the order to cycle through them, and one line per broken file."""

    themes: dict[str, Theme] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.themes)


def theme_dirs() -> list[Path]:
    """Folders searched for theme files, lowest priority first."""
    dirs = [SHIPPED_DIR, Path.cwd() / "themes", config_dir() / "themes"]
    extra = os.environ.get("RLTUI_THEMES")
    if extra:
        dirs.append(Path(extra).expanduser())
    unique: list[Path] = []
    for folder in dirs:
        if folder.resolve() not in [d.resolve() for d in unique]:
            unique.append(folder)
    return unique


def parse_theme(data: Any, source: str) -> Theme:
    """A Theme from the mapping in a theme file; raises :class:`ThemeFileError`."""
    if not isinstance(data, dict):
        raise ThemeFileError(f"{source}: a theme file must be a mapping of key: value")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ThemeFileError(
            f"{source}: unknown key '{unknown[0]}' (known: {', '.join(sorted(_KNOWN))})"
        )
    if not isinstance(data.get("name"), str) or not data["name"]:
        raise ThemeFileError(f"{source}: 'name' is required")
    if not isinstance(data.get("primary"), str):
        raise ThemeFileError(f"{source}: 'primary' colour is required")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{source}: 'variables' must be a mapping")
    for key in _COLOUR_KEYS:
        if data.get(key) is not None:
            _check_colour(str(data[key]), f"{source}: {key}")
    for key, value in variables.items():
        text = str(value)
        if key.endswith(("-background", "-foreground", "-color")) or key in ("border", "scrollbar"):
            _check_colour(text, f"{source}: variables.{key}")
    values = {k: (str(v) if k in _COLOUR_KEYS and v is not None else v) for k, v in data.items()}
    values["variables"] = {str(k): str(v) for k, v in variables.items()}
    try:
        return Theme(**values)  # type: ignore[arg-type]  # checked key by key above
    except (TypeError, ValueError) as exc:
        raise ThemeFileError(f"{source}: {exc}") from None


def _check_colour(text: str, where: str) -> None:
    try:
        Color.parse(text)
    except ColorParseError:
        raise ThemeFileError(f"{where}: '{text}' is not a colour") from None


def load_theme_file(path: Path) -> Theme:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ThemeFileError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return parse_theme(data, str(path))


def load_themes(dirs: Iterable[Path] | None = None) -> LoadedThemes:
    """Every theme file in ``dirs``; the default theme is always present and first."""
    loaded = LoadedThemes()
    for folder in theme_dirs() if dirs is None else dirs:
        if not folder.is_dir():
            continue
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                loaded.problems.append(str(exc))
                continue
            loaded.themes[theme.name] = theme
    default = loaded.themes.pop(DEFAULT_THEME, FALLBACK)
    loaded.themes = {DEFAULT_THEME: default, **loaded.themes}
    return loaded


def initial_theme(
    names: Sequence[str],
    color_system: str | None,
    *,
    requested: str | None = None,
    remembered: str | None = None,
) -> str:
    """The theme to start in, among the loaded ``names``.

    ``color_system`` is the terminal's as Rich names it (``App.console.color_system``:
    "standard", "256", "truecolor", "windows"); pass None when NO_COLOR is set (the default
    theme, which Textual shows in greys). A theme
    ``requested`` on the command line comes first, then the one the user ``remembered``
    (picked in an earlier run, in a terminal with as many colours: :func:`remember_theme`),
    each only when it is loaded; else the terminal decides.
    """
    for wanted in (requested, remembered):
        if wanted is not None and wanted in names:
            return wanted
    if few_colours(color_system) and ANSI_THEME in names:
        return ANSI_THEME
    return DEFAULT_THEME


def few_colours(color_system: str | None) -> bool:
    """Whether a terminal of ``color_system`` (Rich's name) has fewer than 256 colours."""
    return color_system in FEW_COLOURS


def remember_theme(name: str, settings: UserSettings, *, few: bool = False) -> None:
    """Keep the user's pick for the next run in a terminal like this one (``few``: fewer
    than 256 colours); problems go to ``settings.unreported()``."""
    settings.remember(**{"theme_16" if few else "theme": name})
