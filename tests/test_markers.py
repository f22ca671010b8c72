"""The ``slow`` mark stays honest: a test that trains an agent, starts worker processes or
drives tmux carries it, so that ``pytest -m "not slow"`` stays a fast loop.

The rule reads the tests' source, never timings: a test is slow when its body, a fixture it
uses (pytest gives the whole closure, conftest fixtures and autouse ones included), or a
function either of them calls does one of the things in the tables below. Calls are followed
through the test's own module and through modules of the ``tests`` package it imports from.
It cannot see through everything (a command line built from a module constant, a function
reached as a method of an object); it catches the usual ways, and tests that are slow for
other reasons (a long UI script) are marked by hand.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.conftest import COLLECTED

TESTS = Path(__file__).resolve().parent

# Calls, by the called name or attribute, that make a test slow, and what each one does.
SLOW_CALLS = {
    "train_sb3": "trains an agent",
    "learn": "trains an agent",
    "_learn_to": "trains an agent",
    "Lab": "runs real worker processes",
    "start_workers": "starts worker processes",
}
# ``<something>.pool.start(...)`` or ``pool.start(...)``: a LocalPool starting workers.
POOL = "pool"
# Words that, one after the other in a list or tuple, are a command line running training.
COMMAND_LINES = {("rltui", "run"): "runs `rltui run`", ("rltui", "worker"): "runs `rltui worker`"}
# Programs that, named in a call or a command line, make a test slow.
SLOW_PROGRAMS = {"tmux": "drives tmux"}

# Tests the rule misjudges, by ``module::function`` under tests/, and why each one is fast.
NOT_SLOW = {
    "search/test_journal_faults.py::"
    "test_the_window_opens_a_read_only_study_to_read_and_its_controls_say_why": (
        "start_workers() on a read-only study is refused and starts nothing"
    ),
}

Reason = tuple[tuple[str, ...], str]
"""The chain of names that leads to a slow call (``("_run", "train_sb3()")``), and what that
call does."""


def _direct(node: ast.AST) -> Reason | None:
    """What ``node`` itself does that makes a test slow."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in SLOW_CALLS:
            return (f"{name}()",), SLOW_CALLS[name]
        if (program := _program(node.args)) is not None:
            return program
        if name == "start" and isinstance(func, ast.Attribute):
            owner = func.value
            if getattr(owner, "id", None) == POOL or getattr(owner, "attr", None) == POOL:
                return (f"{POOL}.start()",), "starts worker processes"
    if isinstance(node, ast.List | ast.Tuple):
        words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
        for pair in itertools.pairwise(words):
            if pair in COMMAND_LINES:
                return ("[" + ", ".join(f"'{w}'" for w in pair) + "]",), COMMAND_LINES[pair]
        return _program(node.elts)
    return None


def _program(nodes: list[ast.expr]) -> Reason | None:
    """A slow program named among ``nodes``, the arguments of a call or a command line."""
    for node in nodes:
        if isinstance(node, ast.Constant) and node.value in SLOW_PROGRAMS:
            return (repr(node.value),), SLOW_PROGRAMS[node.value]
    return None


def _reason(node: ast.AST, known: dict[str, Reason]) -> Reason | None:
    """Why the code under ``node`` is slow: a slow call of its own, or a call of a name in
    ``known`` (a function or class), or a use of a constant in ``known``."""
    for sub in ast.walk(node):
        direct = _direct(sub)
        if direct is not None:
            return direct
        name = None
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
            name = sub.func.id
        elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id.isupper():
            name = sub.id  # a module constant, such as a program's path found at import
        if name in known:
            chain, effect = known[name]
            return (name, *chain), effect
    return None


_PARSED: dict[Path, ast.Module] = {}
_SLOW: dict[Path, dict[str, Reason]] = {}


def _parsed(path: Path) -> ast.Module:
    if path not in _PARSED:
        _PARSED[path] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return _PARSED[path]


def _imported(path: Path) -> dict[str, Reason]:
    """The slow names that the module at ``path`` imports from modules of ``tests``, by
    absolute or relative import."""
    found: dict[str, Reason] = {}
    for node in _parsed(path).body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        parts = node.module.split(".")
        if node.level:
            source = path.parents[node.level - 1].joinpath(*parts).with_suffix(".py")
        elif parts[0] == TESTS.name:
            source = TESTS.parent.joinpath(*parts).with_suffix(".py")
        else:
            continue
        if not source.is_file():
            continue
        slow = slow_names(source)
        for alias in node.names:
            if alias.name in slow:
                found[alias.asname or alias.name] = slow[alias.name]
    return found


