"""The review's deployment items, checked statically where no Docker engine runs (none does in CI):
the Python floor, the image's ownership, compose's port and secrets, the hash-pinned lock files."""

import os
import re
import stat
import subprocess
import tomllib
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


# --- Python >= 3.12.6 ---------------------------------------------------------------------------------
def find_python(pyenv_root: Path, fitsync_python: str = "") -> subprocess.CompletedProcess:
    """fitsync.sh's interpreter search, with only system directories on PATH and `pyenv_root`'s versions."""
    script = f"source {ROOT / 'fitsync.sh'} && find_python"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(pyenv_root), "PYENV_ROOT": str(pyenv_root)}
    env["FITSYNC_PYTHON"] = fitsync_python
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)


def fake_pyenv(tmp_path: Path, *versions: str) -> Path:
    for version in versions:
        if not (PYENV / version / "bin" / "python3").exists():
            pytest.skip(f"pyenv's Python {version} is not installed here")
        (tmp_path / "versions" / version / "bin").mkdir(parents=True)
        (tmp_path / "versions" / version / "bin" / "python3").symlink_to(PYENV / version / "bin" / "python3")
    return tmp_path


def test_python_3_12_1_is_refused_and_3_13_used(tmp_path):
    """3.12.1 parses a crafted Cookie header in seconds (CVE-2024-7592, fixed in 3.12.6)."""
    old_only = find_python(fake_pyenv(tmp_path / "a", "3.12.1"))
    assert old_only.returncode != 0 and "no Python >= 3.12.6" in old_only.stderr
    both = fake_pyenv(tmp_path / "b", "3.12.1", "3.13.0")
    chosen = find_python(both, fitsync_python=str(PYENV / "3.12.1" / "bin" / "python3"))
    assert chosen.returncode == 0 and chosen.stdout.strip().endswith("3.13.0/bin/python3")


def test_pyproject_and_readme_say_3_12_6():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.12.6"
    assert "Python ≥ 3.12.6" in (ROOT / "README.md").read_text()


# --- Docker -------------------------------------------------------------------------------------------
def test_the_image_code_is_roots_and_only_the_data_directory_the_users():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copies = re.findall(r"^COPY .*$", dockerfile, re.M)
    assert "COPY . /app" in copies and not any("--chown" in line for line in copies)
    assert "chown -R root:root /app && chmod -R a+rX,go-w /app" in dockerfile
    assert "mkdir -m 0700 /app/data && chown fitsync:fitsync /app/data" in dockerfile
    # Ownership is settled before the switch to the runtime user, which every process then runs as.
    assert dockerfile.index("chown fitsync:fitsync /app/data") < dockerfile.index("\nUSER fitsync\n")
    assert "--require-hashes --no-deps -r /tmp/requirements.lock" in dockerfile


def test_the_entrypoint_keeps_the_admin_password_out_of_the_logs():
    entrypoint = (ROOT / "docker-entrypoint.sh").read_text()
    assert "umask 077" in entrypoint
    assert 'ensure_admin --password-file "${FITSYNC_DATA_DIR:-/app/data}/admin-password"' in entrypoint


def test_compose_publishes_on_loopback_and_holds_no_password():
    text = (ROOT / "docker-compose.yml").read_text()
    compose = yaml.safe_load(text)
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert all("ports" not in service for name, service in compose["services"].items() if name != "web")
    db_password = compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
    assert db_password.startswith("${POSTGRES_PASSWORD:?")
    for name in ("web", "worker"):
        url = compose["services"][name]["environment"]["DATABASE_URL"]
        assert re.fullmatch(r"postgres://fitsync:\$\{POSTGRES_PASSWORD:\?[^}]*\}@db:5432/fitsync", url), url
    assert not re.search(r"postgres://[^:/\s]+:(?!\$\{)[^@\s]+@", text)  # no literal password in any URL


@pytest.mark.django_db
def test_ensure_admin_writes_a_generated_password_to_a_private_file_only(tmp_path, settings):
    settings.FITSYNC_ADMIN_PASSWORD = ""
    output, path = StringIO(), tmp_path / "data" / "admin-password"
    call_command("ensure_admin", "--password-file", str(path), stdout=output)
    password = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(password) >= 16 and password not in output.getvalue() and str(path) in output.getvalue()
    assert get_user_model().objects.get(username=settings.FITSYNC_ADMIN_USERNAME).check_password(password)


# --- pinned dependencies ------------------------------------------------------------------------------
def pins(lock: str) -> dict[str, list[str]]:
    """{name==version: [hashes]} of a pip-compile --generate-hashes file."""
    entries = re.split(r"\n(?=[a-z0-9])", (ROOT / lock).read_text())
    found = {}
    for entry in entries:
        match = re.match(r"([a-z0-9._-]+==[^\s\\;]+)", entry)
        if match:
            found[match.group(1)] = re.findall(r"--hash=sha256:([0-9a-f]{64})", entry)
    return found


def direct_pins(requirements: str) -> set[str]:
    lines = (ROOT / requirements).read_text().splitlines()
    return {re.sub(r"\[.*\]", "", line).lower() for line in lines if "==" in line and not line.startswith("#")}


def test_the_lock_files_pin_everything_with_hashes():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert runtime and all(runtime.values()) and all(dev.values())
    assert runtime.items() <= dev.items()  # the test environment runs exactly what production runs
    assert direct_pins("requirements.txt") <= runtime.keys()
    assert direct_pins("requirements-dev.txt") <= dev.keys()
    assert not any(name.startswith("withings-api==") for name in runtime)  # only the tests use it


def test_fitsync_sh_installs_only_hash_checked_locks():
    script = (ROOT / "fitsync.sh").read_text()
    installs = re.findall(r"pip install .*", script)
    assert installs and all("--require-hashes" in line for line in installs)
    assert "ensure_venv requirements.lock" in script and "ensure_venv requirements-dev.lock" in script
