"""The embedded default's broker: a job queued while the worker waits starts at once, not at the next poll."""

import os
import stat

import pytest
from django.conf import settings
from django.db import transaction

from fitsync import broker, jobs
from fitsync.models import Heartbeat
from tests.live import wait_for, worker

pytestmark = pytest.mark.skipif(bool(settings.REDIS_URL), reason="the ORM broker only (Redis blocks on its list)")
LONG_POLL = 60  # far longer than the waits below: only a wake-up can start the job in time


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_job_queued_while_the_worker_waits_wakes_it():
    with worker(Q_POLL=LONG_POLL):
        wait_for(lambda: broker.fifo_path().exists(), timeout=30)  # the worker looked, found nothing, waits
        wait_for(writer_can_open, timeout=10)
        with transaction.atomic():
            jobs.send("fitsync.tasks.heartbeat")
        wait_for(lambda: Heartbeat.objects.exists(), timeout=15)


def writer_can_open() -> bool:
    try:
        os.close(os.open(broker.fifo_path(), os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        return False
    return True


def test_the_fifo_is_private_and_replaces_a_stray_file(tmp_path):
    path = tmp_path / "queue.wake"
    path.write_text("not a fifo")
    wakeup = broker.Wakeup(path)
    mode = path.stat().st_mode
    assert stat.S_ISFIFO(mode) and stat.S_IMODE(mode) == 0o600
    os.close(wakeup.fd)


@pytest.mark.django_db
def test_notify_without_a_waiting_worker_is_harmless(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    broker.notify()  # no FIFO, or no reader: nothing to wake, nothing raised
