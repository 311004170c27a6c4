"""SQLite with one writer at a time, handed over without SQLite's sleeps (the embedded default's ENGINE).

SQLite lets one connection write at a time. Its own busy handler waits for that lock by sleeping
1, 2, 5 ... up to 100 ms between looks, so under load a writer can sleep long after the lock came
free: the webhook's p99 was 600 ms while each transaction took about a millisecond (bench/RESULTS.md).
Here a writer first takes a lock of our own: a thread lock shared by the process's connections, then
an exclusive flock on a file beside the database that the other processes use too. The thread lock
hands over as soon as the holder lets go; the flock is looked at every 100 µs (see _flock), so by the
time the writer sends BEGIN IMMEDIATE, SQLite's lock is free. SQLite's busy timeout stays as the
fallback for writers outside this backend (the sqlite3 shell, a backup) and bounds our own wait:
past it, the same "database is locked" error as before.
"""

import fcntl
import os
import re
import threading
import time
from contextlib import contextmanager, suppress

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation

WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
QUICK_POLL_SECONDS, QUICK_POLL_FOR_SECONDS, SLOW_POLL_SECONDS = 0.0001, 0.005, 0.001


class WriterLock:
    """The write turn for one database file in this process."""

    def __init__(self, database_path: str):
        self.threads = threading.Lock()
        self.fd = os.open(f"{database_path}-writer", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        try:
            self._flock(deadline)
        except BaseException:
            self.threads.release()
            raise

    def _flock(self, deadline: float) -> None:
        # Only this process's current writer polls, so it costs one thread. A turn lasts about half a
        # millisecond, so look every 100 µs at first; a wait past 5 ms is a long transaction: every 1 ms.
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                now = time.monotonic()
                if now >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(QUICK_POLL_SECONDS if now - started < QUICK_POLL_FOR_SECONDS else SLOW_POLL_SECONDS)

    def release(self) -> None:
        try:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.threads.release()


_locks: dict[str, WriterLock] = {}
_locks_guard = threading.Lock()


def _forget_parent_locks() -> None:
    """In a forked child: the thread locks may be held by parent threads that don't exist here, and an
    inherited descriptor would share the parent's flock (it belongs to the open file) instead of competing."""
    global _locks_guard
    _locks_guard = threading.Lock()
    _locks.clear()


os.register_at_fork(after_in_child=_forget_parent_locks)


def writer_lock(database_path: str) -> WriterLock:
    with _locks_guard:
        lock = _locks.get(database_path)
        if lock is None:
            lock = _locks[database_path] = WriterLock(database_path)
        return lock


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name, verbosity):
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            with suppress(FileNotFoundError):
                os.remove(f"{test_database_name}-writer")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.held_writer_lock: WriterLock | None = None

    def take_writer_lock(self) -> None:
        if self.held_writer_lock is None and not self.is_in_memory_db():
            lock = writer_lock(os.path.abspath(self.settings_dict["NAME"]))
            lock.acquire(self.settings_dict["OPTIONS"].get("timeout", 5))
            self.held_writer_lock = lock

    def release_writer_lock(self) -> None:
        lock, self.held_writer_lock = self.held_writer_lock, None
        if lock is not None:
            lock.release()

    def create_cursor(self, name=None):
        cursor = self.connection.cursor(factory=WriterCursor)
        cursor.database = self
        return cursor

    def _start_transaction_under_autocommit(self):
        self.take_writer_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self.release_writer_lock()
            raise

    def _commit(self):
        try:
            super()._commit()
        finally:
            self.release_writer_lock()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self.release_writer_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            self.release_writer_lock()


class WriterCursor(base.SQLiteCursorWrapper):
    """Takes the write turn for a write statement run outside a transaction (Django's autocommit)."""

    database: DatabaseWrapper

    def execute(self, query, params=None):
        with self.write_turn(query):
            return super().execute(query, params)

    def executemany(self, query, param_list):
        with self.write_turn(query):
            return super().executemany(query, param_list)

    @contextmanager
    def write_turn(self, query: str):
        if self.database.held_writer_lock is not None or not WRITE_STATEMENT.match(query):
            yield
            return
        self.database.take_writer_lock()
        try:
            yield
        finally:
            self.database.release_writer_lock()
