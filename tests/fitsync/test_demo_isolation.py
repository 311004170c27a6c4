"""The demo keeps its data out of the real database: `./fitsync.sh demo` runs on data/demo/ (its own
database and .env), `--reset` wipes only that, and with DEBUG=0 fitsync refuses to start on a database
holding the demo login (a database check, run by `migrate` at every start)."""

import sqlite3
import stat
import subprocess
import time
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command

from fitsync.models import ConnectedAccount
from tests.fitsync_run import copy_of_checkout, fitsync_sh, free_port, require_fitsync_venv, script_env, wait_for_port

ADMIN_PASSWORD = "a-long-admin-password-for-this-test-only"


def demo_login_errors() -> list[str]:
    return [message.id for message in run_checks(databases=["default"]) if message.id == "fitsync.E100"]


@pytest.mark.django_db
def test_with_debug_off_a_database_holding_the_demo_login_is_refused(settings, django_user_model):
    settings.DEBUG = False
    assert demo_login_errors() == []
    django_user_model.objects.create_user("demo", password="demo")
    assert demo_login_errors() == ["fitsync.E100"]
    settings.DEBUG = True  # the demo itself
    assert demo_login_errors() == []


@pytest.mark.django_db
def test_seed_demo_remove_deletes_the_login_and_what_it_owns(django_user_model, settings):
    settings.DEBUG = False
    demo = django_user_model.objects.create_user("demo", password="demo")
    ConnectedAccount.objects.create(owner=demo, provider="hevy", display_name="demo hevy")
    django_user_model.objects.create_user("ada", password="x" * 20)
    call_command("seed_demo", "--remove", stdout=StringIO())
    assert list(django_user_model.objects.values_list("username", flat=True)) == ["ada"]
    assert ConnectedAccount.objects.count() == 0 and demo_login_errors() == []


def test_demo_env_names_the_demo_data_directory_and_writes_0600(tmp_path, sandbox_app):
    env = tmp_path / "demo" / ".env"
    env.parent.mkdir()
    env.write_text("SECRET_KEY=keep-me\n")
    env.chmod(0o644)
    call_command("demo_env", str(env), "--data-dir", str(tmp_path / "demo"), stdout=StringIO())
    assert f"FITSYNC_DATA_DIR={tmp_path / 'demo'}\n" in env.read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def users(database) -> set[str]:
    with sqlite3.connect(database) as db:
        return {name for (name,) in db.execute("SELECT username FROM auth_user")}


@pytest.mark.live
def test_the_demo_never_touches_the_real_instance(tmp_path):
    """GIVEN a set-up real instance (DEBUG=0) and stale demo data, WHEN `./fitsync.sh demo --reset` runs until
    it serves, THEN the demo's login lives in data/demo/ only, the stale data is gone, and `setup` still
    succeeds; a demo login in the real database stops `setup` until `seed_demo --remove` takes it out."""
    require_fitsync_venv()
    root = copy_of_checkout(tmp_path / "fitsync")
    sh = ["bash", str(root / "fitsync.sh")]
    env = script_env(FITSYNC_ADMIN_PASSWORD=ADMIN_PASSWORD)

    def run(*args):
        return subprocess.run([*sh, *args], cwd=root, env=env, capture_output=True, text=True)

    assert run("setup").returncode == 0
    real, demo = root / "data" / "fitsync.sqlite3", root / "data" / "demo"
    demo.mkdir()
    (demo / "stale").write_text("from an earlier demo")

    port, sandbox_port, log = free_port(), free_port(), tmp_path / "demo.log"
    demo_env = {"FITSYNC_BIND": f"127.0.0.1:{port}", "FITSYNC_SANDBOX_PORT": sandbox_port}
    with fitsync_sh("demo", "--reset", log_path=log, cwd=root, **demo_env) as process:
        wait_for_port(port, process, log)
        deadline = time.monotonic() + 60
        while "sign in at" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "sign in at" in log.read_text(), log.read_text()[-3000:]

    assert not (demo / "stale").exists()
    assert "demo" in users(demo / "fitsync.sqlite3")
    assert users(real) == {"admin"}
    assert run("setup").returncode == 0

    with sqlite3.connect(real) as db:  # what the demo did before it had its own directory
        db.execute(
            "INSERT INTO auth_user (username, password, is_superuser, is_staff, is_active, first_name, last_name,"
            " email, date_joined) VALUES ('demo', '!', 0, 0, 1, '', '', '', '2026-01-01')"
        )
    refused = run("setup")
    assert refused.returncode != 0 and "fitsync.E100" in refused.stderr and "seed_demo --remove" in refused.stderr
    assert run("manage", "seed_demo", "--remove").returncode == 0
    assert run("setup").returncode == 0 and users(real) == {"admin"}
