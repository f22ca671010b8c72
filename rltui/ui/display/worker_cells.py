"""How a worker's record reads on screen: host names, devices, ages, and the lines of the
workers view.

The workers view lives in a sidebar 28 columns wide inside (40 on wide terminals), and its
workers may come from several hosts whose names share a long domain
(``gpu-node-01.cluster``, ``gpu-node-02.cluster``). Each worker gets two lines; every field
is shortened where it differs least, so that what tells two workers apart stays in sight:

    ● a1b2c3d4 training #12  12m        ● a1b2c3d4 training #12             12m
      gpu-node-01:4242 cuda:0             gpu-node-01.cluster:4242 cuda:0 H100

A worker started from this UI shows before its record exists (it imports torch first), as
``starting`` and then, should it exit without a record, as ``failed to start`` with the end
of its log (:func:`launch_text`).

Pure and cheap, like ``cells``: it runs for every worker on every poll.
"""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.theme import Theme

from rltui.search.workers import WorkerRecord
from rltui.ui.display import cells
from rltui.ui.services import gpu

if TYPE_CHECKING:  # the session loads Optuna; this module is drawn before it has loaded
    from rltui.ui.services.launches import WorkerLaunch

# Which semantic theme colour each worker state takes (the trial states' colours where the
# meaning is the same: a training worker is a RUNNING trial's colour).
STATE_COLOUR = {
    "training": "primary",
    "idle": "secondary",
    "draining": "warning",
    "exited": "secondary",
    "lost": "error",
    "starting": "secondary",
    "failed to start": "error",
}
FAILURE_LINES = 4  # of a failed start's log tail, wrapped to the view's width
STARTING_NOTE = "importing…"  # what a starting worker does: torch alone takes seconds
# A worker is late when its heartbeat is this many intervals old (and at least MIN_LATE
# seconds): one missed beat is noise, three are worth a look before the grace time runs out.
LATE_BEATS = 3
MIN_LATE = 5.0
INDENT = "  "
MOST_GONE = 20  # exited or lost workers listed, the most recent


def late_after(heartbeat_interval: float) -> float:
    """Seconds without a heartbeat after which the view calls a live worker late."""
    return max(LATE_BEATS * heartbeat_interval, MIN_LATE)


def is_late(record: WorkerRecord, now: float, late: float) -> bool:
    return record.alive and now - record.heartbeat > late


# Fields ---------------------------------------------------------------------------------


def short_hosts(hosts: Iterable[str]) -> dict[str, str]:
    """Each host's name cut to the leading labels that tell it from every other host.

    ``gpu-node-01.cluster`` and ``gpu-node-02.cluster`` become ``gpu-node-01`` and
    ``gpu-node-02`` (the shared domain goes); ``node1.a.org`` and ``node1.b.org`` keep one
    label more, ``node1.a`` and ``node1.b``. One host alone keeps its first label, as
    ``hostname -s`` does. IP addresses are never cut: their labels are not names.
    """
    distinct = sorted(set(hosts))
    labels = {host: host.split(".") for host in distinct}
    short = {}
    for host in distinct:
        own = labels[host]
        if len(own) == 1 or _is_address(host):
            short[host] = host
            continue
        others = [labels[other] for other in distinct if other != host]
        keep = 1
        while keep < len(own) and any(other[:keep] == own[:keep] for other in others):
            keep += 1
        short[host] = ".".join(own[:keep])
    return short


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def short_device(device: str) -> str:
    """``cuda:0 NVIDIA H100 80GB HBM3`` -> ``cuda:0 H100``; ``cpu`` and ``mps`` stay."""
    where, _, name = device.partition(" ")
    return f"{where} {gpu.short_name(name)}" if name.strip() else where


def torch_device(device: str) -> str:
    """The device alone, without the GPU's name: ``cuda:0``."""
    return device.partition(" ")[0]


