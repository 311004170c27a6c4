"""Start real fitsync processes (the django-q2 worker) against the test database, for live tests."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The URL of the database the test process is using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def process_env(**overrides) -> dict:
    env = dict(os.environ, DATABASE_URL=database_url(), FITSYNC_ENV_FILE="", Q_POLL="0.05")
    env.update({k: str(v) for k, v in overrides.items()})
    return env


@contextmanager
def worker(workers: int = 2, **env):
    """A real `manage.py qcluster` for the duration of the block; stopped with SIGTERM, then SIGKILL.

    Its log goes to a file (`process.log_path`): a pipe nobody reads would block a chatty worker.
    """
    log = tempfile.NamedTemporaryFile(prefix="fitsync-worker-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=process_env(Q_WORKERS=workers, **env),
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    process.log_path = log.name
    log.close()
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM to the qcluster process (as `docker stop` does), then SIGKILL to whatever is left.

    Not SIGTERM to the whole group: django-q2's sentinel dies at once on SIGTERM and the main process
    then hangs (docs/reliability.md, "Shutdown").
    """
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def wait_for(predicate, timeout: float = 30, interval: float = 0.1):
    """Poll until `predicate()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
