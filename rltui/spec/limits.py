"""How large a study file, and each size in it, may be: every bound in one place, with its reason.

Two kinds of bound. Fixed ones are generous limits no real study comes near; they stop a typo
or a hostile file (``n_envs: 1e8``) before a worker tries to run it. Bounds that depend on the
machine (does a replay buffer fit in memory? how many worker processes can it hold?) are
computed from what the machine checking the file has, and their messages say so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

# The study file itself. Checking a file stays well under a second at these sizes, whatever
# it holds: each bound caps work done once per value, per entry or per problem.
MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 64  # nested mappings and lists
MAX_VALUES = 20_000  # scalars, mappings and lists in one file
MAX_ENTRIES = 1_000  # keys of search_space, hyperparameters, env_kwargs, sampler/pruner options
MAX_SWEEP_DEPTH = 32  # nested calls and brackets in one sweep expression
MAX_SWEEP_CHARS = 100_000  # one sweep expression
MAX_CHOICES = 10_000  # values of one categorical or grid parameter
MAX_ALL_CHOICES = 20_000  # values of all categorical and grid parameters together
MAX_GRID_POINTS = 100_000  # combinations of the grid parameters: each one is a trial
MAX_LAYERS = 64  # hidden layers of one network in net_arch
MAX_PROBLEMS = 200  # problems listed for one file; the rest are counted
MAX_GUESSES = 100  # did-you-mean guesses for one file (each compares with every candidate)
MAX_WRAPPERS = 64  # env wrappers around one env: real preprocessing chains have a handful
MAX_SUBPROC_ENVS = 256  # with vec_env: subproc each env is a process, with its own memory
MAX_LITERAL_CHARS = 10_000  # one policy_kwargs string in rl-baselines3-zoo's dict(...) form
MAX_LITERAL_DEPTH = 16  # nested dict(...) calls and lists in one such string

# What one worker process needs before any training starts (Python, PyTorch, SB3, Optuna).
WORKER_MEMORY = 200 * 2**20


@dataclass(frozen=True)
class Bound:
    """The largest value a size may take, and why larger cannot run."""

    most: int
    why: str

    def hint(self, name: str) -> str:
        return f"{name} is at most {self.most:,}: {self.why}"


# Sizes with a fixed bound, by the key that sets them (a train key or a hyperparameter).
SIZES: dict[str, Bound] = {
    "n_envs": Bound(1024, "the envs step one after another inside the trial's process"),
    "frame_stack": Bound(1024, "every observation holds that many frames, in every buffer"),
    "timesteps": Bound(10**12, "that is weeks of training even at a million steps a second"),
    "every": Bound(10**12, "an evaluation interval longer than any trial never comes"),
    "episodes": Bound(10_000, "every evaluation plays them all before the trial goes on"),
    "n_steps": Bound(1_000_000, "each rollout holds n_steps x n_envs transitions in memory"),
    "batch_size": Bound(1_000_000, "each gradient step holds a whole batch in memory"),
    "buffer_size": Bound(100_000_000, "the replay buffer holds that many transitions"),
    "n_epochs": Bound(10_000, "every rollout is learnt from n_epochs times"),
    "gradient_steps": Bound(100_000, "that many gradient steps follow every rollout"),
    "n_critics": Bound(64, "each critic is a network of its own, with a target copy"),
    "net_arch": Bound(65_536, "one layer of that many units already holds billions of weights"),
    "lstm_hidden_size": Bound(65_536, "an LSTM that wide already holds billions of weights"),
    "n_quantiles": Bound(100_000, "every critic outputs that many quantiles for each sample"),
}


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def cpu_count() -> int:
    """This machine's CPU cores (at least 1)."""
    return os.cpu_count() or 1


def show_bytes(count: float) -> str:
    """``3.7 GiB``: a byte count as people read it."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def machine() -> str:
    """``this machine has 2 CPU cores and 7.7 GiB of memory``, for hints."""
    memory = physical_memory()
    cores = cpu_count()
    have = f"{cores} CPU core{'s' if cores != 1 else ''}"
    if memory is not None:
        have += f" and {show_bytes(memory)} of memory"
    return f"this machine has {have}"


def max_workers() -> int | None:
    """How many worker processes this machine's memory holds, or None when unknown."""
    memory = physical_memory()
    return None if memory is None else max(1, memory // WORKER_MEMORY)
