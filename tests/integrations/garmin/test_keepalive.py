"""Staying signed in: the daily keep-alive refreshes every Garmin sign-in through the single-flight lease.

The sandbox's refresh tokens expire after 30 days on its clock; time_machine moves that clock, fitsync's
and garminconnect's together. Every test runs with and without refresh-token rotation (fixtures.SETTINGS).
"""

import json
import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.db import connections
from django.utils import timezone
from django_q.models import Schedule

from fitsync.models import AccountStatus, ConnectedAccount, Credential, Provider
from fitsync.signals import ensure_schedules
from integrations.garmin import client, keepalive, tasks
from integrations.garmin.session import garmin_session
from tests.integrations.garmin.fixtures import EMAIL
from tests.integrations.garmin.test_login import page

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def stored(account) -> dict:
    return json.loads(Credential.objects.get(account=account).session_blob)


def signed_in(account, when) -> None:
    """What a login at `when` leaves in meta."""
    ConnectedAccount.objects.filter(pk=account.pk).update(
        meta={**account.meta, "signed_in_at": when.isoformat(), "signed_in_via": "password"}
    )


def read_weigh_ins(account) -> list:
    with garmin_session(ConnectedAccount.objects.get(pk=account.pk)) as garmin:
        return client.weigh_ins_between(garmin, date(2026, 1, 15), date(2026, 1, 15))


def test_it_is_scheduled_daily():
    ensure_schedules()
    schedule = Schedule.objects.get(func="integrations.garmin.tasks.keep_signed_in")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1440)


def test_a_quiet_month_and_more_needs_no_new_sign_in_when_garmin_rotates(garmin_account, fake, logged_in):
    start = timezone.now()
    signed_in(garmin_account, start)
    outcomes = []
    for day in range(1, 41):  # no uploads at all, only the daily keep-alive
        with time_machine.travel(start + day * DAY):
            outcomes.append(tasks.keep_signed_in())
    garmin_account.refresh_from_db()

    if fake.rotate_refresh_tokens:
        assert outcomes == ["kept 1 Garmin sign-ins alive, 0 failed"] * 40
        assert len(fake.refresh_calls()) == 40
        with time_machine.travel(start + 40 * DAY + timedelta(hours=1)):
            assert read_weigh_ins(garmin_account) == []
        assert garmin_account.status == AccountStatus.CONNECTED
        assert not fake.calls(path="/api/login|sign-in")
    else:  # Garmin keeps the login's refresh token: it ends 30 days after the sign-in whatever we do
        assert outcomes[:29] == ["kept 1 Garmin sign-ins alive, 0 failed"] * 29
        assert outcomes[29] == "kept 0 Garmin sign-ins alive, 1 failed"  # day 30: the refresh token expired
        assert set(outcomes[30:]) == {"kept 0 Garmin sign-ins alive, 0 failed"}  # waits for a reconnect
        assert garmin_account.status == AccountStatus.NEEDS_REAUTH
        assert "Reconnect Garmin" in garmin_account.status_message


def test_the_page_shows_the_sign_in_age_and_warns_when_garmin_does_not_rotate(garmin_account, fake, logged_in):
    start = timezone.now()
    signed_in(garmin_account, start - 3 * DAY)
    with time_machine.travel(start):
        tasks.keep_signed_in()
        html = page(logged_in)

    assert "Signed in on" in html and "(3\xa0days ago)" in html
    assert "Tokens last renewed" in html and "0\xa0minutes ago" in html
    ends_at = (start - 3 * DAY + 30 * DAY).strftime("%Y-%m-%d")
    warned = "ends about 30 days after signing in" in html and f'datetime="{ends_at}' in html
    assert warned == (not fake.rotate_refresh_tokens)
    assert garmin_account.__class__.objects.get(pk=garmin_account.pk).meta["refresh_token_rotates"] == (
        fake.rotate_refresh_tokens
    )


def test_it_leaves_tokens_alone_that_were_renewed_less_than_20_hours_ago(garmin_account, fake):
    signed_in(garmin_account, timezone.now() - timedelta(hours=19))
    assert tasks.keep_signed_in() == "kept 1 Garmin sign-ins alive, 0 failed"
    assert not fake.refresh_calls()
    assert ConnectedAccount.objects.get(pk=garmin_account.pk).meta["keep_alive"]["message"].startswith("refreshed rec")


def test_one_account_failing_in_any_way_never_stops_the_others(
    garmin_account, fake, make_account, django_user_model, monkeypatch
):
    def another(name: str, blob: str) -> ConnectedAccount:
        owner = django_user_model.objects.create_user(name)
        account = ConnectedAccount.objects.create(owner=owner, provider=Provider.GARMIN, meta={"display_name": name})
        Credential.objects.create(account=account, session_blob=blob)
        return account

    fake.add_user("rev@example.com", "pw")
    revoked = another("revoked", fake.tokens_for("rev@example.com"))
    fake.revoke_tokens("rev@example.com")
    garbage = another("garbage", "not json at all")
    crashing = another("crashing", fake.tokens_for(EMAIL))
    real_session = keepalive.garmin_session

    def session_with_a_bug(account):
        if account.pk == crashing.pk:
            raise RuntimeError("a bug")
        return real_session(account)

    monkeypatch.setattr(keepalive, "garmin_session", session_with_a_bug)
    before = stored(garmin_account)

    assert tasks.keep_signed_in() == "kept 1 Garmin sign-ins alive, 3 failed"

    assert stored(garmin_account)["di_token"] != before["di_token"]
    metas = {a.pk: a.meta["keep_alive"] for a in ConnectedAccount.objects.all()}
    assert metas[garmin_account.pk]["ok"] and metas[garmin_account.pk]["message"] == "refreshed"
    assert [metas[a.pk]["ok"] for a in (revoked, garbage, crashing)] == [False] * 3
    assert metas[crashing.pk]["message"] == "a bug" and "loading the stored sign-in" in metas[garbage.pk]["message"]
    assert ConnectedAccount.objects.get(pk=revoked.pk).status == AccountStatus.NEEDS_REAUTH


def test_a_failed_keep_alive_is_shown_on_the_garmin_page(garmin_account, fake, logged_in):
    fake.add_fault(path="/di-oauth2-service/", status=503)
    assert tasks.keep_signed_in().endswith("1 failed")
    assert "The daily renewal of the sign-in failed" in page(logged_in)
    account = ConnectedAccount.objects.get(pk=garmin_account.pk)
    assert account.status == AccountStatus.CONNECTED and not account.last_error  # the card stays quiet


@pytest.mark.django_db(transaction=True)
def test_keep_alives_racing_each_other_refresh_once_through_the_lease(garmin_account, fake):
    results, start = [], threading.Barrier(4)

    def job():
        try:
            start.wait()
            results.append(tasks.keep_signed_in())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == ["kept 1 Garmin sign-ins alive, 0 failed"] * 4
    assert len(fake.refresh_calls()) == 1
    assert stored(garmin_account)["di_token"] in fake.access_tokens
