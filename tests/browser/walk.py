"""Helpers for browser walks against the sandbox: a real worker, screenshots of any tab, waiting by reloads."""

import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from tests.live import ROOT, process_env, stop

from .conftest import SCREENSHOTS


@contextmanager
def sandbox_worker(**env):
    """A real qcluster (see sandbox_worker.py) on the test database and this process's queue, `env` on top.

    Its log goes to a file (`process.log_path`): a pipe nobody reads would block a chatty worker.
    """
    from django_q.conf import Conf

    environment = process_env(Q_WORKERS=2, DEBUG=0, Q_CLUSTER_NAME=Conf.PREFIX, **env)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser fixtures' allowance stays in this process
    log = tempfile.NamedTemporaryFile(prefix="fitsync-browser-worker-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.sandbox_worker"],
        cwd=ROOT,
        env=environment,
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


def snap(page, name: str) -> None:
    """A full-page screenshot of any tab, named like the `shot` fixture's."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def reload_until(page, locator, timeout: float = 30, interval: float = 0.3):
    """Reload `page` until `locator` is visible: the pages show job results on the next load."""
    deadline = time.monotonic() + timeout
    while True:
        if locator.count() and locator.first.is_visible():
            return locator
        if time.monotonic() > deadline:
            raise AssertionError(f"{locator} not visible on {page.url} within {timeout} s")
        time.sleep(interval)
        page.reload()
