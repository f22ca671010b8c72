"""The UI never loads the training stack: importing it must not import torch or SB3."""

from __future__ import annotations

import json
import subprocess
import sys


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
