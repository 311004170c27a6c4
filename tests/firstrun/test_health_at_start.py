"""/health is 200 as soon as a worker runs: each worker process beats once when it starts, rather than
leaving /health at 503 "worker silent" until the scheduler's first beat a minute or more later."""

import time

import pytest
from django_q.models import Schedule
from django_q.signals import post_spawn

from fitsync.models import Heartbeat
from tests.live import wait_for, worker


@pytest.mark.django_db
def test_a_worker_process_beats_when_it_starts(client):
    assert client.get("/health").status_code == 503
    post_spawn.send(sender="django_q", proc_name="Process-1")
    assert client.get("/health").status_code == 200


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_health_is_200_seconds_after_the_worker_starts_with_no_schedule_to_help(client):
    """GIVEN no heartbeat schedule at all, WHEN a real qcluster starts, THEN /health turns 200 within
    seconds: the beat came from the worker's start, not from a schedule."""
    Schedule.objects.filter(func="fitsync.tasks.heartbeat").delete()
    started = time.monotonic()
    with worker():
        wait_for(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout=15)
        assert client.get("/health").status_code == 200
    assert time.monotonic() - started < 15