def age(seconds: float) -> str:
    """A coarse age that changes at most once a minute after the first: ``45s``, ``12m``,
    ``5h07m``, ``3d`` (a finer one would repaint the view every poll, over SSH)."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 100 * 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def squeeze(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, cut in the middle: host names that share a
    start (``gpu-node-``) differ at their end, so the end keeps the larger share."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = max(1, (width - 1) // 3)
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


# The lines of the workers view --------------------------------------------------------------


def host_labels(records: Iterable[WorkerRecord], width: int) -> dict[str, str]:
    """The name each host goes by in a view ``width`` cells wide: the whole names when every
    worker's ``host:pid device`` line fits with them, else :func:`short_hosts` — the same
    choice for all, so that one host never shows under two names."""
    records = list(records)
    if all(
        cell_len(f"{INDENT}{r.host}:{r.pid} {short_device(r.device)}") <= width for r in records
    ):
        return {r.host: r.host for r in records}
    return short_hosts(r.host for r in records)


def where_line(record: WorkerRecord, host: str, width: int, gpu_mib: int | None = None) -> str:
    """``host:pid device`` in ``width`` cells, ``host`` being the name from
    :func:`host_labels`: with the GPU's model when it fits, then without, then with the host
    name cut in the middle; the pid is never cut (it is what ``kill`` needs). ``gpu_mib``,
    the GPU memory the worker holds, follows the device where it fits."""
    pid = f":{record.pid}"
    room = width - cell_len(INDENT)
    memory = f" {gpu_mib / 1024:.1f}G" if gpu_mib is not None else ""
    for device in (short_device(record.device), torch_device(record.device)):
        for tail in dict.fromkeys((memory, "")):
            line = f"{host}{pid} {device}{tail}"
            if cell_len(line) <= room:
                return INDENT + line
    device = torch_device(record.device)
    budget = room - len(pid) - 1 - cell_len(device)
    if budget >= 6:
        return f"{INDENT}{squeeze(host, budget)}{pid} {device}"
    return INDENT + squeeze(host, max(1, room - len(pid))) + pid


def since(record: WorkerRecord, now: float) -> str:
    """How long a live worker has run; how long ago a gone one was last heard of."""
    if record.alive:
        return age(now - record.started)
    return f"{age(now - record.heartbeat)} ago"


def worker_text(
    record: WorkerRecord,
    host: str,
    *,
    now: float,
    late: float,
    width: int,
    theme: Theme,
    gpu_mib: int | None = None,
) -> Text:
    """The workers view's entry for ``record``: two lines, more for a job or when it is late.

    Line one: state dot, id, state, trial and, right-aligned, how long it has run. Line two:
    where it runs (host:pid) and on what device. A worker in a batch job (Slurm) has a line
    with its job id. A late worker's last line says how long its heartbeat has been silent.
    ``host`` is its host's name from :func:`host_labels`.
    """
    overdue = is_late(record, now, late)
    role = "warning" if overdue else STATE_COLOUR.get(record.state, "secondary")
    colour = cells.theme_style(theme, role)
    base = Style(dim=not record.alive)
    text = Text(no_wrap=True, overflow="ellipsis", style=base)
    head = Text(style=base)
    head.append("● ", style=colour)
    head.append(record.id[:8], style=Style(bold=record.alive))
    head.append(" ")
    head.append(record.state, style=colour)
    if record.trial is not None:
        head.append(f" #{record.trial}")
    head.truncate(width)
    when, where_when = since(record, now), ""
    where = where_line(record, host, width, gpu_mib)
    silence = age(now - record.heartbeat)
    silent = f"{INDENT}no heartbeat for {silence}" if overdue else ""
    # The age goes right-aligned on the first of the two lines that has room for it, else
    # on a late worker's third line; failing both, the host name gives up room for it.
    if fits(head.plain, when, width):
        head.append(_pad(head.plain, when, width), style="dim")
    elif fits(where, when, width):
        where_when = _pad(where, when, width)
    elif overdue and (late_line := _late_line(silence, when, width)):
        silent = late_line
    else:
        where = where_line(record, host, width - len(when) - 1, gpu_mib)
        where_when = _pad(where, when, width)
    text.append_text(head)
    text.append("\n" + where)
    text.append(where_when, style="dim")
    if record.job:  # a batch system's job (Slurm): what squeue and scancel take
        text.append("\n" + INDENT + squeeze(f"job {record.job}", width - cell_len(INDENT)))
    if silent:
        text.append("\n" + squeeze(silent, width), style=colour)
    return text


def launch_text(launch: WorkerLaunch, host: str, *, now: float, width: int, theme: Theme) -> Text:
    """The workers view's entry for a worker started here that has no record: ``starting``
    (how long ago it was started; where, and ``importing…``), or ``failed to start`` (its
    exit status, and one line for each of the last lines of its log, where its error is)."""
    colour = cells.theme_style(theme, STATE_COLOUR[launch.state])
    text = Text(no_wrap=True, overflow="ellipsis")
    head = Text()
    head.append("○ " if launch.failed is None else "✗ ", style=colour)
    head.append(launch.id[:8], style=Style(bold=True))
    head.append(" ")
    head.append(launch.state, style=colour)
    head.truncate(width)
    if launch.failed is None and fits(head.plain, when := age(now - launch.started), width):
        head.append(_pad(head.plain, when, width), style="dim")
    text.append_text(head)
    pid = f":{launch.pid}"
    if launch.failed is None:
        doing = STARTING_NOTE
    else:
        doing = "exited" if launch.exit_code is None else f"exit {launch.exit_code}"
    room = width - cell_len(INDENT) - len(pid) - 1 - cell_len(doing)
    where = f"{squeeze(host, room)}{pid} {doing}" if room >= 3 else f"{pid[1:]} {doing}"
    text.append("\n" + INDENT + where, style="dim" if launch.failed is None else "")
    for line in failure_lines(launch.failed or "", width - cell_len(INDENT)):
        text.append("\n" + INDENT + line, style=colour)
    return text


def failure_lines(tail: str, width: int) -> list[str]:
    """A failed start's log tail wrapped to ``width``, its last :data:`FAILURE_LINES` lines:
    the error a worker dies of is the end of its log, and the sidebar is narrow."""
    wrapped = [
        part for line in tail.splitlines() for part in textwrap.wrap(line.strip(), max(8, width))
    ]
    return [squeeze(line, width) for line in wrapped[-FAILURE_LINES:]]


def _late_line(silence: str, when: str, width: int) -> str | None:
    """A late worker's third line with its age too, in ``width`` cells if it can be."""
    for start in (f"{INDENT}no heartbeat {silence}", f"{INDENT}silent {silence}"):
        line = f"{start} · up {when}"
        if cell_len(line) <= width:
            return line
    return None


def fits(line: str, right: str, width: int) -> bool:
    """Whether ``right`` fits after ``line`` with a space between, in ``width`` cells."""
    return cell_len(line) + 1 + cell_len(right) <= width


def _pad(line: str, right: str, width: int) -> str:
    """``right`` with the spaces that right-align it after ``line``."""
    return " " * (width - cell_len(line) - cell_len(right)) + right


def order(
    records: Iterable[WorkerRecord], most_gone: int = MOST_GONE
) -> tuple[list[WorkerRecord], int]:
    """Live workers first, oldest first (as the storage lists them); then at most
    ``most_gone`` of the gone ones, most recently heard of first; and how many gone ones
    were left out. A long study collects many exited workers, and rendering them all on
    every poll would cost the keyboard's time for lines nobody reads."""
    records = list(records)
    live = [r for r in records if r.alive]
    gone = sorted((r for r in records if not r.alive), key=lambda r: r.heartbeat, reverse=True)
    return live + gone[:most_gone], max(0, len(gone) - most_gone)
