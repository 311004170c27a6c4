"""django-q2's ORM broker, woken when a job is queued instead of polling often (the embedded default).

The stock ORM broker looks for jobs every `Q_POLL` seconds: a short poll costs idle CPU, a long one adds
half its length to every job's start. Here the process that queues a job writes a byte to a FIFO beside
the database once its transaction commits, and a worker waiting between looks wakes at once; `Q_POLL`
stays as the backstop for a wake-up that never comes (a FIFO on another machine, say).
Dequeueing takes jobs exactly as django-q2's does: a row is ours only if our UPDATE of its lock won.
"""

import os
import select
import stat
import time
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf


def fifo_path() -> Path:
    """Beside the SQLite file (so a test database has its own), else in the data directory."""
    database = connections[Conf.ORM].settings_dict
    if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) != ":memory:":
        return Path(f"{database['NAME']}-wake")
    return Path(settings.DATA_DIR) / "queue.wake"


def notify() -> None:
    """Wake a waiting worker, if any; never fails the caller (the worker polls anyway)."""
    try:
        fd = os.open(fifo_path(), os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # no worker has it open (ENXIO), or no FIFO yet
        return
    try:
        os.write(fd, b"!")
    except OSError:  # full: the worker has wake-ups waiting already
        pass
    finally:
        os.close(fd)


class Wakeup:
    """The worker's end: opened read-write, so it never sees end-of-file when writers come and go."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.exists() and stat.S_ISFIFO(path.stat().st_mode)):
            path.unlink(missing_ok=True)
            os.mkfifo(path, 0o600)
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def wait(self, timeout: float) -> None:
        readable, _, _ = select.select([self.fd], [], [], timeout)
        if readable:
            try:
                os.read(self.fd, 4096)  # every wake-up so far is answered by this one look
            except BlockingIOError:
                pass


class OrmBroker(ORM):
    _wakeup: Wakeup | None = None

    def enqueue(self, task: str):
        task_id = super().enqueue(task)
        transaction.on_commit(notify, using=Conf.ORM)  # the row is visible to the worker only then
        return task_id

    def dequeue(self):
        queue = self.get_connection()
        rows = list(queue.filter(key=self.list_key, lock__lt=timezone.now())[: Conf.BULK])
        taken = [(row.pk, row.payload) for row in rows if self._lock(queue, row)]
        if taken:
            return taken
        self._wait(Conf.POLL)

    def _lock(self, queue, row) -> bool:
        return bool(queue.filter(id=row.id, lock=row.lock).update(lock=self.timeout(row)))

    def _wait(self, seconds: float) -> None:
        try:
            if self._wakeup is None:
                self._wakeup = Wakeup(fifo_path())
        except OSError:  # a data directory we cannot write: poll like the stock broker
            time.sleep(seconds)
            return
        self._wakeup.wait(seconds)
