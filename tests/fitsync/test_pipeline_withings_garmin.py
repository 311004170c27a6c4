"""Withings measurements -> Garmin weigh-ins through the engine, against the sandbox Garmin over HTTP.

GIVEN an item made by `feeds.take_in`, WHEN the engine runs it, THEN Garmin holds the weigh-in
once; checked in the fake's weigh-ins and its ledger of upload calls.
"""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from fitsync import sync
from fitsync.dashboard import actions
from fitsync.feeds import take_in
from fitsync.models import AccountStatus, ItemStatus, SyncItem, SyncRun
from fitsync.routes import route_for
from fitsync.run_counts import counts_for
from integrations.garmin.client import CONSENT_MESSAGE
from tests.integrations.garmin import fixtures as garmin_fixtures
from tests.integrations.garmin.fixtures import EMAIL, MORNING, measurement
from tests.items import put_in_state

# The sandbox Garmin over HTTP and a connected Garmin account (shared with tests/integrations/garmin).
fake, garmin_url, garmin_account = garmin_fixtures.fake, garmin_fixtures.garmin_url, garmin_fixtures.garmin_account

pytestmark = pytest.mark.django_db
UPLOADS = ("POST", "/upload-service/upload")
ROUTE = "withings_garmin"


@pytest.fixture
def withings(make_account, garmin_account):
    return make_account("withings")


@pytest.fixture(autouse=True)
def commits(monkeypatch):
    """Run on-commit callbacks (the engine sends jobs after commit) as a real commit would."""

    def on_commit(func, using=None, robust=False):
        func()

    monkeypatch.setattr("django.db.transaction.on_commit", on_commit)


def ingest(withings, *measurements, trigger=SyncRun.Trigger.WEBHOOK, lift_cap=False):
    run = sync.start_run(trigger, account=withings, route=ROUTE)
    take_in(withings, list(measurements), run, lift_cap=lift_cap)
    run.refresh_from_db()
    return run


def run_all(sent_jobs) -> list[SyncItem]:
    while sent_jobs:
        sync.run_item(sent_jobs.pop(0))
    return list(SyncItem.objects.order_by("occurred_at", "pk"))


def item_for(source_id: str = "1001") -> SyncItem:
    return SyncItem.objects.get(source_id=source_id)


def weigh_ins(fake) -> list[dict]:
    return fake.weigh_ins(EMAIL)


# --- upload ------------------------------------------------------------------------------------------
def test_it_uploads_a_weigh_in_with_full_body_composition(withings, fake, sent_jobs):
    ingest(withings, measurement())
    [item] = run_all(sent_jobs)

    [entry] = weigh_ins(fake)
    assert (item.status, item.destination_id) == (ItemStatus.SYNCED, str(entry["samplePk"]))
    assert entry["timestampGMT"] == int(MORNING.timestamp()) * 1000
    assert entry["calendarDate"] == "2026-01-15"
    assert (entry["weight"], entry["bodyFat"], entry["bodyWater"]) == (80350.0, 20.14, 55.22)
    assert (entry["boneMass"], entry["muscleMass"], entry["visceralFat"]) == (3210.0, 61250.0, 7)
    assert (entry["metabolicAge"], entry["bmi"]) == (None, 25.4)  # metabolic age: unit unconfirmed, not sent
    assert item.sent["calendarDate"] == "2026-01-15" and "basal_met" not in item.sent


def test_replaying_the_same_measurement_five_times_changes_nothing(withings, fake, sent_jobs):
    ingest(withings, measurement())
    run_all(sent_jobs)
    for _ in range(5):
        ingest(withings, measurement())
        put_in_state(SyncItem.objects, status=ItemStatus.PENDING)  # even if the item were queued again
        sent_jobs.append(item_for().pk)
        run_all(sent_jobs)
    assert len(weigh_ins(fake)) == 1
    assert len(fake.calls(*UPLOADS)) == 1


def test_an_edit_in_withings_replaces_exactly_that_weigh_in(withings, fake, sent_jobs):
    other = fake.add_weigh_in(EMAIL, MORNING + timedelta(hours=3), Decimal("79.9"))
    ingest(withings, measurement())
    first = run_all(sent_jobs)[0].destination_id

    ingest(withings, measurement(weight="80.30", fat_ratio_pct=Decimal("19.8")))
    item = run_all(sent_jobs)[0]

    pks = {str(e["samplePk"]) for e in weigh_ins(fake)}
    assert first not in pks and item.destination_id in pks and str(other["samplePk"]) in pks
    assert len(pks) == 2
    assert next(e for e in weigh_ins(fake) if str(e["samplePk"]) == item.destination_id)["bodyFat"] == 19.8


