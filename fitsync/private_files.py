"""fitsync's files are its user's alone: the data directory 0700, the database, its WAL files and .env 0600.

A copy of the database holds every session (a session key copied out of it logs in as its user), and .env
holds the keys that decrypt every stored token. `fitsync.sh` runs under `umask 077`, so what it creates is
private from the first byte; this tightens what an older version, a restored backup or another tool left
readable, at every start.
"""

import os
import stat
import warnings
from pathlib import Path

PRIVATE = 0o077  # the group and other permission bits
SQLITE_FILES = ("", "-wal", "-shm", "-journal", "-wake")  # -wake: the job queue's FIFO (fitsync/broker.py)


def secure_at_start(data_dir: Path, database: str | None, env_file: str) -> None:
    """Take group and other access off the data directory, the files in it, the SQLite files (`database`, None
    on PostgreSQL) and `env_file`; create the SQLite database's directory 0700 if it is missing."""
    if database:
        # A database outside the data directory: its directory is created privately if missing, but an
        # existing one is not ours to change (it may be /tmp).
        Path(database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if data_dir.is_dir():
        tighten(data_dir)
        for path in data_dir.iterdir():
            if path.is_file():
                tighten(path)
    for suffix in SQLITE_FILES if database else ():
        tighten(Path(f"{database}{suffix}"))
    if env_file:
        tighten(Path(env_file))


def tighten(path: Path) -> None:
    """Remove group and other permissions from `path`, if it exists and has any."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & PRIVATE:
            path.chmod(mode & ~PRIVATE)
    except FileNotFoundError:
        pass
    except PermissionError:
        warnings.warn(f"{path} is readable by others and not ours to change: chmod go-rwx it", stacklevel=2)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, mode 0600 from its first byte (an existing file is made 0600 before writing)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # O_CREAT leaves an existing file's mode as it was
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
