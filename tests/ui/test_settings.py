"""The user's settings file and the theme a run starts in: the terminal's colours decide until
the user picks one, and the pick is found again next time. Every test points platformdirs at a
temporary folder, so the real user's config is never read or written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from textual.app import App

from rltui.ui.services.settings import Settings, UserSettings, settings_path
from rltui.ui.services.themes import (
    ANSI_THEME,
    DEFAULT_THEME,
    initial_theme,
    remember_theme,
    theme_dirs,
)

NAMES = [DEFAULT_THEME, "rltui-light", ANSI_THEME]


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_the_settings_file_lives_in_the_users_config_folder(config_home: Path) -> None:
    assert settings_path() == config_home / "rltui" / "settings.yaml"
    assert config_home / "rltui" / "themes" in theme_dirs()


def test_a_picked_theme_is_found_again_and_other_keys_are_kept(config_home: Path) -> None:
    path = settings_path()
    assert UserSettings().load() == Settings()  # no file yet: nothing chosen
    path.parent.mkdir(parents=True)
    path.write_text("future_key: [1, 2]\n", encoding="utf-8")
    remember_theme("rltui-light", UserSettings())
    assert UserSettings().load().theme == "rltui-light"
    assert yaml.safe_load(path.read_text()) == {"future_key": [1, 2], "theme": "rltui-light"}
    # Written through a temporary file renamed over the old one: nothing else stays behind.
    assert [p.name for p in path.parent.iterdir()] == ["settings.yaml"]


@pytest.mark.parametrize(
    "text,why",
    [
        ("theme: [rltui-light\n", "is not valid YAML at line 2"),
        ("- rltui-light\n", "must be a mapping"),
        (b"\xff\xfe theme", "cannot be read"),
    ],
)
def test_a_corrupt_file_is_reported_once_ignored_and_never_overwritten(
    config_home: Path, text: str | bytes, why: str
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    settings = UserSettings()
    assert settings.load() == Settings()
    assert settings.load() == Settings()
    settings.remember(theme="rltui-light")
    problems = settings.unreported()
    assert len(problems) == 1, problems
    assert why in problems[0] and str(path) in problems[0] and "fix or delete it" in problems[0]
    assert settings.unreported() == []
    assert path.read_bytes() == before


def test_a_theme_that_is_not_a_name_is_ignored_and_replaced_by_the_next_pick(
    config_home: Path,
) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text("theme: 7\n", encoding="utf-8")
    settings = UserSettings()
    assert settings.load().theme is None
    assert "'theme' must be a theme name, not 7" in settings.unreported()[0]
    settings.remember(theme="rltui-light")
    assert UserSettings().load().theme == "rltui-light"


def test_a_folder_that_cannot_be_written_is_reported_once(tmp_path: Path) -> None:
    blocker = tmp_path / "rltui"
    blocker.write_text("a file where the config folder should be", encoding="utf-8")
    settings = UserSettings(blocker / "settings.yaml")
    settings.remember(theme="rltui-light")
    settings.remember(theme="rltui-light")
    problems = settings.unreported()
    assert len(problems) == 1 and "cannot save the settings to" in problems[0]


@pytest.mark.parametrize(
    "color_system,expected",
    [
        ("standard", ANSI_THEME),
        ("windows", ANSI_THEME),
        (None, DEFAULT_THEME),  # NO_COLOR: Textual greys the colours, not the ANSI names
        ("256", DEFAULT_THEME),
        ("truecolor", DEFAULT_THEME),
    ],
)
def test_the_terminal_decides_until_the_user_picks(color_system: str | None, expected: str) -> None:
    assert initial_theme(NAMES, color_system) == expected
    assert initial_theme(NAMES, color_system, remembered="rltui-light") == "rltui-light"
    assert (
        initial_theme(NAMES, color_system, requested=DEFAULT_THEME, remembered="rltui-light")
        == DEFAULT_THEME
    )
    # A theme whose file is gone since it was picked is passed over.
    assert initial_theme(NAMES, color_system, remembered="gone", requested="gone") == expected


@pytest.mark.parametrize(
    "env,few",
    [
        ({"TERM": "xterm"}, True),
        ({"TERM": "screen"}, True),
        ({"TERM": "xterm-256color"}, False),
        ({"TERM": "xterm", "COLORTERM": "truecolor"}, False),
    ],
)
def test_textual_reports_how_many_colours_the_terminal_has(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], few: bool
) -> None:
    """What initial_theme is given: Textual's console reads the terminal's variables."""
    monkeypatch.delenv("COLORTERM", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    color_system = App().console.color_system
    assert (initial_theme(NAMES, color_system) == ANSI_THEME) is few, color_system


@pytest.mark.slow
async def test_the_app_starts_in_the_16_colour_theme_and_remembers_the_pick(
    config_home: Path, monkeypatch: pytest.MonkeyPatch, make_app, wait
) -> None:
    monkeypatch.setenv("TERM", "screen")
    monkeypatch.delenv("COLORTERM", raising=False)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen is not None)
        assert app.theme == ANSI_THEME
        await pilot.press("t")
        await pilot.pause()
        picked = app.theme
    saved = UserSettings().load()
    assert picked != ANSI_THEME and saved.theme_16 == picked and saved.theme is None
    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: again.main_screen is not None)
        assert again.theme == picked
    # A pick in a 16-colour terminal is not forced on a 256-colour one, nor the other way.
    UserSettings().remember(theme="rltui-light")
    monkeypatch.setenv("TERM", "xterm-256color")
    rich = make_app()
    async with rich.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: rich.main_screen is not None)
        assert rich.theme == "rltui-light"
    UserSettings().remember(theme_16=ANSI_THEME)
    monkeypatch.setenv("TERM", "screen")
    poor = make_app()
    async with poor.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: poor.main_screen is not None)
        assert poor.theme == ANSI_THEME
