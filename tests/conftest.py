"""Shared fixtures: tiny study files written into a temporary folder, workers at normal
priority, and the mark for tests that need the PostgreSQL driver."""

from __future__ import annotations

import importlib
import importlib.util
import os
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rltui.launch.local import NICE_ENV

# Set by CI (.ci/run), which installs every extra and starts a server: a test that needs the
# PostgreSQL driver or server then fails when it is missing instead of skipping.
REQUIRE_POSTGRES = "RLTUI_REQUIRE_POSTGRES"

needs_psycopg = pytest.mark.skipif(
    importlib.util.find_spec("psycopg") is None and not os.environ.get(REQUIRE_POSTGRES),
    reason="needs the PostgreSQL driver psycopg 3: pip install -e '.[postgres]'",
)
"""Skips a test when psycopg 3 (the ``postgres`` extra) is not installed, unless
``RLTUI_REQUIRE_POSTGRES`` is set."""


# Set by CI too: a test that needs an optional extra (contrib, atari, mujoco) fails there
# when the extra is missing, and skips, saying which to install, everywhere else.
REQUIRE_EXTRAS = "RLTUI_REQUIRE_EXTRAS"


def needs_extra(module: str, extra: str) -> pytest.MarkDecorator:
    """Skip unless ``module`` (installed by rltui's ``extra``) can be imported."""
    return pytest.mark.skipif(
        importlib.util.find_spec(module) is None and not os.environ.get(REQUIRE_EXTRAS),
        reason=f"needs {module}: pip install -e '.[{extra}]'",
    )


def require_extra(module: str, extra: str) -> None:
    """Inside a test: skip unless ``module`` (rltui's ``extra``) imports; under CI, fail."""
    if os.environ.get(REQUIRE_EXTRAS):
        importlib.import_module(module)
        return
    pytest.importorskip(module, reason=f"needs {module}: pip install -e '.[{extra}]'")


def _time_limit_homes() -> list[Any]:
    """Gymnasium's modules that name its TimeLimit class."""
    import gymnasium.envs.registration
    import gymnasium.wrappers

    modules: list[Any] = [gymnasium.wrappers, gymnasium.envs.registration]
    for name in ("gymnasium.wrappers.common", "gymnasium.wrappers.time_limit"):
        if importlib.util.find_spec(name) is not None:
            modules.append(importlib.import_module(name))
    return [module for module in modules if hasattr(module, "TimeLimit")]


@pytest.fixture(autouse=True)
def gymnasium_as_it_was() -> Iterator[None]:
    """Importing rl_zoo3 replaces Gymnasium's TimeLimit with a subclass of its own in every
    module that names it (rl_zoo3.gym_patches), and a study that names one of the zoo's
    wrappers imports it. Every env made afterwards in the same process would carry the zoo's
    class: each test gets Gymnasium's back."""
    saved = [(module, module.TimeLimit) for module in _time_limit_homes()]
    yield
    for module, cls in saved:
        module.TimeLimit = cls


def zoo_samplers() -> dict[str, Any]:
    """rl_zoo3's ``HYPERPARAMS_SAMPLER`` (the import patches Gymnasium until the test ends:
    see :func:`gymnasium_as_it_was`)."""
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_SAMPLER

    return dict(HYPERPARAMS_SAMPLER)


def zoo_folder() -> Path:
    """rl_zoo3's installed folder (its hyperparams files), found without importing it."""
    spec = importlib.util.find_spec("rl_zoo3")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has a cache folder of its own: a window never shows a table kept by
    another test (rltui.ui.services.table_cache), nor the real user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session", autouse=True)
def workers_at_normal_priority() -> Iterator[None]:
    """Workers that tests start, directly or through the UI in tmux, run at the tests' own
    priority: at nice 10 they barely get a core on a busy machine, and the tests wait on
    them. (tests/worker/test_priority.py checks the lower priority with an explicit value.)"""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(NICE_ENV, "0")
        yield


TINY_PPO = """
name: {name}
direction: maximize
n_trials: {n_trials}
device: cpu
sampler: {{type: random, seed: 0}}
pruner: {{type: {pruner}}}
train:
  algorithm: ppo
  env: CartPole-v1
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 2}}
  seed: 0
hyperparameters:
  n_steps: 64
  batch_size: 32
  n_epochs: 1
  net_arch: [8]
search_space:
  learning_rate: tag(log, interval(1e-4, 1e-2))
  gamma: choice(0.95, 0.99)
control:
  heartbeat_interval: 0.5
  heartbeat_grace: 4
{extra}
"""


@pytest.fixture
def study_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a tiny PPO study; keyword arguments fill the template's fields."""

    def write(
        name: str = "tiny",
        n_trials: int = 2,
        timesteps: int = 256,
        every: int = 128,
        pruner: str = "none",
        extra: str = "",
        text: str | None = None,
    ) -> Path:
        path = tmp_path / f"{name}.yaml"
        body = (
            text
            if text is not None
            else TINY_PPO.format(
                name=name,
                n_trials=n_trials,
                timesteps=timesteps,
                every=every,
                pruner=pruner,
                extra=extra,
            )
        )
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write


COLLECTED = pytest.StashKey[list[pytest.Item]]()
"""Every test collected in this run, before ``-m`` or ``-k`` deselected any: what
tests/test_markers.py checks the ``slow`` mark against."""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the mark plugin's own hook deselects ``-m "not slow"`` tests from ``items``.
    config.stash[COLLECTED] = list(items)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a real tmpfs of a given size (``"1m"``) to fill; unmounted after the test."""
    from tests.disks import mount, umount

    mounted: list[Path] = []

    def make(size: str) -> Path:
        folder = tmp_path / f"disk-{len(mounted)}"
        folder.mkdir()
        mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], "a tmpfs mount")
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        umount(folder)
