"""Fetching measurements: the lastupdate cursor, paging, fixtures -> items, edits, ambiguity, 601, windows;
each with Withings' numbers as JSON numbers and as strings (the spec types `updatetime` as a string)."""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from urllib.parse import parse_qs

import pytest
import responses
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from fitsync import account_meta, sync
from fitsync.models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from fitsync.records import measurement_from_jsonable
from fitsync.run_counts import counts_for
from integrations.withings import fetch, jobs, tasks
from integrations.withings.account_meta import WithingsMeta
from sandbox.withings import as_strings
from tests.conftest import load_fixture
from tests.items import put_in_state

from .conftest import GETMEAS_SETTINGS, USER, connect_account, switch_id

pytestmark = pytest.mark.django_db
RETRY_FUNCS = ["integrations.withings.tasks.fetch_new", "integrations.withings.tasks.fetch_window"]
API = "https://wbsapi.withings.net"
MEASTYPES = "1,4,5,6,8,76,77,88,170,226,227"


@pytest.fixture(params=GETMEAS_SETTINGS, ids=switch_id)
def withings_switches(request) -> dict:
    return request.param


@pytest.fixture
def scripted(account, withings_switches):
    """getmeas answered from fixtures: `pages[offset]` is the fixture name for that offset (every number
    written as a string, the status included, when the fake's `numbers_as_strings` switch is on)."""
    pages, seen = {}, []
    shape = as_strings if withings_switches["numbers_as_strings"] else (lambda payload: payload)

    def answer(request):
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        seen.append(form)
        payload = load_fixture(f"withings/getmeas__{pages[int(form.get('offset', 0))]}.json")
        return 200, {}, json.dumps(shape(payload))

    account_meta.write(account, WithingsMeta, height_m="1.82", height_at=1704099600)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, f"{API}/measure", callback=answer)
        yield pages, seen


def run_for(account, trigger=SyncRun.Trigger.WEBHOOK) -> SyncRun:
    return SyncRun.objects.create(trigger=trigger, account=account, owner=account.owner)


def queued(account) -> set[str]:
    return set(SyncItem.objects.filter(account=account, queued_at__isnull=False).values_list("source_id", flat=True))


def items(account) -> dict[str, SyncItem]:
    return {i.source_id: i for i in SyncItem.objects.filter(account=account, route="withings_garmin")}


def test_it_turns_a_body_composition_payload_into_pending_items(account, scripted, sent_jobs):
    pages, seen = scripted
    pages[0] = "body_composition"
    counts = fetch.fetch_new(account, run_for(account))
    assert counts == {"created": 4, "updated": 0, "deleted": 0, "unchanged": 0, "skipped": 0, "held": 0}
    assert seen[0]["action"] == "getmeas" and seen[0]["category"] == "1" and seen[0]["meastypes"] == MEASTYPES
    found = items(account)
    assert set(found) == {"5120004711", "5120004590", "5120004402", "5120004377"}  # not the height group
    first = found["5120004711"]
    assert (first.title, first.status, first.occurred_at.timestamp()) == ("80.35 kg", "pending", 1737353412)
    snap = first.snapshot
    assert (snap["weight_kg"], snap["fat_ratio_pct"], snap["fat_mass_kg"], snap["fat_free_mass_kg"]) == (
        "80.350",
        "21.412",
        "17.205",
        "63.145",
    )
    assert (snap["muscle_mass_kg"], snap["bone_mass_kg"], snap["hydration_kg"], snap["hydration_pct"]) == (
        "59.87",
        "3.16",
        "45.46",
        "56.58",
    )
    assert (snap["visceral_fat"], snap["bmr_kcal"], snap["metabolic_age"]) == ("7.4", "1734", "34")
    assert (snap["height_m"], snap["bmi"], snap["timezone"]) == ("1.82", "24.26", "Europe/Berlin")
    assert measurement_from_jsonable(snap).weight_kg == Decimal("80.350")
    assert all(i.queued_at for i in found.values())  # one job each, sent when the transaction commits
    account.refresh_from_db()
    assert account.meta["height_m"] == "1.82" and account.meta["timezone"] == "Europe/Berlin"