def test_a_delete_in_withings_removes_exactly_that_weigh_in(withings, fake, sent_jobs):
    other = fake.add_weigh_in(EMAIL, MORNING + timedelta(hours=3), Decimal("79.9"))
    ingest(withings, measurement())
    run_all(sent_jobs)
    put_in_state(SyncItem.objects, operation=SyncItem.Operation.DELETE, status=ItemStatus.PENDING)
    sent_jobs.append(item_for().pk)

    item = run_all(sent_jobs)[0]

    assert [e["samplePk"] for e in weigh_ins(fake)] == [other["samplePk"]]
    assert (item.status, item.attempt_log.latest("started_at").outcome) == (ItemStatus.SYNCED, "deleted")


# --- dedup at the tolerance edges --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seconds", "kg", "duplicate"),
    [
        (120, "80.35", True),
        (-120, "80.35", True),
        (121, "80.35", False),
        (-121, "80.35", False),
        (0, "80.45", True),
        (0, "80.25", True),
        (0, "80.46", False),
        (0, "80.24", False),
    ],
)
def test_it_skips_a_weigh_in_garmin_already_has_within_the_tolerance(withings, fake, sent_jobs, seconds, kg, duplicate):
    seeded = fake.add_weigh_in(EMAIL, MORNING + timedelta(seconds=seconds), Decimal(kg))
    ingest(withings, measurement())
    item = run_all(sent_jobs)[0]

    if duplicate:
        assert not fake.calls(*UPLOADS) and len(weigh_ins(fake)) == 1
        assert (item.status, item.destination_id) == (ItemStatus.SKIPPED, str(seeded["samplePk"]))
        assert "already had this weigh-in" in item.last_error
    else:
        assert len(fake.calls(*UPLOADS)) == 1 and len(weigh_ins(fake)) == 2
        assert item.status == ItemStatus.SYNCED and item.destination_id != str(seeded["samplePk"])


def test_a_crash_between_upload_and_recording_does_not_upload_twice(withings, fake, sent_jobs, garmin_account):
    ingest(withings, measurement())
    item = item_for()
    # The worker uploads, then dies before the engine records the outcome (SIGKILL at "after_write").
    context = sync.SyncContext(item, withings, garmin_account)
    sync.sync_step(route_for(ROUTE), context)
    assert len(weigh_ins(fake)) == 1

    run_all(sent_jobs)  # the retry after the lease expired

    item.refresh_from_db()
    assert len(weigh_ins(fake)) == 1 and len(fake.calls(*UPLOADS)) == 1
    assert item.destination_id == str(weigh_ins(fake)[0]["samplePk"])
    assert (item.status, item.last_error) == (ItemStatus.SYNCED, "")  # our upload, not "Garmin already had it"


# --- Garmin lists an upload later (202) --------------------------------------------------------------
def test_an_upload_listed_after_a_few_reads_is_synced_in_one_attempt(withings, fake, sent_jobs):
    fake.upload_hidden_reads = 3  # the fourth and last read-back finds it
    ingest(withings, measurement())
    [item] = run_all(sent_jobs)

    assert (item.status, item.attempts, item.last_error) == (ItemStatus.SYNCED, 1, "")
    assert item.destination_id == str(weigh_ins(fake)[0]["samplePk"]) and len(fake.calls(*UPLOADS)) == 1
    assert item.attempt_log.get().outcome == "created"


def test_an_upload_listed_only_after_the_read_backs_counts_as_ours_on_the_retry(withings, fake, sent_jobs):
    fake.upload_hidden_reads = 100
    ingest(withings, measurement())
    [item] = run_all(sent_jobs)
    assert (item.status, item.attempts) == (ItemStatus.PENDING, 1)
    assert "does not list it yet" in item.last_error and "uploaded" in item.sent
    assert not weigh_ins(fake) and len(fake.processing(EMAIL)) == 1

    fake.finish_processing(EMAIL)  # Garmin finished processing the file
    SyncItem.objects.update(next_attempt_at=item.updated_at)
    sent_jobs.append(item.pk)
    [item] = run_all(sent_jobs)

    assert (item.status, item.last_error) == (ItemStatus.SYNCED, "")
    assert item.destination_id == str(weigh_ins(fake)[0]["samplePk"]) and len(fake.calls(*UPLOADS)) == 1
    assert item.attempt_log.latest("started_at").outcome == "created" and "uploaded" not in item.sent


def test_an_edit_listed_late_still_replaces_the_old_weigh_in(withings, fake, sent_jobs):
    ingest(withings, measurement())
    first = run_all(sent_jobs)[0].destination_id
    fake.upload_hidden_reads = 100
    ingest(withings, measurement(weight="80.30"))
    run_all(sent_jobs)
    fake.finish_processing(EMAIL)
    SyncItem.objects.update(next_attempt_at=item_for().updated_at)
    sent_jobs.append(item_for().pk)

    item = run_all(sent_jobs)[0]

    assert [str(e["samplePk"]) for e in weigh_ins(fake)] == [item.destination_id] != [first]
    assert (item.status, item.attempt_log.latest("started_at").outcome) == (ItemStatus.SYNCED, "updated")


