"""Run the web server and the worker as children of one process that alone decides how they stop.

Each child runs in its own session, so a terminal's Ctrl-C (SIGINT to the whole foreground process group)
reaches only the supervisor. It then sends SIGTERM to the top process of each child, never to their
groups: django-q2's sentinel dies at once on SIGTERM and its main process then hangs (docs/reliability.md,
"Shutdown"). Whatever is still alive at the deadline is SIGKILLed, group and all.
"""

import os
import signal
import subprocess
import time
from pathlib import Path

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_REQUESTED = "stop requested"


class Supervisor:
    def __init__(self, commands: dict[str, list[str]], cwd: Path, stop_deadline: float = 8.0):
        self.commands = commands
        self.cwd = cwd
        self.stop_deadline = stop_deadline
        self.children: dict[str, subprocess.Popen] = {}
        self.stop_requested = False

    def start(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._request_stop)
        for name, command in self.commands.items():
            self.children[name] = subprocess.Popen(command, cwd=self.cwd, start_new_session=True)

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested = True

    def ended_child(self) -> str | None:
        for name, child in self.children.items():
            if child.poll() is not None:
                return f"{name} exited with status {child.returncode}"
        return None

    def is_running(self) -> bool:
        return not self.stop_requested and self.ended_child() is None

    def wait(self, interval: float = 0.2) -> str:
        """Until a stop signal arrives or a child ends; returns why."""
        while self.is_running():
            time.sleep(interval)
        return self.ended_child() or STOP_REQUESTED

    def stop(self) -> list[str]:
        """SIGTERM to each child's top process, SIGKILL to the groups of those alive at the deadline;
        returns the names of those that had to be killed."""
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_deadline
        while time.monotonic() < deadline and any(child.poll() is None for child in self.children.values()):
            time.sleep(0.05)
        killed = [name for name, child in self.children.items() if child.poll() is None]
        for child in self.children.values():
            kill_group(child.pid)  # the child's own helpers too (gunicorn's workers, django-q2's pool)
            child.wait()
        return killed


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