def test_it_follows_more_and_offset(account, scripted, sent_jobs):
    pages, seen = scripted
    pages.update({0: "page1", 2: "page2"})
    run = run_for(account)
    fetch.fetch_new(account, run)
    assert [s.get("offset") for s in seen] == [None, "2"]
    assert set(items(account)) == {"5120004711", "5120004590", "5120004402"}
    run.refresh_from_db()
    # Queued, not yet written: the run counts its items as they settle.
    assert (counts_for([run])[run.pk].queued, run.total, run.done) == (3, 3, 3)


def test_it_stops_when_the_offset_does_not_advance(account, scripted, sent_jobs):
    pages, seen = scripted
    pages.update({0: "page1", 2: "page1"})  # page1 always says more=1, offset=2
    account.cursor = "1737000000"
    account.save()
    with pytest.raises(Exception, match="paging did not advance"):
        fetch.fetch_new(account, run_for(account))
    assert len(seen) == 2 and items(account) == {}
    account.refresh_from_db()
    assert account.cursor == "1737000000"  # nothing read completely: the cursor stays


def test_it_updates_the_row_of_an_edited_group(account, scripted, sent_jobs):
    pages, _ = scripted
    pages[0] = "body_composition"
    fetch.fetch_new(account, run_for(account))
    put_in_state(SyncItem.objects, status=ItemStatus.SYNCED, queued_at=None)
    pages[0] = "edited_group"
    counts = fetch.fetch_new(account, run_for(account))
    edited = items(account)["5120004590"]
    assert counts["updated"] == 1 and edited.status == "pending" and edited.title == "80.86 kg"
    assert edited.snapshot["weight_kg"] == "80.855" and edited.snapshot["modified"] == 1737440118
    assert queued(account) == {"5120004590"} and SyncItem.objects.count() == 4


def test_it_changes_nothing_when_a_group_is_read_again(account, scripted, sent_jobs):
    pages, _ = scripted
    pages[0] = "body_composition"
    fetch.fetch_new(account, run_for(account))
    put_in_state(SyncItem.objects, status=ItemStatus.SYNCED, queued_at=None)
    counts = fetch.fetch_new(account, run_for(account))
    assert counts["unchanged"] == 4 and queued(account) == set()
    assert set(SyncItem.objects.values_list("status", flat=True)) == {"synced"}


def test_it_skips_ambiguous_groups_with_the_reason_shown(account, scripted, sent_jobs, logged_in):
    pages, _ = scripted
    pages[0] = "ambiguous"
    counts = fetch.fetch_new(account, run_for(account))
    skipped = [i for i in items(account).values() if i.status == "skipped"]
    assert counts["skipped"] == len(skipped) >= 2 and all("WITHINGS_INCLUDE_AMBIGUOUS" in i.last_error for i in skipped)
    assert not queued(account) & {i.source_id for i in skipped}
    html = logged_in.get(reverse("withings:connect")).content.decode()
    assert "attrib 1" in html and "attrib 4" in html


def test_it_includes_ambiguous_groups_when_the_setting_says_so(account, scripted, sent_jobs, settings):
    pages, _ = scripted
    pages[0] = "ambiguous"
    fetch.fetch_new(account, run_for(account))
    settings.WITHINGS_INCLUDE_AMBIGUOUS = True
    counts = fetch.fetch_new(account, run_for(account))
    assert counts["skipped"] == 0 and counts["updated"] >= 2
    assert set(i.status for i in items(account).values()) == {"pending"}


# --- against the sandbox: the cursor, 601, windows ---------------------------------------------------
def measure_calls(fake) -> list[dict]:
    return [c.form() for c in fake.calls("POST", "^/measure$")]


