"""The demo world: what `build_sandbox(seed=True)` holds, the demo commands, and sandbox_serve live."""

import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import call_command
from garminconnect import Garmin

from sandbox import registry
from sandbox.control import mount_table
from sandbox.garmin import point_at
from sandbox.hevy import parse_time
from sandbox.management.commands.demo_env import update_env_text
from sandbox.registry import build_sandbox
from sandbox.server import SandboxServer
from sandbox.withings_measures import WEIGHT

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sandbox():
    return build_sandbox(True, now=NOW)


# --- the seeded world ----------------------------------------------------------------------------
def test_it_seeds_a_year_of_hevy_workouts_behind_the_demo_key(sandbox):
    user = sandbox.hevy.users["demo-hevy-key"]
    starts = sorted(parse_time(w["start_time"]) for w in user["workouts"].values())
    assert 150 <= len(starts) <= 400
    assert NOW - starts[0] > timedelta(days=300) and NOW - starts[-1] < timedelta(days=4)
    assert len(user["events"]) == len(starts)  # each workout's "updated" event feeds /events


def test_it_seeds_the_intervals_athlete_in_berlin(sandbox):
    athlete = sandbox.intervals.athletes["i12345"]
    assert (athlete["api_key"], athlete["timezone"], athlete["activities"]) == (
        "demo-intervals-key",
        "Europe/Berlin",
        {},
    )


def test_it_seeds_a_second_athlete_with_an_all_numeric_id(sandbox):
    from sandbox.control_page import render_page

    athlete = sandbox.intervals.athletes["2049151"]
    assert (athlete["api_key"], athlete["timezone"]) == ("demo-intervals-numeric-key", "Europe/Berlin")
    page = render_page(sandbox)
    assert "2049151" in page and "demo-intervals-numeric-key" in page


def test_it_registers_the_withings_app_with_fitsyncs_callback(sandbox):
    app = sandbox.withings.tokens.apps["demo-withings-client"]
    assert app.client_secret == "demo-withings-secret"
    assert app.redirect_uris == [
        "http://127.0.0.1:8000/withings/callback/",
        "http://localhost:8000/withings/callback/",
    ]


def test_it_seeds_a_year_of_daily_weigh_ins_with_body_composition(sandbox):
    groups = [g for g in sandbox.withings.groups.values() if g.userid == registry.DEMO_WITHINGS_USERID]
    weigh_ins = [g for g in groups if WEIGHT in g.types()]
    assert len(weigh_ins) == 365
    assert all(len(g.types()) >= 8 for g in weigh_ins)  # weight, fat ratio, muscle, hydration, bone ...
    assert sandbox.withings.users[registry.DEMO_WITHINGS_USERID].email == "demo@fitsync.local"


def test_it_gives_the_garmin_user_mfa_and_no_weigh_ins(sandbox):
    user = sandbox.garmin.users["demo@fitsync.local"]
    assert (user["password"], user["mfa"], user["weigh_ins"]) == ("demo-garmin-password", True, [])


def test_it_builds_the_same_world_from_the_same_seed():
    first = build_sandbox(True, rng=random.Random(5), now=NOW)
    second = build_sandbox(True, rng=random.Random(5), now=NOW)
    assert first.hevy.users["demo-hevy-key"]["workouts"] == second.hevy.users["demo-hevy-key"]["workouts"]
    assert [g.measures for g in first.withings.groups.values()] == [g.measures for g in second.withings.groups.values()]


def test_it_takes_configured_withings_redirect_uris():
    sandbox = build_sandbox(True, now=NOW, withings_redirect_uris=["https://fitsync.example/withings/callback/"])
    assert sandbox.withings.tokens.apps["demo-withings-client"].redirect_uris == [
        "https://fitsync.example/withings/callback/"
    ]


def test_it_mounts_each_fake_under_its_name_and_the_control_page_last():
    mounts = mount_table(build_sandbox(False))
    assert list(mounts) == ["hevy", "intervals", "withings", "garmin", ""]
    assert mounts[""].name == "control"


def test_it_lets_real_garminconnect_log_in_with_the_code_from_the_control_endpoint(sandbox):
    with SandboxServer(mount_table(sandbox)) as server:
        credentials = ("demo@fitsync.local", "demo-garmin-password")
        garmin = point_at(Garmin(*credentials, retry_attempts=0, return_on_mfa=True), server.url_for("garmin"))
        status, state = garmin.login()
        code = requests.get(f"{server.url}/_control/demo", timeout=5).json()["garmin"]["mfa_code"]
        assert status == "needs_mfa" and code and code in requests.get(server.url, timeout=5).text
        resumed = point_at(Garmin(retry_attempts=0), server.url_for("garmin"))
        resumed.resume_login(json.loads(json.dumps(state)), code)
    assert resumed.display_name == "demo-athlete"


