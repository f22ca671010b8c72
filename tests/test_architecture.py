"""The layers of the design, and the dependencies the package declares, checked on every run."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# Installed beside the interpreter that runs the tests, whether or not its venv is activated.
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports"
)


# What the design allows the UI: spec, search and the launchers; never these.
UI_NEVER_IMPORTS = {"rltui.export", "rltui.worker", "rltui.train", "torch", "stable_baselines3"}


def test_import_contracts_hold():
    # Fails rather than skips: a skipped check looks like a kept contract.
    assert LINT_IMPORTS is not None, (
        "lint-imports (import-linter) is not installed beside this Python, so the layer "
        "contracts in pyproject.toml went unchecked: install the dev extra, "
        "pip install -e '.[dev]'"
    )
    done = subprocess.run([LINT_IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


def test_contracts_say_what_the_design_says():
    """The contracts lint-imports checks are the design's, not a loosened copy of them."""
    linter = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = {contract["name"]: contract for contract in linter["contracts"]}
    [layers] = [c["layers"] for c in contracts.values() if c["type"] == "layers"]
    assert layers == [
        "rltui.cli",
        "rltui.ui | rltui.headless",
        "rltui.launch | rltui.export",
        "rltui.convert",
        "rltui.worker",
        "rltui.train",
        "rltui.search",
        "rltui.spec",
    ]
    ui = [c for c in contracts.values() if c.get("source_modules") == ["rltui.ui"]]
    assert len(ui) == 1 and ui[0]["type"] == "forbidden"
    assert set(ui[0]["forbidden_modules"]) >= UI_NEVER_IMPORTS
    assert ui[0]["allow_indirect_imports"] is False
    launch = [c for c in contracts.values() if c.get("source_modules") == ["rltui.launch"]]
    assert len(launch) == 1 and launch[0]["allow_indirect_imports"] is False
    assert {"rltui.worker", "rltui.train", "torch"} <= set(launch[0]["forbidden_modules"])
    convert = [c for c in contracts.values() if c.get("source_modules") == ["rltui.convert"]]
    assert len(convert) == 1 and convert[0]["allow_indirect_imports"] is False
    assert {"rltui.worker", "rltui.train", "rltui.ui", "torch"} <= set(
        convert[0]["forbidden_modules"]
    )


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency():
    """What rltui imports it declares (a fresh install then has it), extras included."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        _normal(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
        for requirement in [
            *project["dependencies"],
            *(r for extra in project.get("optional-dependencies", {}).values() for r in extra),
        ]
    }
    distributions = importlib.metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in (ROOT / "rltui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "rltui" or top == "__future__":
                    continue
                owners = {_normal(d) for d in distributions.get(top, [top])}
                if not owners & declared:
                    missing.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