def test_it_asks_for_a_height_withings_does_not_have_only_once(account, fake, rsps, sent_jobs):
    fake.add_measurement(USER, timezone.now() - timedelta(hours=2), 80.1)
    tasks.fetch_new(account.pk)
    fake.step_on_scale(USER, weight_kg=79.9)
    tasks.fetch_new(account.pk)
    assert [c["meastypes"] for c in measure_calls(fake)].count("4") == 1
    meta = account_meta.read(ConnectedAccount.objects.get(pk=account.pk), WithingsMeta)
    assert (meta.height_m, meta.height_asked) == (None, True)


def test_it_reads_incrementally_from_the_lastupdate_cursor(account, fake, rsps, sent_jobs):
    fake.add_height(USER, Decimal("1.80"))
    fake.add_measurement(USER, timezone.now() - timedelta(hours=2), 80.1, fat_ratio=20.1)
    fake.add_measurement(USER, timezone.now() - timedelta(days=3), 81.0, created=timezone.now() - timedelta(days=3))
    assert "'created': 1" in tasks.fetch_new(account.pk)
    first = measure_calls(fake)[0]
    assert abs(int(first["lastupdate"]) - (timezone.now() - timedelta(days=1)).timestamp()) < 5
    account.refresh_from_db()
    cursor = int(account.cursor)
    assert abs(cursor - (timezone.now().timestamp() - 60)) < 5
    fake.step_on_scale(USER, weight_kg=79.9)
    tasks.fetch_new(account.pk)
    assert measure_calls(fake)[1]["lastupdate"] == str(cursor)
    assert sorted(i.title for i in items(account).values()) == ["79.90 kg", "80.10 kg"]


def test_a_601_paces_every_account_and_leaves_each_run_due_after_the_rate_window(
    account, fake, rsps, jobs_sent, settings, django_user_model
):
    """With the app-wide pacer on: the 601 holds the next account's fetch too, which is not sent but
    freed at once, and both runs come back after Withings' minute."""
    settings.WITHINGS_REQUESTS_PER_MINUTE = 120
    fake.add_user(userid=USER + 1, timezone="Europe/Berlin")
    other = connect_account(fake, django_user_model.objects.create_user("grace"), userid=USER + 1)
    fake.add_fault(path="^/measure$", body_status=601)
    before = timezone.now()
    assert "will retry" in tasks.fetch_new(account.pk) and "will retry" in tasks.fetch_new(other.pk)
    assert len(measure_calls(fake)) == 1 and timezone.now() - before < timedelta(seconds=5)
    runs = SyncRun.objects.all()
    assert len(runs) == 2 and all(r.finished_at is None and r.retry_at >= before + timedelta(seconds=60) for r in runs)


def test_it_keeps_the_cursor_and_leaves_the_run_due_after_the_rate_window_on_601(
    account, fake, rsps, jobs_sent, monkeypatch
):
    account.cursor = "1737000000"
    account.save()
    fake.add_fault(path="^/measure$", body_status=601)
    before = timezone.now()
    summary = tasks.fetch_new(account.pk)
    account.refresh_from_db()
    assert "will retry" in summary and account.cursor == "1737000000"
    run = SyncRun.objects.get()
    assert run.finished_at is None and "601" in run.error and run.attempts == 1
    assert run.retry_at >= before + timedelta(seconds=60)  # never inside Withings' rate window
    assert jobs_sent.sent == [] and not Schedule.objects.filter(func__in=RETRY_FUNCS).exists()  # the run is the row

    resumed = []
    monkeypatch.setattr("fitsync.jobs.send", lambda func, *args, **options: resumed.append((func, args)))
    assert sync.dispatch_due_runs() == 0  # not due yet
    with time_machine.travel(run.retry_at + timedelta(seconds=1)):
        assert sync.dispatch_due_runs() == 1 and sync.dispatch_due_runs() == 0  # one job, however often
    assert resumed == [("integrations.withings.tasks.resume", (run.pk,))]
    assert "created" in tasks.resume(run.pk)  # the retry succeeds once Withings allows
    run.refresh_from_db()
    assert run.finished_at and run.retry_at is None and run.attempts == 2 and run.trigger == "webhook"


