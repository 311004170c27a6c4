"""`./fitsync.sh manage <command>` runs a manage.py command in the virtualenv with .env, from any directory:
the form the README and the lockout help give."""

import subprocess

import pytest

from tests.fitsync_run import ROOT, require_fitsync_venv, script_env


@pytest.mark.live
def test_manage_runs_from_another_directory_with_the_env_file(tmp_path):
    require_fitsync_venv()
    env_file = tmp_path / ".env"
    env = script_env(FITSYNC_ENV_FILE=env_file, FITSYNC_DATA_DIR=tmp_path / "data")
    setup = subprocess.run(["bash", str(ROOT / "fitsync.sh"), "setup"], cwd=tmp_path, env=env, capture_output=True)
    assert setup.returncode == 0, setup.stderr
    env_file.write_text(
        env_file.read_text().replace("SITE_URL=http://127.0.0.1:8000", "SITE_URL=https://fitsync.example.test")
    )
    show = "from django.conf import settings; print(settings.SITE_URL)"
    shell = subprocess.run(
        ["bash", str(ROOT / "fitsync.sh"), "manage", "shell", "-c", show],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert shell.stdout.strip().splitlines()[-1] == "https://fitsync.example.test", shell.stderr
    reset = ["bash", str(ROOT / "fitsync.sh"), "manage", "axes_reset_username", "ada"]
    assert subprocess.run(reset, cwd=tmp_path, env=env, capture_output=True).returncode == 0


@pytest.mark.django_db
def test_the_lockout_page_names_the_command_that_lifts_the_pause(client, user, settings):
    """The command it names is the one the test above runs: `./fitsync.sh manage`, not a bare manage.py."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 429
    assert "./fitsync.sh manage axes_reset_username ada" in response.content.decode()
