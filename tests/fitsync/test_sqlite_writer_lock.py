"""fitsync/backends/sqlite3: writers take turns on a lock that hands over at once, across threads and processes."""

import fcntl
import multiprocessing
import os
import threading
import time

import pytest
from django.db import OperationalError, connection, connections, transaction

from fitsync.backends.sqlite3.base import WriterLock, writer_lock
from fitsync.models import InboundEvent

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded default's engine")


def lock_path() -> str:
    return f"{os.path.abspath(connection.settings_dict['NAME'])}-writer"


def others_can_take_it() -> bool:
    """Whether another process could take the write turn now (a fresh descriptor, as another process has)."""
    fd = os.open(lock_path(), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_a_write_transaction_holds_the_turn_until_commit_or_rollback(transactional_db):
    with transaction.atomic():
        InboundEvent.objects.create(source="hevy", dedupe_key="a")
        assert not others_can_take_it()
    assert others_can_take_it()
    with pytest.raises(RuntimeError), transaction.atomic():
        InboundEvent.objects.create(source="hevy", dedupe_key="b")
        raise RuntimeError("rolled back")
    assert others_can_take_it() and connection.held_writer_lock is None
    assert list(InboundEvent.objects.values_list("dedupe_key", flat=True)) == ["a"]


def test_a_write_outside_a_transaction_takes_the_turn_for_its_statement(transactional_db, monkeypatch):
    held_at_release, release = [], WriterLock.release

    def noting_release(self):
        held_at_release.append(not others_can_take_it())
        release(self)

    monkeypatch.setattr(WriterLock, "release", noting_release)
    InboundEvent.objects.create(source="hevy", dedupe_key="autocommit")
    InboundEvent.objects.count()  # a read takes no turn
    assert held_at_release == [True]


def test_eight_threads_writing_at_once_all_succeed(transactional_db):
    errors, per_thread = [], 40

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                with transaction.atomic():
                    InboundEvent.objects.create(source="hevy", dedupe_key=f"{n}-{i}")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and InboundEvent.objects.count() == 8 * per_thread


def test_a_writer_waiting_past_the_busy_timeout_gets_database_is_locked(tmp_path):
    lock = writer_lock(str(tmp_path / "db.sqlite3"))
    lock.acquire(timeout=1)
    outcome = []

    def wait_briefly():
        started = time.monotonic()
        try:
            lock.acquire(timeout=0.2)
            outcome.append("acquired")
        except OperationalError as exc:
            outcome.append((str(exc), round(time.monotonic() - started, 1)))

    waiter = threading.Thread(target=wait_briefly)
    waiter.start()
    waiter.join()
    lock.release()
    assert outcome == [("database is locked", 0.2)]


def _child_tries(path: str, parent_holds, result) -> None:
    parent_holds.wait(5)
    try:
        writer_lock(path).acquire(timeout=0.3)
        result.put("acquired")
    except OperationalError:
        result.put("locked")


# Forking a process that has threads is the very case under test (gunicorn and django-q2 do it).
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_competes_with_its_parent_instead_of_sharing_its_turn(tmp_path):
    """gunicorn and django-q2 fork after the parent may have opened the lock: an inherited descriptor would
    share the parent's flock (flock belongs to the open file), and both would write at once."""
    path = str(tmp_path / "db.sqlite3")
    lock = writer_lock(path)
    context = multiprocessing.get_context("fork")
    parent_holds, result = context.Event(), context.Queue()
    child = context.Process(target=_child_tries, args=(path, parent_holds, result))
    child.start()
    lock.acquire(timeout=1)
    try:
        parent_holds.set()
        assert result.get(timeout=5) == "locked"
    finally:
        lock.release()
        child.join(5)
