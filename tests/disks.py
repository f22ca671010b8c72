"""Real file-system faults for tests: small tmpfs disks to fill, and mounts to make read-only.

Mounting needs root (CI runs as root); where it is refused, the test is skipped with the
reason, never passed."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest


def mount(args: list[str], what: str) -> None:
    """Run ``mount ARGS``; skip the test, saying why, where the kernel refuses."""
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (CI runs as root)")
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"the kernel refused {what}: {done.stderr.strip()}")


def umount(folder: Path) -> None:
    if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill(folder: Path) -> Path:
    """A file that takes every free byte of ``folder``'s disk; delete it to free the disk."""
    filler = folder / "filler"
    with open(filler, "ab", buffering=0) as out:
        for size in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    return filler
