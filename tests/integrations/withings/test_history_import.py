"""The weight history from the browser, and disconnecting Withings, against the sandbox Withings fake."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fitsync.models import AccountStatus, Credential, ItemStatus, SyncItem, SyncRun
from fitsync.run_counts import counts_for
from integrations.withings import subscriptions
from integrations.withings.roles import MEASUREMENTS

from .conftest import USER

pytestmark = pytest.mark.django_db


def test_it_imports_the_whole_history_from_the_page_with_progress(
    logged_in, account, fake, rsps, jobs_sent, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=400, end=timezone.now())
    assert "Import weight history</button>" in logged_in.get(reverse("withings:connect")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = logged_in.post(reverse("withings:import_history"), {"since": "", "until": ""})
    run = SyncRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard:run", args=[run.pk])
    assert (run.trigger, jobs_sent.names()) == ("backfill", ["fetch_history"])

    jobs_sent.run()
    run.refresh_from_db()
    # Garmin is not connected: every weigh-in waits (pending, not held), none is lost to the safety cap.
    assert run.finished_at and run.total >= 400 and run.done == run.total
    counts = counts_for([run])[run.pk]  # read from the items the run tagged
    assert SyncItem.objects.count() == run.total and (counts.queued, counts.held) == (run.total, 0)
    assert set(SyncItem.objects.values_list("status", flat=True)) == {ItemStatus.PENDING}
    progress = logged_in.get(reverse("dashboard:run_progress", args=[run.pk])).content.decode()
    assert f'<progress id="run-bar" max="{run.total}" value="{run.total}">100%</progress>' in progress
    assert "Waiting for its queued items" in progress and f"{run.total} queued" in progress
    page = logged_in.get(reverse("withings:connect")).content.decode()
    assert f"finished: 0 new, 0 held, {run.total} waiting" in page


def test_it_imports_a_chosen_range_of_days(
    logged_in, account, fake, rsps, jobs_sent, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=60, end=timezone.now())
    today = timezone.localdate()
    since, until = today - timedelta(days=20), today - timedelta(days=11)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("withings:import_history"), {"since": since.isoformat(), "until": until.isoformat()})
    jobs_sent.run()
    days = {timezone.localtime(when).date() for when in SyncItem.objects.values_list("occurred_at", flat=True)}
    assert days and min(days) >= since and max(days) <= until


def test_a_range_that_ends_before_it_starts_is_refused(logged_in, account, rsps, jobs_sent):
    answer = logged_in.post(reverse("withings:import_history"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert answer.status_code == 400 and "The first day comes after the last one." in answer.content.decode()
    assert not SyncRun.objects.exists() and jobs_sent.sent == []


def test_disconnect_asks_first_then_revokes_the_subscription_wipes_tokens_and_keeps_history(
    logged_in, account, fake, rsps
):
    subscriptions.subscribe(account)
    assert len(fake.subscriptions.of_user(USER, 1)) == 1
    SyncItem.objects.create(account=account, route="withings_garmin", source_id="g1", title="80.0 kg")
    url = reverse("dashboard:disconnect", args=["withings"])

    page = logged_in.post(url).content.decode()
    assert "Disconnect Withings?" in page and "stop sending weigh-in notifications" in page
    account.refresh_from_db()
    assert account.status == AccountStatus.CONNECTED and Credential.objects.get().access_token  # nothing done

    assert logged_in.post(url, {"confirm": "yes"}).status_code == 302
    assert fake.subscriptions.of_user(USER, 1) == []  # revoked at Withings
    assert [c.form()["action"] for c in fake.calls("POST", "^/notify$")][-1] == "revoke"
    credential, account = Credential.objects.get(), type(account).objects.get(pk=account.pk)
    assert all(getattr(credential, name) == "" for name in Credential.SECRET_FIELDS)
    assert account.status == AccountStatus.DISABLED and account.webhook_digest == ""
    assert SyncItem.objects.filter(source_id="g1").exists()  # the history stays
    overview = logged_in.get("/").content.decode()
    assert "Disconnected" in overview and "/services/withings/disconnect/" not in overview


def test_the_source_hands_a_range_to_an_import_a_page_at_a_time_oldest_first(account, fake, rsps):
    fake.seed_daily_history(USER, days=30, end=timezone.now())
    since, until = timezone.now() - timedelta(days=20), timezone.now() - timedelta(days=5)
    pages = list(MEASUREMENTS.history(account, since, until, page_size=4))
    records = [record for page in pages for record in page.records]
    assert [len(page.records) for page in pages[:-1]] == [4] * (len(pages) - 1) and 14 <= len(records) <= 16
    assert [page.remaining for page in pages] == [len(records) - 4 * n for n in range(1, len(pages))] + [0]
    times = [record.measured_at for record in records]
    assert times == sorted(times) and since <= times[0] and times[-1] < until
    newest = list(MEASUREMENTS.history(account, since, until, page_size=4, max_pages=1))
    assert [page.records for page in newest] == [pages[-1].records]