def test_it_gives_up_after_a_bounded_number_of_tries(account, fake, rsps, jobs_sent):
    fake.add_fault(path="^/measure$", status=500, times=10)
    run = jobs.new_run(account, "webhook")
    SyncRun.objects.filter(pk=run.pk).update(attempts=jobs.MAX_TRIES - 1)
    assert "gave up" in tasks.resume(run.pk) and jobs_sent.sent == []
    run.refresh_from_db()
    assert run.finished_at and run.retry_at is None and "500" in run.error
    assert "already finished" in tasks.resume(run.pk)


def test_it_syncs_a_past_window_from_the_command_line(account, fake, rsps, sent_jobs):
    fake.seed_daily_history(USER, days=10, end=timezone.now())
    caught_up = str(int(timezone.now().timestamp()))
    account.cursor = caught_up  # every change already fetched: the window alone brings weigh-ins
    account.save()
    out = StringIO()
    call_command("sync_withings", "--days", "3", stdout=out)
    incremental, height, window = measure_calls(fake)[:3]
    # Changes since the cursor are read first: an edit that moved a weigh-in out of the window is known
    # before the window's missing weigh-ins count as deleted.
    assert incremental["lastupdate"] == caught_up and "startdate" not in incremental
    assert int(window["enddate"]) - int(window["startdate"]) == 3 * 86400 and "lastupdate" not in window
    assert "created 3" in out.getvalue() or "created 4" in out.getvalue()
    assert 3 <= SyncItem.objects.count() <= 4 and all(i.snapshot["bmi"] for i in items(account).values())
    assert height["meastypes"] == "4" and "startdate" not in height  # the height, asked for once
    call_command("sync_withings", "--days", "3", stdout=out)
    assert [c["meastypes"] for c in measure_calls(fake)].count("4") == 1  # looked up once, then remembered
    account.refresh_from_db()
    assert int(account.cursor) >= int(caught_up) - fetch.CURSOR_OVERLAP  # the incremental read's own cursor
    run = SyncRun.objects.first()
    assert (run.trigger, run.error, run.finished_at is not None) == ("manual", "", True)


def test_it_syncs_the_last_7_days_from_the_page(
    logged_in, account, fake, rsps, jobs_sent, sent_jobs, django_capture_on_commit_callbacks
):
    fake.seed_daily_history(USER, days=30, end=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        answer = logged_in.post(reverse("withings:sync_recent"))
    assert answer.status_code == 302 and fake.calls("POST", "^/measure$") == []
    run = SyncRun.objects.get()
    assert jobs_sent.sent == [("fetch_window", (account.pk, run.pk, 7))]
    jobs_sent.run()
    run.refresh_from_db()
    # The Garmin safety cap holds what is beyond its per-run limit; nothing is dropped.
    counts = counts_for([run])[run.pk]
    assert 7 <= counts.queued + counts.held <= 8 and run.finished_at
    assert SyncItem.objects.filter(run=run).count() == SyncItem.objects.count() == counts.queued + counts.held
    assert "Sync last 7 days</button>" in logged_in.get(reverse("withings:connect")).content.decode()


def test_it_offers_the_route_sync_now_task(account, fake, rsps, sent_jobs):
    from fitsync.routes import route_for

    fake.add_measurement(USER, timezone.now() - timedelta(days=2), 80.4)
    run = run_for(account, SyncRun.Trigger.MANUAL)
    assert route_for("withings_garmin").sync_now_task == "integrations.withings.tasks.sync_now"
    tasks.sync_now(account.pk, run.pk)
    assert SyncItem.objects.get().title == "80.40 kg"
