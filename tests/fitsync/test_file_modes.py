"""R16: files at rest. The data directory is 0700; the database, its WAL files and .env are 0600, from the
first start (fitsync.sh runs under umask 077 and creates .env 0600) and at every start after (settings
take group and other access off what an older version or a restored backup left open)."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fitsync.private_files import secure_at_start
from tests.fitsync_run import ROOT, copy_of_checkout, require_fitsync_venv, script_env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_data_directory_is_created_0700(tmp_path):
    data = tmp_path / "new" / "data"
    secure_at_start(data, str(data / "fitsync.sqlite3"), "")
    assert mode(data) == 0o700


def test_on_postgresql_no_data_directory_is_created(tmp_path):
    secure_at_start(tmp_path / "data", None, "")  # the code's directory may be read-only there
    assert not (tmp_path / "data").exists()


def test_open_files_from_an_older_start_are_tightened(tmp_path):
    data, env_file = tmp_path / "data", tmp_path / ".env"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    files = [data / f"fitsync.sqlite3{suffix}" for suffix in ("", "-wal", "-shm", "-wake")] + [env_file]
    for path in files:
        path.write_text("x")
        path.chmod(0o644)
    secure_at_start(data, str(data / "fitsync.sqlite3"), str(env_file))
    assert mode(data) == 0o700
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_a_database_elsewhere_keeps_its_directory_mode(tmp_path):
    shared, data = tmp_path / "shared", tmp_path / "data"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: not ours to change
    (shared / "db.sqlite3").write_text("x")
    (shared / "db.sqlite3").chmod(0o664)
    secure_at_start(data, str(shared / "db.sqlite3"), "")
    assert mode(shared) == 0o1777 and mode(shared / "db.sqlite3") == 0o600


def test_settings_create_and_tighten_at_start(tmp_path):
    """The real settings module, in a fresh interpreter (`manage.py check`), with an open data directory."""
    data, env_file = tmp_path / "data", tmp_path / "fitsync.env"
    data.mkdir()
    data.chmod(0o755)
    (data / "fitsync.sqlite3").write_bytes(b"")
    (data / "fitsync.sqlite3").chmod(0o644)
    env_file.write_text("LOG_LEVEL=INFO\n")
    env_file.chmod(0o644)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(FITSYNC_DATA_DIR=str(data), FITSYNC_ENV_FILE=str(env_file))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (mode(data), mode(data / "fitsync.sqlite3"), mode(env_file)) == (0o700, 0o600, 0o600)


@pytest.mark.live
def test_fitsync_setup_leaves_nothing_readable_by_others(tmp_path):
    """GIVEN a fresh copy of the project and a shell with umask 022, WHEN `./fitsync.sh setup` runs,
    THEN data/ is 0700, and .env, the database and its WAL files are 0600."""
    require_fitsync_venv()
    root = copy_of_checkout(tmp_path / "fitsync")
    env = script_env(FITSYNC_ADMIN_PASSWORD="a-long-admin-password-for-this-test-only")
    command = f"umask 022; exec bash {root / 'fitsync.sh'} setup"
    result = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    data = root / "data"
    written = [root / ".env", *sorted(data.iterdir())]
    assert data / "fitsync.sqlite3" in written
    assert mode(data) == 0o700
    assert {path.name: oct(mode(path)) for path in written} == {path.name: "0o600" for path in written}
