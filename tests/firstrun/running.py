"""`./fitsync.sh run` (or `demo`) as a terminal runs it, and Ctrl-C as a terminal sends it: SIGINT to
the whole foreground process group."""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.fitsync_run import ROOT, script_env

BOX_TOP = "+---"


@dataclass
class Started:
    process: subprocess.Popen
    log_path: Path
    marker: str  # an environment entry every process of this instance inherits
    seconds_to_box: float

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def start(command: str, port: int, workdir: Path, root: Path = ROOT, timeout: float = 120, **env) -> Started:
    """`./fitsync.sh <command>` in a new process group (as a shell gives a foreground job), until its
    start-up box is printed. Its log goes to `workdir`, whose path marks its processes."""
    log_path = workdir / f"{command}-{time.monotonic_ns()}.log"
    marker = f"FITSYNC_TEST_INSTANCE={workdir}"
    environment = script_env(
        FITSYNC_BIND=f"127.0.0.1:{port}", SITE_URL=f"http://127.0.0.1:{port}", FITSYNC_TEST_INSTANCE=workdir, **env
    )
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", str(root / "fitsync.sh"), command],
            cwd=root,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    run = Started(process, log_path, marker, 0.0)
    deadline = started + timeout
    while BOX_TOP not in run.output():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_everything(run)
            raise AssertionError(f"no start-up box:\n{run.output()[-3000:]}")
        time.sleep(0.1)
    run.seconds_to_box = time.monotonic() - started
    return run


def ctrl_c(run: Started, timeout: float = 10) -> float:
    """SIGINT to the process group, as a terminal does; the seconds until `fitsync.sh` exited."""
    return interrupt(run, lambda: os.killpg(run.process.pid, signal.SIGINT), timeout)


def terminate(run: Started, timeout: float = 10) -> float:
    """SIGTERM to the script alone, as `kill <pid>` or a service manager's main-process stop does."""
    return interrupt(run, run.process.terminate, timeout)


def interrupt(run: Started, send, timeout: float) -> float:
    sent = time.monotonic()
    send()
    try:
        run.process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop_everything(run)
        raise AssertionError(f"still running {timeout} s after the signal:\n{run.output()[-3000:]}") from None
    return time.monotonic() - sent


def processes_of(run: Started) -> list[int]:
    """The processes still alive that belong to this instance (whatever their group or session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if run.marker.encode() in environ and not is_zombie(entry):
            found.append(int(entry.name))
    return found


def is_zombie(proc: Path) -> bool:
    try:
        return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def stop_everything(run: Started) -> None:
    for pid in processes_of(run):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    run.process.wait()


def health(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as answer:
        return answer.code
