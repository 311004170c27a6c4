"""`./fitsync.sh run` (or another fitsync.sh command) as a user starts it, for live tests.

It runs in this test process's virtualenv, which must be the one fitsync.sh installed from
requirements-dev.lock: otherwise fitsync.sh would install packages into it, and the test is skipped.
"""

import hashlib
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live import stop

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)


def require_fitsync_venv() -> None:
    """Skip unless this virtualenv holds requirements-dev.lock as fitsync.sh installs it."""
    digest = hashlib.sha256((ROOT / "requirements-dev.lock").read_bytes()).hexdigest()[:16]
    stamp = VENV / ".installed-requirements-dev.lock"
    if not stamp.exists() or stamp.read_text().strip() != digest:
        pytest.skip("this virtualenv was not installed by ./fitsync.sh from requirements-dev.lock")


def script_env(**overrides) -> dict:
    """The environment of a user's shell: no test settings, this virtualenv, `overrides` on top."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "PYENV_ROOT")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.update(FITSYNC_VENV=str(VENV), PYTHONDONTWRITEBYTECODE="1")
    env.update({key: str(value) for key, value in overrides.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def fitsync_sh(*args, log_path: Path, cwd: Path = ROOT, **env):
    """`./fitsync.sh *args` in its own process group until the block ends; SIGTERM (its trap stops gunicorn
    and the worker), then SIGKILL to whatever is left. Its output goes to `log_path`."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["bash", str(cwd / "fitsync.sh"), *args],
            cwd=cwd,
            env=script_env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def wait_for_port(port: int, process, log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"fitsync.sh exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listened on {port}:\n{log_path.read_text(errors='replace')[-3000:]}")


def copy_of_checkout(destination: Path) -> Path:
    """The project's files in `destination`, without the virtualenv, data, static files or git metadata."""
    import shutil

    skip = shutil.ignore_patterns(
        ".git", ".venv", "data", "staticfiles", "test-artifacts", "__pycache__", ".pytest_cache"
    )
    shutil.copytree(ROOT, destination, ignore=skip)
    (destination / ".env").unlink(missing_ok=True)
    return destination
