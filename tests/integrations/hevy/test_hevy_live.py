"""End to end through a real `manage.py qcluster` worker, the real pages and the sandbox over HTTP.

GIVEN a user who connects Hevy and Intervals.icu on the pages, WHEN the sandbox's Hevy sends its
webhook, THEN the worker puts the activity into the sandbox's Intervals.icu at the athlete's local
time; an edit and a deletion in Hevy follow through the events poll.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from integrations.hevy import tasks
from sandbox.hevy import HevyFake
from sandbox.intervals import IntervalsFake
from sandbox.server import SandboxServer
from tests.conftest import load_fixture

from .conftest import ATHLETE, HEVY_KEY, INTERVALS_KEY

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def sandbox(settings):
    hevy, intervals = HevyFake(), IntervalsFake()
    hevy.add_user(HEVY_KEY, name="anna_lifts")
    intervals.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="America/Los_Angeles", name="Anna")
    with SandboxServer({"hevy": hevy, "intervals": intervals}) as server:
        settings.HEVY_API_URL, settings.INTERVALS_API_URL = server.url_for("hevy"), server.url_for("intervals")
        yield server, hevy, intervals


@pytest.fixture
def worker(sandbox, tmp_path):
    server = sandbox[0]
    env = {
        **os.environ,
        "FITSYNC_ENV_FILE": "",
        "DEBUG": "0",
        "Q_POLL": "0.05",
        "Q_WORKERS": "2",
        "DATABASE_URL": database_url(),
        "HEVY_API_URL": server.url_for("hevy"),
        "INTERVALS_API_URL": server.url_for("intervals"),
    }
    log = tmp_path / "qcluster.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    yield process
    os.killpg(process.pid, signal.SIGTERM)  # the group this test started: qcluster and its workers
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def database_url() -> str:
    """The test database, as the worker subprocess reads it (SQLite file or PostgreSQL)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(check, worker, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = worker.log.read_text(errors="replace")[-3000:]
    raise AssertionError(f"timed out waiting for the worker; its log ends with:\n{tail}")


def test_a_webhook_becomes_an_activity_and_edits_and_deletions_follow(live_server, logged_in, sandbox, worker):
    _, hevy, intervals = sandbox
    logged_in.post("/hevy/", {"api_key": HEVY_KEY})
    logged_in.post("/intervals/", {"athlete_id": "", "api_key": INTERVALS_KEY})  # read from the key
    secret = logged_in.get("/hevy/").context["webhook_secret"]

    workout = hevy.add_workout(HEVY_KEY, load_fixture("hevy/workout__across_midnight.json"))
    (attempt,) = hevy.emit_webhook(live_server.url + "/webhooks/hevy/", secret, workout["id"])
    assert attempt.status == 200 and attempt.elapsed < 5.0  # inside Hevy's deadline, with no re-send

    wait_for(lambda: intervals.activities(ATHLETE), worker)
    (activity,) = intervals.activities(ATHLETE)
    assert activity["start_date_local"] == "2024-01-19T14:48:05"  # 22:48 UTC in Los Angeles
    assert activity["name"] == "Late Push 🌙" and "- Warm-up: 20.41 kg × 10" in activity["description"]

    hevy.update_workout(HEVY_KEY, workout["id"], title="Late Push (edited)")
    tasks.poll_events()
    wait_for(lambda: intervals.activities(ATHLETE)[0]["name"] == "Late Push (edited)", worker)
    assert [a["id"] for a in intervals.activities(ATHLETE)] == [activity["id"]]

    hevy.delete_workout(HEVY_KEY, workout["id"])
    tasks.poll_events()
    wait_for(lambda: not intervals.activities(ATHLETE), worker)
    assert len(intervals.calls("POST", r"/manual/bulk")) == 1 and len(intervals.calls("PUT")) == 1  # edit by id