# --- the safety cap and held weights -----------------------------------------------------------------
def seven_weigh_ins():
    return [measurement(str(2000 + n), at=MORNING - timedelta(days=7 - n)) for n in range(7)]


def test_an_automatic_run_uploads_at_most_the_cap_and_holds_the_rest(withings, fake, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    run = ingest(withings, *seven_weigh_ins(), trigger=SyncRun.Trigger.SCHEDULE)
    items = run_all(sent_jobs)

    assert [i.status for i in items] == [ItemStatus.SYNCED] * 5 + [ItemStatus.HELD] * 2
    counts = counts_for([run])[run.pk]  # the run counts what its items became
    assert (counts.created, counts.held, counts.queued) == (5, 2, 0) and len(weigh_ins(fake)) == 5
    assert "safety cap" in items[-1].last_error

    assert actions.upload_held(SyncItem.objects.all()) == 2  # the dashboard's "Upload held weights"
    items = run_all(sent_jobs)
    assert [i.status for i in items] == [ItemStatus.SYNCED] * 7 and len(weigh_ins(fake)) == 7


def test_held_weights_stay_held_when_the_next_run_sees_them_again(withings, fake, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    ingest(withings, *seven_weigh_ins())
    run_all(sent_jobs)
    ingest(withings, *seven_weigh_ins())
    items = run_all(sent_jobs)
    assert [i.status for i in items].count(ItemStatus.HELD) == 2 and len(weigh_ins(fake)) == 5


def test_a_manual_backfill_can_lift_the_cap(withings, fake, sent_jobs, settings):
    settings.GARMIN_MAX_UPLOADS_PER_RUN = 5
    run = ingest(withings, *seven_weigh_ins(), trigger=SyncRun.Trigger.BACKFILL, lift_cap=True)
    items = run_all(sent_jobs)
    assert counts_for([run])[run.pk].held == 0 and {i.status for i in items} == {ItemStatus.SYNCED}
    assert len(weigh_ins(fake)) == 7


# --- upload answers: 409, 412, 429, 5xx --------------------------------------------------------------
def test_a_409_duplicate_counts_as_success(withings, fake, sent_jobs):
    fake.upload_duplicate = True
    ingest(withings, measurement())
    item = run_all(sent_jobs)[0]
    assert item.status == ItemStatus.SYNCED and "409" in item.last_error
    assert len(fake.calls(*UPLOADS)) == 1


def test_a_412_tells_the_user_how_to_grant_upload_consent(withings, fake, sent_jobs, garmin_account):
    fake.upload_consent_missing = True
    ingest(withings, measurement())
    item = run_all(sent_jobs)[0]
    garmin_account.refresh_from_db()
    assert (item.status, item.attempts) == (ItemStatus.FAILED, 1)
    assert garmin_account.last_error == CONSENT_MESSAGE and "Upload consent" in garmin_account.last_error
    assert len(fake.calls(*UPLOADS)) == 1


@pytest.mark.parametrize(("status", "retry_after"), [(429, "600"), (503, None)])
def test_429_and_5xx_retry_with_backoff(withings, fake, sent_jobs, status, retry_after):
    fake.add_fault(path="/upload-service/upload", status=status, retry_after=retry_after)
    ingest(withings, measurement())
    item = run_all(sent_jobs)[0]
    assert (item.status, item.attempts) == (ItemStatus.PENDING, 0 if status == 429 else 1)  # a 429 spends none
    assert item.next_attempt_at > item.updated_at
    assert not weigh_ins(fake)

    SyncItem.objects.update(next_attempt_at=item.updated_at)
    sent_jobs.append(item.pk)
    item = run_all(sent_jobs)[0]
    assert item.status == ItemStatus.SYNCED and len(weigh_ins(fake)) == 1


def test_rejected_tokens_leave_the_weight_pending_until_reconnected(withings, fake, sent_jobs, garmin_account):
    fake.revoke_tokens(EMAIL)
    ingest(withings, measurement())
    item = run_all(sent_jobs)[0]
    garmin_account.refresh_from_db()
    assert garmin_account.status == AccountStatus.NEEDS_REAUTH and "Reconnect Garmin" in garmin_account.status_message
    assert (item.status, item.attempts) == (ItemStatus.PENDING, 0)
    assert list(sync.due_items()) == []


def test_a_measurement_out_of_fit_range_fails_without_calling_garmin(withings, fake, sent_jobs):
    ingest(withings, replace(measurement(), weight_kg=Decimal("700")))
    item = run_all(sent_jobs)[0]
    assert item.status == ItemStatus.FAILED and "cannot be written as a FIT file" in item.last_error
    assert not fake.ledger
