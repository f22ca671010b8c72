"""How much does the rltui UI write to the terminal while the user watches live trials?

    python bench/terminal_output.py [--seconds 60] [--size 120x40]

Over SSH every byte the UI writes crosses the link, so a UI that repaints the whole screen
on each update is unusable on a slow one. This runs the real ``python -m rltui STUDY`` on a
pseudo-terminal of the given size (no tmux in between), on a study of 200 finished trials
whose next trials are long (bench/make_big_study.py), and counts the bytes it writes:

(a) idle: no workers, nobody typing, for ``--seconds``;
(b) watching: two ``rltui worker`` processes training (as ``bench/ui_latency.py`` starts
    them), nobody typing: running rows tick, evaluations arrive, the reward chart redraws.

In both, End is pressed once the UI has started, so the table shows its last rows, where
the running trials are.

Both are reported in bytes per second beside what the UI wrote in its first 8 seconds (the
first frame, the study opening, the table filling and the charts drawing: several full
screens), the scale of what a UI that repainted everything would send at each update. The
terminal's queries that Textual sends at start-up go unanswered, as from a terminal that does
not support them. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_big_study import make_big_study
from ui_latency import busy_workers, load_line

from rltui.launch.local import NICE

END = b"\x1b[F"  # the End key, as xterm sends it


class Terminal:
    """``python -m rltui STUDY`` on a pseudo-terminal; counts what it writes."""

    def __init__(self, study_file: Path, columns: int, lines: int):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the UI, in the study's folder
            os.chdir(study_file.parent)
            os.environ.update(TERM="xterm-256color", COLORTERM="truecolor")
            for name in ("COLUMNS", "LINES"):
                os.environ.pop(name, None)
            os.execv(sys.executable, [sys.executable, "-m", "rltui", study_file.name])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.total = 0

    def read_for(self, seconds: float) -> int:
        """Read (and count) for ``seconds``; the bytes read."""
        deadline = time.monotonic() + seconds
        got = 0
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:  # the UI exited
                    break
                got += len(chunk)
        self.total += got
        return got

    def close(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def measure(study_file: Path, columns: int, lines: int, seconds: float) -> tuple[int, float]:
    """Bytes written while starting (the first 8 s: the screen, the study opening, the table
    filling, the charts drawing), then bytes per second over the next ``seconds``."""
    term = Terminal(study_file, columns, lines)
    try:
        start = term.read_for(8.0)
        if start < 2000:
            raise RuntimeError(f"the UI drew almost nothing ({start} bytes)")
        os.write(term.fd, END)  # the last rows in view: the running trials are there
        term.read_for(2.0)
        return start, term.read_for(seconds) / seconds
    finally:
        term.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="120x40")
    args = parser.parse_args(argv)
    columns, lines = (int(n) for n in args.size.split("x"))
    print(f"rltui terminal output: {columns}x{lines}; {load_line()}")
    with tempfile.TemporaryDirectory(prefix="rltui-bytes-") as work:
        live = make_big_study(
            Path(work) / "live", 200, name="live", extra_budget=100, timesteps=200_000
        )
        frame, idle = measure(live, columns, lines, args.seconds)
        print(f"    start-up (first frame, study opening, table and charts): {frame / 1e3:.1f} kB")
        print(f"(a) idle, no workers: {idle:,.0f} bytes/s over {args.seconds:.0f} s")
        with busy_workers(live, NICE):
            _, watching = measure(live, columns, lines, args.seconds)
        print(
            f"(b) watching 2 workers train: {watching:,.0f} bytes/s over {args.seconds:.0f} s "
            f"({watching * 8 / 1e3:.1f} kbit/s; sending the start-up screens once a second "
            f"would be {frame * 8 / 1e3:.0f} kbit/s)"
        )
    print(f"done; {load_line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
