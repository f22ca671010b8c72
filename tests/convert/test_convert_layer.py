"""The conversions sit above spec and search and below the command line: importing them loads
no torch, Stable-Baselines3, Textual, Hydra, nor rltui's UI, worker or training code."""

from __future__ import annotations

import json
import subprocess
import sys

NEVER = (
    "torch",
    "stable_baselines3",
    "textual",
    "hydra",
    "rltui.ui",
    "rltui.worker",
    "rltui.train",
    "rltui.cli",
)


def test_importing_the_conversions_loads_nothing_heavy():
    code = (
        "import json, sys\n"
        "import rltui.convert.zoo_import, rltui.convert.zoo_export, rltui.convert.hydra_import\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(done.stdout)
    heavy = [m for m in loaded if any(m == n or m.startswith(n + ".") for n in NEVER)]
    assert heavy == []
