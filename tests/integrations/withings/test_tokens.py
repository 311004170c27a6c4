"""Withings' rotating tokens: refresh before expiry or on a 401, single-flight, re-auth on invalid_grant."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fitsync.models import Credential, ItemStatus, SyncItem, SyncRun
from fitsync.sync import due_items
from integrations.withings import auth, client, tasks
from sandbox.server import SandboxServer

from .conftest import CLIENT_ID, SECRET, USER, expire_locally

WORKER = Path(__file__).with_name("refresh_worker.py")


def credential_of(account) -> Credential:
    return Credential.objects.get(account=account)


@pytest.mark.django_db
def test_it_refreshes_ten_minutes_before_expiry(account, fake, rsps):
    before = credential_of(account)
    expire_locally(account, ago=-timedelta(minutes=9))  # still valid for 9 minutes
    token = auth.access_token(account)
    after = credential_of(account)
    assert len(fake.refresh_calls()) == 1 and token == after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token and after.version == before.version + 1
    assert timedelta(hours=2, minutes=59) < after.expires_at - timezone.now() <= timedelta(hours=3)


@pytest.mark.django_db
def test_it_keeps_a_token_valid_for_more_than_ten_minutes(account, fake, rsps):
    expire_locally(account, ago=-timedelta(minutes=11))
    assert auth.access_token(account) == credential_of(account).access_token
    assert fake.refresh_calls() == []


@pytest.mark.django_db
def test_it_refreshes_once_and_retries_when_withings_rejects_the_token(account, fake, rsps):
    old = credential_of(account).access_token
    fake.expire_access_token(old)  # Withings says 401 although our clock says the token is fine
    page = auth.with_token(account, lambda token: client.get_measures(token, [1], lastupdate=0))
    assert page.groups == [] and len(fake.refresh_calls()) == 1
    measure_calls = fake.calls("POST", "^/measure$")
    new = credential_of(account).access_token
    assert [c.headers["authorization"] for c in measure_calls] == [f"Bearer {old}", f"Bearer {new}"]


@pytest.mark.django_db
def test_it_stores_the_new_refresh_token_before_using_the_new_access_token(account, fake, rsps, monkeypatch):
    expire_locally(account)
    seen = []
    real = client.get_measures

    def spy(token, *args, **kwargs):
        stored = credential_of(account)
        seen.append((stored.access_token == token, fake.tokens.access_tokens[token].parent_refresh))
        seen.append(stored.refresh_token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(client, "get_measures", spy)
    auth.with_token(account, lambda token: client.get_measures(token, [1], lastupdate=0))
    (is_stored, parent), stored_refresh = seen
    assert is_stored and stored_refresh != parent and stored_refresh in fake.tokens.refresh_tokens
    # Using the new access token killed the old refresh token at Withings: only the stored one works.
    assert fake.tokens.refresh_tokens[parent].dead and not fake.tokens.refresh_tokens[stored_refresh].dead


@pytest.mark.django_db
@pytest.mark.parametrize("rejection", ["invalid_grant", "http_401"])
def test_it_asks_for_a_reconnect_when_the_refresh_token_is_rejected(
    account, fake, rsps, logged_in, jobs_sent, sent_jobs, rejection
):
    item = SyncItem.objects.create(account=account, route="withings_garmin", source_id="1", status=ItemStatus.PENDING)
    expire_locally(account)
    if rejection == "invalid_grant":
        fake.revoke_refresh_tokens(USER)
    else:
        fake.add_fault(path="^/v2/oauth2$", status=401)
    summary = tasks.fetch_new(account.pk)
    account.refresh_from_db()
    assert account.status == "needs_reauth" and "Reconnect Withings" in account.status_message
    assert summary.endswith("needs reconnecting") and jobs_sent.sent == []  # no retry loop
    assert len(fake.refresh_calls()) == 1 and fake.calls("POST", "^/measure$") == []
    assert tasks.fetch_new(account.pk).endswith("not connected") and len(fake.refresh_calls()) == 1
    assert item.pk not in list(due_items())  # its items wait for the reconnect
    html = logged_in.get(reverse("withings:connect")).content.decode()
    assert 'role="alert"' in html and "Reconnect Withings</button>" in html


@pytest.mark.django_db
def test_it_keeps_the_account_connected_when_a_refresh_fails_transiently(account, fake, rsps, jobs_sent):
    expire_locally(account)
    fake.add_fault(path="^/v2/oauth2$", status=503)
    assert "will retry" in tasks.fetch_new(account.pk)
    account.refresh_from_db()
    credential = credential_of(account)
    assert account.status == "connected" and credential.lease_owner == "" and credential.version == 1
    run = SyncRun.objects.get()
    assert run.retry_at and run.finished_at is None and jobs_sent.sent == []  # the dispatcher resumes it


# --- the race: 8 callers, one refresh --------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_eight_concurrent_fetch_jobs_make_exactly_one_refresh_call(account, fake, rsps, jobs_sent, sent_jobs):
    fake.add_height(USER, 1.80)
    fake.add_measurement(USER, timezone.now(), 80.35)
    expire_locally(account)
    fake.add_fault(path="^/v2/oauth2$", delay=0.3)  # a slow refresh: everyone else piles up behind it
    results, errors = [], []

    def job():
        try:
            results.append(tasks.fetch_new(account.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 8 and all("created" in r for r in results)
    assert len(fake.refresh_calls()) == 1
    assert len(fake.calls("POST", "^/measure$")) == 8
    assert credential_of(account).version == 2  # 1 from connecting, +1 for the single refresh
    assert SyncItem.objects.filter(account=account).count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_processes_needing_an_expired_token_make_exactly_one_refresh_call(account, fake, settings):
    fake.add_fault(path="^/v2/oauth2$", delay=0.5)
    expire_locally(account)
    with SandboxServer({"withings": fake}) as server:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "WITHINGS_API_URL": server.url_for("withings"),
            "WITHINGS_CLIENT_ID": CLIENT_ID,
            "WITHINGS_CLIENT_SECRET": SECRET,
            "LOG_LEVEL": "WARNING",
        }
        start_at = str(time.time() + 4)
        workers = [
            subprocess.Popen(
                [sys.executable, str(WORKER), str(account.pk), start_at],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        outputs = [w.communicate(timeout=60) for w in workers]
    assert [w.returncode for w in workers] == [0] * 8, [err[-2000:] for _, err in outputs]
    tokens = {out.strip() for out, _ in outputs}
    assert tokens == {credential_of(account).access_token} and len(fake.refresh_calls()) == 1


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