def slow_names(path: Path) -> dict[str, Reason]:
    """The module's top-level functions, classes and constants that are slow, with why."""
    if path in _SLOW:
        return _SLOW[path]
    _SLOW[path] = {}  # a module imported in a cycle is taken as having nothing slow
    known = _imported(path)
    body = _parsed(path).body
    defs: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            # Only a value computed at import (``TMUX = shutil.which(...)``): tables of words,
            # such as this module's own, run nothing.
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    defs[target.id] = node.value
    grew = True
    while grew:  # until no helper is newly found slow through another one
        grew = False
        for name, definition in defs.items():
            if name not in known and (why := _reason(definition, known)) is not None:
                known[name], grew = why, True
    _SLOW[path] = known
    return known


def _fixture_name(node: ast.AST) -> str | None:
    """The fixture that a function defines, if it is one (``@pytest.fixture``)."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        if getattr(target, "attr", getattr(target, "id", None)) != "fixture":
            continue
        for keyword in call.keywords if call is not None else []:
            if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        return node.name
    return None


def _fixtures(path: Path) -> dict[str, ast.AST]:
    return {name: node for node in _parsed(path).body if (name := _fixture_name(node))}


def _visible_modules(path: Path, root: Path) -> Iterable[Path]:
    """The test module, then the conftest.py files from its folder up to ``root``: the order
    in which pytest looks a fixture up."""
    yield path
    folder = path.parent
    while True:
        if (folder / "conftest.py").is_file():
            yield folder / "conftest.py"
        if folder == root or folder == folder.parent:
            return
        folder = folder.parent


def _test_node(path: Path, name: str, cls: str | None) -> ast.AST | None:
    body = _parsed(path).body
    if cls is not None:
        owner = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == cls), None)
        body = owner.body if owner is not None else []
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def why_slow(
    path: Path,
    name: str,
    fixturenames: Iterable[str],
    *,
    cls: str | None = None,
    root: Path = TESTS,
) -> str | None:
    """Why the test ``name`` (a method of ``cls``) in ``path`` is slow, if it is, in words."""
    node = _test_node(path, name, cls)
    if node is not None and (why := _reason(node, slow_names(path))) is not None:
        return _words("calls", why)
    modules = list(_visible_modules(path, root))
    for fixture in fixturenames:
        for module in modules:
            definition = _fixtures(module).get(fixture)
            if definition is None:
                continue
            why = _reason(definition, slow_names(module))
            if why is not None:
                return _words(f"uses fixture {fixture!r}, which calls", why)
            break  # the nearest definition is the one pytest uses
    return None


def _words(lead: str, reason: Reason) -> str:
    chain, effect = reason
    return f"{lead} {' -> '.join(chain)} ({effect})"


def _collect(paths: list[Path]) -> list[pytest.Item]:
    """The tests in ``paths``, collected by a pytest run inside this one."""

    class Recorder:
        def __init__(self) -> None:
            self.items: list[pytest.Item] = []

        def pytest_collection_finish(self, session: pytest.Session) -> None:
            self.items = list(session.items)

    # The snapshot plugin keeps one folder per process, which an inner run would delete; the
    # cache would overwrite what this run learns about failures.
    quiet = ["-p", "no:textual-snapshot", "-p", "no:cacheprovider"]
    args = ["--collect-only", "-q", *quiet, *map(str, paths)]
    recorder = Recorder()
    code = pytest.main(args, plugins=[recorder])
    assert code in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED), (
        f"collecting {len(paths)} test modules failed ({code!r}): see the output above"
    )
    return recorder.items


def _all_tests(config: pytest.Config) -> list[pytest.Function]:
    """Every test under tests/: those this run collected, and the modules it left out."""
    recorded: list[pytest.Item] = config.stash.get(COLLECTED, [])
    items = list(recorded)
    seen = {item.path for item in items}
    missing = sorted(p for p in TESTS.rglob("test_*.py") if p not in seen)
    if missing:
        items += _collect(missing)
    return [item for item in items if isinstance(item, pytest.Function)]


def _key(item: pytest.Function) -> str:
    return f"{item.path.relative_to(TESTS).as_posix()}::{item.originalname}"


def _judged(item: pytest.Function) -> str | None:
    if _key(item) in NOT_SLOW:
        return None
    cls = item.cls.__name__ if item.cls is not None else None
    return why_slow(item.path, item.originalname, item.fixturenames, cls=cls)


def test_every_test_that_trains_starts_workers_or_drives_tmux_is_marked_slow(
    pytestconfig: pytest.Config,
) -> None:
    tests = _all_tests(pytestconfig)
    unmarked = sorted(
        f"{item.nodeid}: {why}"
        for item in tests
        if item.get_closest_marker("slow") is None and (why := _judged(item)) is not None
    )
    stale = set(NOT_SLOW) - {_key(item) for item in tests}
    assert not stale, f"NOT_SLOW names tests that no longer exist: {sorted(stale)}"
    assert not unmarked, (
        'these tests are too slow for `pytest -m "not slow"`: mark each with '
        "@pytest.mark.slow, or its module with pytestmark = pytest.mark.slow\n"
        + "\n".join(unmarked)
    )


def test_the_rule_finds_the_tests_known_to_train_or_start_workers(
    pytestconfig: pytest.Config,
) -> None:
    """The rule is not blind: it judges slow every test of modules that only train or only
    run workers."""
    tests = _all_tests(pytestconfig)
    for module in ("worker/test_lifecycle.py", "worker/test_grid.py", "e2e/test_tmux.py"):
        found = [item for item in tests if item.path == TESTS / module]
        assert found, f"no tests collected from tests/{module}"
        blind = [item.nodeid for item in found if _judged(item) is None]
        assert not blind, f"the rule finds nothing slow in {blind}"


CRAFTED = """
import subprocess, sys
import pytest
from tests.worker.helpers import Lab
from rltui.train.trainer import train_sb3

