"""The status bar: study, storage (password masked), sampler/pruner, counts, best (the Pareto
front's size with several objectives), workers, device and GPU use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from rltui.search.lifecycle import TrialStatus
from rltui.search.reader import Snapshot, TrialRow
from rltui.spec.pbt import is_pbt
from rltui.ui.display import cells
from rltui.ui.services import gpu

if TYPE_CHECKING:
    from rltui.spec.model import StudySpec


class StatusBar(Static):
    """One line at the bottom, redrawn only when its text changes."""

    DEFAULT_CSS = """
    StatusBar { height: 1; width: 1fr; background: $panel; color: $foreground; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._last: Text | None = None

    def show(self, text: Text) -> None:
        if self._last is not None and text == self._last:
            return
        self._last = text
        self.update(text)

    def show_message(self, message: str) -> None:
        self.show(Text(message))

    def show_problem(self, message: str) -> None:
        """``message`` in the theme's error colour: the bar has no study to show."""
        style = cells.theme_style(self.app.current_theme, "error", bold=True)
        self.show(Text(message, style=style, no_wrap=True, overflow="ellipsis"))

    def show_study(
        self,
        *,
        study: str,
        storage: str,
        spec: StudySpec,
        snapshot: Snapshot | None,
        gpus: Sequence[gpu.Gpu] = (),
        width: int = 120,
    ) -> None:
        """Wide terminals get words; narrower ones letters (W R P C X F), then less.

        In a PBT study "best" is the best member that trained its whole budget (``best m2``),
        as ``rltui run`` reports it; until one has, the best segment so far (``best segment``),
        whose weights have trained on since.

        The bar ends with the study's configured device as written (``auto``, ``cpu``,
        ``cuda:1``), then, when this machine has NVIDIA GPUs, their use (``GPU 37% 5.0/80G``;
        the model's name on wide terminals), in the warning colour when one GPU's memory is
        over 90% full. Without a GPU the device stays as written: ``auto`` is not shown as
        resolved to CPU, since the workers may run on another host or a GPU that
        ``nvidia-smi`` does not see (the workers view shows each worker's own device).
        """
        theme = self.app.current_theme
        narrow, wide = width < 110, width >= 150
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(
            f" {study} ", style=cells.theme_style(theme, "primary", bold=True, reverse=True)
        )
        if not narrow:
            text.append(f" {storage} ", style="dim")
            text.append(f"│ {spec.sampler.type}/{spec.pruner.type} ")
        if snapshot is not None:
            text.append("│ ")
            counts = snapshot.counts
            for status in TrialStatus:
                if counts.get(status):
                    colour = cells.theme_style(theme, cells.STATE_COLOUR[status])
                    if wide:
                        text.append(f"{counts[status]} {status.value.lower()} ", style=colour)
                    else:
                        text.append(f"{counts[status]}{cells.SHORT[status]} ", style=colour)
            if not any(counts.values()):
                text.append("no trials ", style="dim")
            best, label = best_shown(snapshot, spec)
            if snapshot.multi_objective:
                # Several objectives have no one best trial: how many trials lead instead.
                front = len(snapshot.front)
                if front:
                    text.append(f"│ front {front} ", style=cells.theme_style(theme, "warning"))
            elif best is not None:
                text.append(
                    f"│ {label} {cells.number(best.value)} (#{best.number}) ",
                    style=cells.theme_style(theme, "warning"),
                )
            live = sum(1 for w in snapshot.workers if w.alive)
            text.append(
                f"│ {live} worker{'s' if live != 1 else ''} " if not narrow else f"│ {live}w "
            )
            if snapshot.draining:
                text.append("draining ", style=cells.theme_style(theme, "warning", bold=True))
        text.append(f"│ {spec.device}")
        if gpus:
            tight = gpu.memory_tight(gpus)
            style = cells.theme_style(theme, "warning" if tight else "primary", bold=tight)
            text.append(" │ ")
            text.append(gpu.describe(gpus, names=wide), style=style)
        self.show(text)


def best_shown(snapshot: Snapshot, spec: StudySpec) -> tuple[TrialRow | None, str]:
    """The trial the bar names as best, and its label."""
    if not is_pbt(spec):
        return snapshot.best, "best"
    final = snapshot.best_member(spec.train.timesteps, spec.maximize_reward)
    if final is None or final.segment is None:
        return snapshot.best, "best segment"
    return final, f"best m{final.segment.member}"