# --- demo_env -------------------------------------------------------------------------------------
def test_it_writes_the_sandbox_urls_and_keeps_the_secrets(tmp_path, sandbox_app):
    env = tmp_path / "demo.env"
    env.write_text("SECRET_KEY=keep-me\nFIELD_ENCRYPTION_KEYS=key-1\nDEBUG=0\nSITE_URL=http://127.0.0.1:8000\n")
    call_command("demo_env", str(env), stdout=StringIO())
    values = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    assert values["SECRET_KEY"] == "keep-me" and values["FIELD_ENCRYPTION_KEYS"] == "key-1"
    assert values["HEVY_API_URL"] == "http://127.0.0.1:8765/hevy"
    assert values["INTERVALS_API_URL"] == "http://127.0.0.1:8765/intervals"
    assert values["WITHINGS_API_URL"] == values["WITHINGS_ACCOUNT_URL"] == "http://127.0.0.1:8765/withings"
    assert values["GARMIN_SSO_URL"] == values["GARMIN_CONNECTAPI_URL"] == values["GARMIN_CONNECT_URL"]
    assert values["GARMIN_DI_TOKEN_URL"] == "http://127.0.0.1:8765/garmin/di-oauth2-service/oauth/token"
    assert (values["WITHINGS_CLIENT_ID"], values["WITHINGS_CLIENT_SECRET"]) == (
        "demo-withings-client",
        "demo-withings-secret",
    )
    assert (values["DEBUG"], values["FITSYNC_SANDBOX"]) == ("1", "1")
    assert values["GARMIN_LOGIN_STRATEGIES"] == "mobile+cffi,mobile+requests"
    assert values["SITE_URL"] == "http://127.0.0.1:8000"


def test_it_updates_an_env_file_in_place_without_duplicates():
    first = update_env_text("SECRET_KEY=s\nDEBUG=0\n", {"DEBUG": "1", "HEVY_API_URL": "http://a/hevy"})
    again = update_env_text(first + "DEBUG=0\n", {"DEBUG": "1", "HEVY_API_URL": "http://b/hevy"})
    assert again.splitlines().count("DEBUG=1") == 1 and "DEBUG=0" not in again
    assert "HEVY_API_URL=http://b/hevy" in again and "http://a/hevy" not in again
    assert again.startswith("SECRET_KEY=s\n")


def test_it_takes_other_sandbox_and_site_urls(tmp_path, sandbox_app):
    env = tmp_path / "demo.env"
    call_command(
        "demo_env",
        str(env),
        "--sandbox-url",
        "http://127.0.0.1:9000/",
        "--site-url",
        "http://127.0.0.1:8001",
        stdout=StringIO(),
    )
    text = env.read_text()
    assert "INTERVALS_API_URL=http://127.0.0.1:9000/intervals\n" in text and "SITE_URL=http://127.0.0.1:8001\n" in text
    assert env.stat().st_mode & 0o077 == 0  # it holds the secrets


# --- seed_demo ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_it_creates_the_demo_login_once_and_says_where_things_are(settings):
    settings.DEBUG = True
    out = StringIO()
    with SandboxServer(mount_table(build_sandbox(True, now=NOW))) as server:
        call_command("seed_demo", "--sandbox-url", server.url, stdout=out)
        call_command("seed_demo", "--sandbox-url", server.url, stdout=out)
    assert get_user_model().objects.get(username="demo").check_password("demo")
    text = out.getvalue()
    assert "Created the fitsync login 'demo'" in text and "login 'demo' exists" in text
    assert "demo-hevy-key" in text and "demo-garmin-password" in text and f"{server.url}/" in text


# --- sandbox_serve --------------------------------------------------------------------------------
@pytest.mark.live
def test_it_serves_every_fake_and_the_control_page_until_stopped():
    command = [sys.executable, "manage.py", "sandbox_serve", "--seed", "--port", "0"]
    env = {"FITSYNC_ENV_FILE": "", "DEBUG": "1", "FITSYNC_SANDBOX": "1", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()  # "Sandbox on http://127.0.0.1:PORT (...)"
        url = first_line.split()[2]
        count = requests.get(f"{url}/hevy/v1/workouts/count", headers={"api-key": "demo-hevy-key"}, timeout=5)
        assert count.json()["workout_count"] == registry.DEMO_HEVY_WORKOUTS
        assert "Garmin MFA code" in requests.get(f"{url}/", timeout=5).text
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
