"""A scripted stand-in for a worker's reporter, for trainer tests."""

from __future__ import annotations

from pathlib import Path

from rltui.search.lifecycle import ControlAction


class ScriptedReporter:
    """Asks for ``action`` once training has passed ``at`` timesteps; prunes at ``prune_at``."""

    def __init__(self, action: str | None = None, at: int = 0, prune_at: int | None = None):
        self.action, self.at, self.prune_at = action, at, prune_at
        self.timesteps = 0
        self.reports: list[tuple[int, float]] = []
        self.done = False

    def report(self, step: int, value: float) -> bool:
        self.reports.append((step, value))
        return self.prune_at is not None and step >= self.prune_at

    def requested(self) -> ControlAction | None:
        if self.action and not self.done and self.timesteps >= self.at:
            return ControlAction(self.action)
        return None

    def progress(self, timesteps: int) -> None:
        self.timesteps = timesteps

    def checkpointed(self, path: Path, timesteps: int) -> None:
        pass


# A one-evaluation-episode study of any algorithm on any env, for the training tests.
STUDY = """
name: {algorithm}
device: cpu
train:
  algorithm: {algorithm}
  env: {env}
  timesteps: {timesteps}
  eval: {{every: {every}, episodes: 1}}
  seed: 1
"""
