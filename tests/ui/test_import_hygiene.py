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
