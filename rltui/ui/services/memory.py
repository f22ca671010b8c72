"""How the UI process keeps Python's cyclic garbage collector out of the user's way.

A study's trials are millions of small objects that live as long as the UI. Left alone, the
collector walks all of them in every full collection: about 150 ms, every ten seconds or
so while the UI polls, each time a frozen screen. So the UI pauses the collector while it
reads a whole study, and once the study is shown it collects once and freezes what is left
(``gc.freeze``): later collections walk only what was made since. The ``rltui`` window pauses
it from the start until then (:func:`pause`).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the collector while a whole study is read.

    Replaying a journal and building a row per trial make objects that all live on; the
    collector would walk them again and again as they pile up (40 % of opening a
    10,000-trial study) and find nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def pause() -> None:
    """Pause the collector while the window starts and first loads its study.

    Everything made then (the modules, the widgets, the study's rows) lives on; the
    collections it would set off cost a fifth of a second before the trials show.
    :func:`settle` or :func:`resume` ends the pause.
    """
    gc.disable()


def resume() -> None:
    """End a :func:`pause` (nothing to load, or the study could not be read)."""
    gc.enable()


def settle() -> None:
    """Collect once, then leave everything alive now out of future collections; ends a
    :func:`pause`.

    Garbage made later is still collected; objects alive now and dropped later are freed
    by reference counting as usual (only cycles among them would stay).
    """
    gc.collect()
    gc.freeze()
    gc.enable()
