"""The footer rebuilds its keys only when the keys it would show change."""

from __future__ import annotations

from typing import Any

from rltui.ui.widgets.footer import KeysFooter


def footer_keys(screen: Any) -> list[Any]:
    return list(screen.query_one(KeysFooter).query("FooterKey"))


async def test_the_same_keys_are_not_rebuilt_and_new_ones_are(make_app: Any, wait: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        screen = app.main_screen
        footer = screen.query_one(KeysFooter)
        # Settled: it shows the screen's keys (the study's first polls change which apply).
        await wait(pilot, lambda: footer_keys(screen) and footer._shown == footer._keys())
        await pilot.pause(0.3)
        await wait(pilot, lambda: footer._shown == footer._keys())
        before = footer_keys(screen)
        screen.refresh_bindings()  # what focus changes and key updates send
        await pilot.pause(0.2)
        assert footer_keys(screen) == before  # the very same widgets: nothing rebuilt
        await pilot.press("2")  # the editor: other keys
        await wait(pilot, lambda: screen.focused is screen.study_pane.editor)
        await wait(pilot, lambda: footer_keys(screen) != before)
        shown = {key.description for key in footer_keys(screen)}
        wanted = {
            b.binding.description
            for b in screen.active_bindings.values()
            if b.binding.show and b.binding.description
        }
        assert wanted <= shown
