"""Connecting Garmin in the browser: the real garminconnect 0.3.20 against the sandbox over HTTP.

The view only queues a job; these tests run the queued job the way a worker would, then look at what
reached the fake and what the page shows.
"""

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fitsync.models import AccountStatus, ConnectedAccount, Credential, Profile
from sandbox.garmin_sso import DI_TOKEN_PATH
from tests.integrations.garmin.fixtures import EMAIL, MFA_EMAIL, PASSWORD

pytestmark = pytest.mark.django_db


def account() -> ConnectedAccount:
    return ConnectedAccount.objects.get(provider="garmin")


def page(logged_in) -> str:
    return logged_in.get(reverse("garmin:connect")).content.decode()


def raw_credential_columns() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM fitsync_credential")
        return repr(cursor.fetchall())


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- without MFA -------------------------------------------------------------------------------------
def test_it_logs_in_in_a_background_job_and_shows_the_display_name(garmin_url, fake, logged_in, post, jobs):
    response = post("garmin:connect", {"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 302 and not fake.ledger  # no upstream call inside the request
    assert [(func, args) for func, args, _ in jobs] == [("integrations.garmin.tasks.login", (account().pk,))]
    assert PASSWORD not in repr(jobs) and PASSWORD not in raw_credential_columns()
    assert "Signing in to Garmin Connect" in page(logged_in)

    jobs.run()

    garmin = account()
    assert (garmin.status, garmin.display_name, garmin.meta["timezone"]) == (
        AccountStatus.CONNECTED,
        "ada.l",
        "Europe/Berlin",
    )
    credential = Credential.objects.get(account=garmin)
    assert json.loads(credential.session_blob)["di_token"] in fake.access_tokens
    assert (credential.pending_blob, credential.pending_expires_at) == ("", None)
    assert "ada.l" in page(logged_in) and "Connected to Garmin Connect as ada.l" in page(logged_in)
    assert len(fake.calls("POST", "/mobile/api/login")) == 1


def test_it_wipes_the_password_as_the_job_starts_and_logs_in_once(garmin_url, fake, post, jobs):
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    task = jobs[0]
    jobs.append(task)  # the ORM broker may deliver a task twice

    results = jobs.run()

    assert results[1].endswith("nothing to do")
    assert len(fake.calls("POST", "/mobile/api/login")) == 1
    assert PASSWORD not in raw_credential_columns()


def test_it_says_so_when_the_password_is_wrong(garmin_url, fake, logged_in, post, jobs):
    post("garmin:connect", {"email": EMAIL, "password": "wrong"})
    jobs.run()

    assert account().meta["login"]["state"] == "failed"
    assert "did not accept this email and password" in page(logged_in)
    assert Credential.objects.get(account=account()).pending_blob == ""
    assert not fake.calls("POST", DI_TOKEN_PATH)


def test_it_gives_up_when_no_worker_took_the_password_within_two_minutes(garmin_url, fake, logged_in, post, jobs):
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        jobs.run()
    assert not fake.ledger
    assert "waited too long" in account().meta["login"]["message"]
    assert Credential.objects.get(account=account()).pending_blob == ""


# --- MFA ---------------------------------------------------------------------------------------------
def test_it_logs_in_with_mfa_typed_into_the_page(garmin_url, fake, logged_in, post, jobs):
    post("garmin:connect", {"email": MFA_EMAIL, "password": PASSWORD})
    jobs.run()

    assert account().meta["login"]["state"] == "needs_mfa"
    assert "Security code" in page(logged_in)
    credential = Credential.objects.get(account=account())
    assert json.loads(credential.pending_blob)["step"] == "mfa" and PASSWORD not in credential.pending_blob
    assert credential.pending_expires_at <= timezone.now() + timedelta(minutes=10)

    code = fake.current_mfa_code(MFA_EMAIL)
    post("garmin:mfa", {"code": code})
    assert [func for func, _, _ in jobs] == ["integrations.garmin.tasks.resume_login"]
    assert code not in repr(jobs)
    jobs.run()

    garmin = account()
    assert (garmin.status, garmin.display_name) == (AccountStatus.CONNECTED, "grace")
    credential = Credential.objects.get(account=garmin)
    assert (credential.pending_blob, credential.pending_expires_at) == ("", None)
    assert json.loads(credential.session_blob)["di_refresh_token"] in fake.refresh_tokens
    assert "grace" in page(logged_in)


def test_the_mfa_prompt_gives_the_deadline_in_the_users_zone(garmin_url, fake, user, logged_in, post, jobs):
    Profile.objects.update_or_create(user=user, defaults={"time_zone": "Europe/Berlin"})
    post("garmin:connect", {"email": MFA_EMAIL, "password": PASSWORD})
    jobs.run()  # in a worker, where Django's active zone is the server's (UTC)

    expires = Credential.objects.get(account=account()).pending_expires_at.astimezone(ZoneInfo("Europe/Berlin"))
    prompt = f"Enter it before {expires:%H:%M} {expires.tzname()}."
    assert prompt in account().meta["login"]["message"] and prompt in page(logged_in)


def test_a_wrong_code_can_be_retried(garmin_url, fake, logged_in, post, jobs):
    post("garmin:connect", {"email": MFA_EMAIL, "password": PASSWORD})
    jobs.run()
    code = fake.current_mfa_code(MFA_EMAIL)

    post("garmin:mfa", {"code": wrong(code)})
    jobs.run()
    assert account().meta["login"]["state"] == "needs_mfa"
    assert "did not accept that code" in page(logged_in)

    post("garmin:mfa", {"code": code})
    jobs.run()
    assert account().status == AccountStatus.CONNECTED
    assert len(fake.calls("POST", "/mobile/api/login")) == 1  # the password was not needed again


def test_an_expired_mfa_state_says_start_again(garmin_url, fake, logged_in, post, jobs):
    post("garmin:connect", {"email": MFA_EMAIL, "password": PASSWORD})
    jobs.run()
    code = fake.current_mfa_code(MFA_EMAIL)

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = post("garmin:mfa", {"code": code})
        assert "Start again" in logged_in.get(response.url).content.decode()

    assert not jobs and not fake.calls("POST", "/mfa/verifyCode")
    credential = Credential.objects.get(account=account())
    assert (credential.pending_blob, credential.pending_expires_at) == ("", None)
    assert account().meta["login"]["state"] == "failed"


def test_it_refuses_a_code_that_is_not_digits(garmin_url, logged_in, post, jobs):
    post("garmin:connect", {"email": MFA_EMAIL, "password": PASSWORD})
    jobs.run()
    response = post("garmin:mfa", {"code": "12ab"})
    assert "Enter the digits" in logged_in.get(response.url).content.decode()
    assert not jobs


# --- 429 ---------------------------------------------------------------------------------------------
def test_a_login_429_disables_connect_with_a_countdown(garmin_url, fake, logged_in, post, jobs):
    fake.login_rate_limited = True
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    jobs.run()

    meta = account().meta
    assert meta["cooldown_seconds"] == 2 * 3600
    assert "HTTP 429" in meta["login"]["message"] and "2 h" in meta["login"]["message"]
    html = page(logged_in)
    assert '<button type="submit" disabled aria-describedby="cooldown">Connect Garmin</button>' in html
    assert "data-countdown-until" in html and "1 h 59 min" in html

    calls = len(fake.ledger)
    response = post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    assert "blocking sign-ins" in logged_in.get(response.url).content.decode()
    assert not jobs and len(fake.ledger) == calls


def test_the_cooldown_grows_with_each_429_up_to_a_day(garmin_url, fake, post, jobs):
    fake.login_rate_limited = True
    lengths = []
    for _ in range(6):
        post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
        jobs.run()
        lengths.append(account().meta["cooldown_seconds"] // 3600)
        ConnectedAccount.objects.filter(pk=account().pk).update(
            meta={**account().meta, "cooldown_until": (timezone.now() - timedelta(seconds=1)).isoformat()}
        )
    assert lengths == [2, 4, 8, 16, 24, 24]


def test_a_successful_login_resets_the_cooldown(garmin_url, fake, post, jobs):
    fake.login_rate_limited = True
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    jobs.run()
    fake.login_rate_limited = False
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
        jobs.run()
    assert account().status == AccountStatus.CONNECTED
    assert account().meta["cooldown_seconds"] == 0


# --- the progress partial ----------------------------------------------------------------------------
def test_the_status_partial_polls_while_running_and_reloads_the_page_after(garmin_url, logged_in, post, jobs):
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    running = logged_in.get(reverse("garmin:login_status"), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in running.content.decode() and "HX-Refresh" not in running

    jobs.run()
    done = logged_in.get(reverse("garmin:login_status"), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_second_login_cannot_start_while_one_runs(garmin_url, logged_in, post, jobs):
    post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    response = post("garmin:connect", {"email": EMAIL, "password": PASSWORD})
    assert "already running" in logged_in.get(response.url).content.decode()
    assert len(jobs) == 1
