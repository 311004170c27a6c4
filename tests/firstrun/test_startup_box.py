"""The end of start-up is a box with the URL, the admin user and, the first time only, its generated
password; start-up itself is quiet (no axes banner, no django-q2 chatter)."""

import re
import sqlite3

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.firstrun.running import ctrl_c, start
from tests.fitsync_run import free_port, require_fitsync_venv


def box(output: str) -> str:
    return output[output.index("+---") :]


def admin_hash(database) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT password FROM auth_user WHERE username = 'admin'").fetchone()[0]


@pytest.mark.live
def test_the_box_shows_url_admin_and_a_new_password_once(tmp_path):
    """GIVEN a first `./fitsync.sh run` with no admin password set, THEN its box names the URL, the admin
    user and a password that signs in as it; the password appears nowhere else, and not on the next run."""
    require_fitsync_venv()
    env = {"FITSYNC_DATA_DIR": tmp_path / "data", "FITSYNC_ENV_FILE": tmp_path / ".env"}
    port = free_port()
    first = start("run", port, tmp_path, **env)
    ctrl_c(first)
    shown = box(first.output())
    assert f"http://127.0.0.1:{port}/" in shown and "Admin user: admin" in shown
    password = re.search(r"Password:\s+(\S+)\s+\|", shown).group(1)
    # The tests' own settings use a fast hasher; the instance used the production one.
    assert PBKDF2PasswordHasher().verify(password, admin_hash(tmp_path / "data" / "fitsync.sqlite3"))
    assert first.output().count(password) == 1
    assert not (tmp_path / "data" / "admin-password").exists()

    second = start("run", free_port(), tmp_path, **env)
    ctrl_c(second)
    assert password not in second.output() and "the one you set" in box(second.output())


@pytest.mark.live
def test_start_up_is_quiet(tmp_path):
    require_fitsync_venv()
    env = {"FITSYNC_DATA_DIR": tmp_path / "data", "FITSYNC_ENV_FILE": tmp_path / ".env"}
    run = start("run", free_port(), tmp_path, FITSYNC_ADMIN_PASSWORD="x" * 24, **env)
    ctrl_c(run)
    output = run.output()
    assert "AXES" not in output and "[Q] INFO" not in output and " INFO django-q " not in output
