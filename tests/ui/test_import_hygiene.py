"""The UI never loads the training stack: importing it must not import torch or SB3. And what
the first frame does not need stays off its path: Optuna, plotext and the Charts tab's
modules load after the window is drawn."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from typing import Any

from rltui.ui.app import RltuiApp
from rltui.ui.services import memory

from .conftest import fixed_clock


def test_ui_imports_neither_torch_nor_sb3():
    code = (
        "import json, sys\n"
        "import rltui.ui.app\n"
        "heavy = ('torch', 'stable_baselines3', 'rltui.train', 'rltui.worker.loop')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m in heavy)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_first_paint_needs_neither_optuna_nor_pydantic():
    # Both load on the thread that opens the study; the window appears before they do.
    code = "import sys, rltui.ui.app; print('optuna' in sys.modules, 'pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def loaded_by(statement: str, names: tuple[str, ...]) -> list[str]:
    """Which of the modules ``names`` (and their submodules) a fresh interpreter has loaded
    after running ``statement``."""
    code = (
        f"import json, sys\n{statement}\n"
        f"names = {names!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if m in names"
        " or m.split('.')[0] in names)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


CHARTS_TAB = (
    "plotext",
    "textual_plotext",
    "rltui.ui.widgets.charts_pane",
    "rltui.ui.widgets.view_box",
    "rltui.ui.widgets.view_charts",
    "rltui.ui.widgets.space_charts",
)


def test_first_paint_needs_neither_plotext_nor_the_charts_tab():
    # The bottom panel's curves are drawn with plotext too, once they have data (on a thread).
    assert loaded_by("import rltui.ui.app", CHARTS_TAB) == []


OPENED_BY_A_KEY = (
    "rltui.ui.screens.trial_detail",
    "rltui.ui.screens.worker_detail",
    "rltui.ui.screens.enqueue",
    "rltui.ui.screens.tick_list",
    "rltui.ui.models.seeds",
    "rltui.ui.widgets.compare_view",
)


def test_first_paint_loads_no_screen_that_only_a_key_opens():
    assert loaded_by("import rltui.ui.app", OPENED_BY_A_KEY) == []


def test_the_command_line_loads_neither_textual_nor_optuna_before_a_command_runs():
    assert loaded_by("import rltui.cli", ("textual", "optuna", "pydantic", "plotext")) == []


def test_the_window_command_reaches_the_window_before_optuna_loads(tmp_path):
    # The command line's own handling (parsing, the errors it reports) must not load it.
    code = (
        "import sys, rltui.cli as cli\n"
        "cli.HANDLERS['ui'] = lambda args: print('optuna' in sys.modules, "
        "'pydantic' in sys.modules) or 0\n"
        "raise SystemExit(cli.main(['study.yaml']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["False", "False"]


async def test_the_charts_and_compare_tabs_are_made_when_first_shown(make_app, wait) -> None:
    from rltui.ui.widgets.charts_pane import ChartsPane
    from rltui.ui.widgets.compare_view import CompareView

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
        screen = app.main_screen
        assert not screen.query(ChartsPane) and not screen.query(CompareView)
        await pilot.press("3")
        pane = screen.query_one(ChartsPane)
        assert screen.charts_pane is pane
        history = pane.query_one("#history")
        await wait(pilot, lambda: pane.has_focus and history.data is not None)
        await wait(pilot, lambda: not history._dirty and "no data" not in history.render().plain)
        assert not screen.query(CompareView)
        await pilot.press("4")
        await wait(pilot, lambda: screen.query(CompareView))
        legend = screen.query_one("#compare-legend")
        # The selected trial (the first row) is compared with the best one.
        await wait(pilot, lambda: "#" in str(legend.render()))


async def test_the_collector_paused_at_start_resumes_without_a_study(wait) -> None:
    memory.pause()
    try:
        app = RltuiApp(None, clock=fixed_clock)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait(pilot, lambda: app.main_screen is not None)
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()


async def test_the_collector_paused_at_start_settles_once_the_study_shows(
    make_app: Any, wait: Any
) -> None:
    memory.pause()
    try:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await wait(pilot, lambda: app.main_screen and app.main_screen.snapshot is not None)
            assert not gc.isenabled()  # until the study has settled (MainScreen.apply)
            await wait(pilot, gc.isenabled)
    finally:
        gc.enable()


def test_the_models_are_plain_python():
    """What the window shows is computed without Textual: no module of rltui.ui.models
    imports it (for types neither), nor a UI package that does, and importing them all
    leaves Textual unloaded."""
    import ast
    from pathlib import Path

    import rltui.ui.models

    folder = Path(rltui.ui.models.__file__).parent
    kinds_with_textual = ("rltui.ui.display", "rltui.ui.screens", "rltui.ui.textual")
    kinds_with_textual += ("rltui.ui.widgets", "rltui.ui.app")
    found = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            found += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("textual", "textual_plotext")
                or name.startswith(kinds_with_textual)
            ]
    assert found == []
    modules = sorted(f"rltui.ui.models.{path.stem}" for path in folder.glob("[!_]*.py"))
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
