"""Run inside a fresh venv that has only the built wheel (and its dependencies) installed:
the package as users get it. Opens the window on a study with every shipped theme, checks
that the package data is there, and validates a study file through the installed command."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path

import rltui
from rltui.ui.app import RltuiApp
from rltui.ui.services.themes import SHIPPED_DIR, load_themes

STUDY = """\
name: wheel-check
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: 64
search_space:
  gamma: choice(0.9, 0.99)
"""


def main() -> int:
    where = Path(rltui.__file__).resolve().parent
    assert "site-packages" in where.parts, f"rltui imported from {where}, not from the wheel"
    shipped = load_themes([SHIPPED_DIR])
    assert not shipped.problems, shipped.problems
    names = shipped.names
    assert len(names) >= 3, f"shipped themes missing from the wheel: {names}"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study.yaml"
        path.write_text(STUDY)
        done = subprocess.run(
            [sys.executable, "-m", "rltui", "validate", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        for name in names:
            asyncio.run(_open(path, name))
    print(f"wheel check: rltui {rltui.__version__} from {where}; themes {', '.join(names)}")
    return 0


async def _open(path: Path, theme: str) -> None:
    app = RltuiApp(path, theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        assert app.theme == theme, f"theme {theme} did not load (the window shows {app.theme})"
        app.exit(0)


if __name__ == "__main__":
    sys.exit(main())
