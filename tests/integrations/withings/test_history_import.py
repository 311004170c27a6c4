"""The weight history from the browser, and disconnecting Withings, against the sandbox Withings fake."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fitsync import history_runs
from fitsync.errors import TransientError
from fitsync.models import AccountStatus, ConnectedAccount, Credential, ItemStatus, SyncItem, SyncRun
from fitsync.run_counts import counts_for
from integrations.withings import fetch, subscriptions
from integrations.withings.roles import MEASUREMENTS

from .conftest import USER

pytestmark = pytest.mark.django_db


def test_it_imports_the_whole_history_from_the_page_with_progress(
    logged_in, account, fake, rsps, history_jobs, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=400, end=timezone.now())
    assert "Import weight history</button>" in logged_in.get(reverse("withings:connect")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = logged_in.post(reverse("withings:import_history"), {"since": "", "until": ""})
    run = SyncRun.objects.get()
    assert answer.status_code == 302 and answer["Location"] == reverse("dashboard:run", args=[run.pk])
    assert (run.trigger, run.route, history_jobs.runs) == ("backfill", "withings_garmin", [run.pk])

    history_jobs.run()
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
    logged_in, account, fake, rsps, history_jobs, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=60, end=timezone.now())
    today = timezone.localdate()
    since, until = today - timedelta(days=20), today - timedelta(days=11)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("withings:import_history"), {"since": since.isoformat(), "until": until.isoformat()})
    history_jobs.run()
    days = {timezone.localtime(when).date() for when in SyncItem.objects.values_list("occurred_at", flat=True)}
    assert days and min(days) >= since and max(days) <= until


def test_the_source_hands_its_history_over_in_pages_oldest_first(account, fake, rsps):
    fake.seed_daily_history(USER, days=250, end=timezone.now())
    pages = list(MEASUREMENTS.history(account, None, None, page_size=100))
    assert [(len(p.records), p.remaining) for p in pages] == [(100, 150), (100, 50), (50, 0)]
    times = [m.measured_at for p in pages for m in p.records]
    assert times == sorted(times)
    newest = list(MEASUREMENTS.history(account, None, None, page_size=100, max_pages=1))
    assert [m.source_id for m in newest[0].records] == [m.source_id for m in pages[-1].records]
    since, until = times[10], times[20]
    chosen = [m.measured_at for p in MEASUREMENTS.history(account, since, until) for m in p.records]
    assert chosen == times[10:20]


def test_a_failed_read_leaves_the_run_due_again_and_the_retry_imports_it(
    logged_in, account, fake, rsps, history_jobs, monkeypatch, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=5, end=timezone.now())
    read, calls = fetch.read_all_pages, []

    def rate_limited_once(*args, **kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise TransientError("Too Many Requests", provider="withings", retry_after=60)
        return read(*args, **kwargs)

    monkeypatch.setattr(fetch, "read_all_pages", rate_limited_once)
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(reverse("withings:import_history"), {"since": "", "until": ""})
    assert history_jobs.run()[0].endswith("will retry: Too Many Requests")
    run = SyncRun.objects.get()
    assert run.finished_at is None and run.retry_at and run.task == history_runs.TASK and run.attempts == 1
    assert ConnectedAccount.objects.get(pk=account.pk).last_error == "Too Many Requests"

    history_runs.import_run(run.pk)  # what the dispatcher sends once the run is due
    run.refresh_from_db()
    assert run.finished_at and run.error == "" and SyncItem.objects.filter(run=run).count() == 5


def test_the_command_imports_the_history_through_every_route_and_holds_beyond_the_cap(
    account, fake, rsps, make_account, settings, sent_jobs, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=12, end=timezone.now())
    make_account("garmin")  # connected: the cap counts what goes out now
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    out = StringIO()
    call_command("import_history", "withings", "--dry-run", stdout=out)
    assert "Dry run: would create 12, update 0, leave 0 alone. Nothing was written." in out.getvalue()
    assert not SyncItem.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):  # jobs go after commit (at once with the ORM broker)
        call_command("import_history", "withings", stdout=(out := StringIO()))
    assert "Done: 5 created, 0 updated, 0 unchanged, 0 failed, 7 held." in out.getvalue()
    run = SyncRun.objects.get()
    assert (run.route, run.trigger, run.total, run.done) == ("withings_garmin", "backfill", 12, 12)
    assert counts_for([run])[run.pk].held == 7 and len(sent_jobs) == 5

    call_command("import_history", "withings", "--lift-cap", stdout=(out := StringIO()))
    assert "Done: 0 created, 0 updated, 12 unchanged, 0 failed." in out.getvalue()  # held items keep waiting


def test_a_range_that_ends_before_it_starts_is_refused(logged_in, account, rsps, history_jobs):
    answer = logged_in.post(reverse("withings:import_history"), {"since": "2025-02-01", "until": "2025-01-01"})
    assert answer.status_code == 400 and "The first day comes after the last one." in answer.content.decode()
    assert not SyncRun.objects.exists() and history_jobs.runs == []


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