def _train(study):
    return train_sb3(study, {}, None)

def _twice(study):
    return [_train(study), _train(study)]

@pytest.fixture
def lab(study_file):
    return Lab(study_file())

@pytest.fixture(name="renamed")
def _renamed(study_file):
    return Lab(study_file())

def test_helper(study_file):
    _twice(study_file())

def test_fixture(lab):
    lab.run_to_end(1)

def test_renamed_fixture(renamed):
    renamed.run_to_end(1)

def test_by_hand(tmp_path):
    subprocess.run([sys.executable, "-m", "rltui", "worker", str(tmp_path)])

def test_patched_start_is_fast(monkeypatch):
    # Says tmux and Lab() in a comment, and a pool's start in a string: none of them runs.
    monkeypatch.setattr("rltui.launch.local.LocalPool.start", lambda *a: None)

def test_annotation_is_fast(lab_like: Lab = None):
    assert "tmux" and {"tmux": "rltui run"}

def test_tmux(tmp_path):
    subprocess.run(["tmux", "-L", str(tmp_path), "kill-server"])

def test_relative(tmp_path):
    from_sibling(tmp_path)
"""
SIBLING = """
def from_sibling(path):
    start_workers(path)
"""


def test_the_rule_follows_helpers_fixtures_and_command_lines(tmp_path: Path) -> None:
    path = tmp_path / "test_crafted.py"
    path.write_text(CRAFTED + "from .sibling import from_sibling\n", encoding="utf-8")
    (tmp_path / "sibling.py").write_text(SIBLING, encoding="utf-8")

    def judge(name: str, *fixtures: str) -> str | None:
        return why_slow(path, name, fixtures, root=tmp_path)

    assert judge("test_helper") == "calls _twice -> _train -> train_sb3() (trains an agent)"
    assert judge("test_fixture", "lab") == (
        "uses fixture 'lab', which calls Lab() (runs real worker processes)"
    )
    assert judge("test_renamed_fixture", "study_file", "renamed") == (
        "uses fixture 'renamed', which calls Lab() (runs real worker processes)"
    )
    assert judge("test_by_hand") == "calls ['rltui', 'worker'] (runs `rltui worker`)"
    assert judge("test_patched_start_is_fast", "monkeypatch") is None
    assert judge("test_annotation_is_fast") is None
    assert judge("test_tmux") == "calls 'tmux' (drives tmux)"
    assert judge("test_relative") == (
        "calls from_sibling -> start_workers() (starts worker processes)"
    )
