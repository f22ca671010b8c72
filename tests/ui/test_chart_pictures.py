"""P in the Charts tab: the four charts saved as SVG and PNG in the study's pictures folder."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from rltui.ui.textual import internals
from rltui.ui.widgets.charts_pane import ChartsPane
from tests.conftest import needs_extra

from .test_views import built

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@needs_extra("PIL", "plot")
async def test_p_saves_the_tabs_charts_as_pictures(make_app, wait, scripted) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        await pilot.press("3")
        pane = app.main_screen.query_one(ChartsPane)
        await wait(pilot, lambda: pane.has_focus and built(pane.query_one("#history")))
        await pilot.press("P")
        await wait(
            pilot,
            lambda: any("pictures:" in n.message for n in internals.notifications(app)),
        )
        said = [n.message for n in internals.notifications(app) if "pictures:" in n.message][-1]
        folder = scripted.path.parent / f"{scripted.path.stem}.rltui" / "pictures"
        assert f"saved as SVG and PNG in {folder}" in said, said
        svgs = sorted(folder.glob("*.svg"))
        pngs = sorted(folder.glob("*.png"))
        assert {p.stem.split("-", 2)[-1] for p in svgs} >= {"history", "param-chart"}
        assert len(svgs) == len(pngs) >= 2
        for svg in svgs:
            root = ET.parse(svg).getroot()
            assert root.get("width") == str(120 * 8)  # 120 characters of 8 pixels
        assert all(p.read_bytes()[:8] == PNG for p in pngs)
