"""The SSH launcher: workers on other hosts, started over ``ssh``, joining through the storage.

Hosts are named as the user's SSH configuration names them (``~/.ssh/config``, or the file
given with ``config``): keys, ports, users and jump hosts stay there, and ``ssh`` runs in
batch mode, so it never asks for a password. The remote side needs only rltui installed
(``python -m rltui`` works there) and network access to the study's storage (PostgreSQL, or a
journal file on a shared folder).

The storage URL, which may hold a password, is never on a command line, local or remote: it
travels on ssh's standard input and the remote shell hands it to the worker in its
environment (``RLTUI_STORAGE_URL``). Each remote worker runs in a session of its own under
``nohup``, its output in ``LOG_DIR/worker-ID.log`` on that host, so a dropped SSH link or a
closed window stops no training. The launcher adds no server: the storage stays the only
channel to the workers, and stopping one is a signal sent over ssh to the pid it reported.
"""

from __future__ import annotations

import shlex
import subprocess
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rltui.launch.local import STORAGE_ENV

CONNECT_TIMEOUT = 10  # seconds ssh may take to connect before the start counts as failed
DEFAULT_LOG_DIR = "~/.rltui/logs"


class LaunchError(RuntimeError):
    """A worker that could not be started; the message says where and why."""


@dataclass(frozen=True)
class RemoteWorker:
    """A worker started on ``host``: its id, its pid there, and its log file there."""

    worker_id: str
    host: str
    pid: int
    log: str


class SshLauncher:
    """Starts workers for one study on named SSH hosts, spread evenly over them."""

    def __init__(
        self,
        hosts: Sequence[str],
        storage_url: str,
        study_name: str,
        *,
        python: str = "python3",
        config: str | None = None,
        device: str | None = None,
        log_dir: str = DEFAULT_LOG_DIR,
        ssh: str = "ssh",
    ):
        if not hosts:
            raise ValueError("name at least one host, as your SSH configuration names it")
        self.hosts = list(hosts)
        self.storage_url = storage_url
        self.study_name = study_name
        self.python = python
        self.config = config
        self.device = device
        self.log_dir = log_dir
        self.ssh = ssh
        self.started: list[RemoteWorker] = []

    def ssh_command(self, host: str, remote: str) -> list[str]:
        """The local command that runs the shell line ``remote`` on ``host``."""
        cmd = [self.ssh, "-o", "BatchMode=yes", "-o", f"ConnectTimeout={CONNECT_TIMEOUT}"]
        if self.config:
            cmd += ["-F", self.config]
        return [*cmd, "-T", host, remote]

    def remote_script(self, worker_id: str, index: int) -> str:
        """The shell line the host runs: read the storage URL from stdin, start the worker
        detached, print its pid."""
        log_dir = _home_path(self.log_dir)
        log = f"{log_dir}/worker-{worker_id}.log"
        worker = [
            *shlex.split(self.python),
            "-m",
            "rltui",
            "worker",
            "--storage-from-env",
            "--study",
            self.study_name,
            "--worker-id",
            worker_id,
            "--index",
            str(index),
            "--log",
            log,
        ]
        if self.device:
            worker += ["--device", self.device]
        command = " ".join(_quote_keeping_home(part) for part in worker)
        return (
            f"IFS= read -r {STORAGE_ENV} && export {STORAGE_ENV} && "
            f"mkdir -p {_quote_keeping_home(log_dir)} && "
            f"(PYTHONUNBUFFERED=1 nohup setsid {command} "
            f"> {_quote_keeping_home(log)} 2>&1 < /dev/null & echo $!)"
        )

    def place(self, count: int) -> list[str]:
        """The host for each of ``count`` new workers: the hosts with the fewest workers this
        launcher started, in the order they were named."""
        load = Counter({host: 0 for host in self.hosts})
        for worker in self.started:
            if worker.host in load:
                load[worker.host] += 1
        out = []
        for _ in range(count):
            host = min(self.hosts, key=lambda h: load[h])
            load[host] += 1
            out.append(host)
        return out

    def start(self, count: int = 1, *, first_index: int = 0) -> list[RemoteWorker]:
        """Start ``count`` workers; returns once each host has reported its worker's pid.
        Raises :class:`LaunchError` naming the host and what ssh said."""
        launched = []
        for offset, host in enumerate(self.place(count)):
            worker_id = uuid.uuid4().hex[:8]
            index = first_index + offset
            done = self._run(host, self.remote_script(worker_id, index), self.storage_url + "\n")
            pid = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
            if not pid.isdigit():
                raise LaunchError(
                    f"{host}: the worker did not start (no pid came back; ssh said: "
                    f"{_tail(done.stderr or done.stdout)})"
                )
            log = f"{_home_path(self.log_dir)}/worker-{worker_id}.log"
            worker = RemoteWorker(worker_id, host, int(pid), log)
            launched.append(worker)
            self.started.append(worker)
        return launched

    def signal(self, worker: RemoteWorker, name: str = "TERM") -> bool:
        """Send signal ``name`` (TERM drains the worker: it pauses its trial and leaves) to a
        worker this launcher started; False when the host says it is gone."""
        done = self._run(worker.host, f"kill -{shlex.quote(name)} {worker.pid}", "", check=False)
        return done.returncode == 0

    def running(self, worker: RemoteWorker) -> bool:
        """Whether the worker's process still runs on its host."""
        done = self._run(worker.host, f"kill -0 {worker.pid}", "", check=False)
        return done.returncode == 0

    def read_log(self, worker: RemoteWorker, lines: int = 40) -> str:
        """The last ``lines`` lines of the worker's log on its host."""
        done = self._run(
            worker.host, f"tail -n {int(lines)} {_quote_keeping_home(worker.log)}", "", check=False
        )
        return done.stdout

    def _run(
        self, host: str, remote: str, stdin: str, *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                self.ssh_command(host, remote),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=CONNECT_TIMEOUT + 30,
            )
        except FileNotFoundError:
            message = f"'{self.ssh}' is not installed here: install OpenSSH's client"
            raise LaunchError(message) from None
        except subprocess.TimeoutExpired:
            message = f"{host}: ssh did not answer within {CONNECT_TIMEOUT + 30} s"
            raise LaunchError(message) from None
        if check and done.returncode != 0:
            raise LaunchError(
                f"{host}: ssh failed with exit code {done.returncode}: {_tail(done.stderr)} "
                "(check that `ssh HOST` logs in without a password prompt)"
            )
        return done


def _home_path(path: str) -> str:
    """``~/x`` as ``$HOME/x``, so that the remote shell expands it inside quotes."""
    if path == "~":
        return "$HOME"
    if path.startswith("~/"):
        return "$HOME/" + path[2:]
    return path


def _quote_keeping_home(part: str) -> str:
    """Quote ``part`` for the remote shell, leaving a leading ``$HOME`` to expand."""
    if part.startswith("$HOME"):
        return '"$HOME"' + shlex.quote(part[len("$HOME") :]) if part != "$HOME" else '"$HOME"'
    return shlex.quote(part)


def _tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text[-limit:] if text else "nothing"
