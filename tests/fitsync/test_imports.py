"""The history import through a route whose destination has no bulk write: items queued for the engine.

(Hevy → Intervals.icu, which writes in bulk, is proven against both fakes in
tests/integrations/hevy/test_hevy_backfill.py.)
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from fitsync.errors import AuthExpired
from fitsync.imports import ImportBlocked, ImportOptions, import_history
from fitsync.models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from fitsync.roles import Described, Destination, Page, Source
from fitsync.routes import Route
from fitsync.run_counts import RunCounts, counts_for

pytestmark = pytest.mark.django_db
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Note:
    source_id: str
    at: datetime


class Notes(Source):
    provider = "hevy"

    def __init__(self, count: int, fail_after_pages: int | None = None):
        self.notes = [Note(f"n{i}", START + timedelta(days=i)) for i in range(count)]
        self.fail_after_pages = fail_after_pages

    def describe(self, note: Note) -> Described:
        return Described(f"Note {note.source_id}", note.at, {"id": note.source_id})

    def history(self, account, since, until, *, max_pages=None, page_size=None):
        size = page_size or 3
        chosen = [n for n in self.notes if (not since or n.at >= since) and (not until or n.at < until)]
        for number, start in enumerate(range(0, len(chosen), size)):
            if self.fail_after_pages is not None and number >= self.fail_after_pages:
                raise AuthExpired("key revoked", provider="hevy")
            yield Page(chosen[start : start + size], remaining=len(chosen) - start - size)


class OddNotesSkipped(Notes):
    def skip_reason(self, note: Note) -> str:
        return "odd" if int(note.source_id[1:]) % 2 else ""


class Copies(Destination):
    provider = "intervals"

    def __init__(self, cap: int | None = None):
        self.max_uploads_per_run = cap

    def unchanged(self, item, payload) -> bool:
        return item.snapshot == payload and item.status == ItemStatus.SYNCED


def route_with(source: Source, destination: Destination | None = None) -> Route:
    return Route(
        "hevy_intervals",
        "Notes → Copies",
        source=source,
        destination=destination or Copies(),
        mapping=lambda r, t: {"id": r.source_id},
    )


@pytest.fixture
def accounts(make_account):
    return make_account("hevy", api_key="k"), make_account("intervals", api_key="k")


def test_each_record_becomes_a_queued_item_and_the_run_counts_them(
    accounts, sent_jobs, django_capture_on_commit_callbacks
):
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.BACKFILL, account=accounts[0])
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(Notes(7)), accounts[0], ImportOptions(limit=5), run=run)
    assert (report.created, report.done, report.total) == (5, 5, 5)
    items = SyncItem.objects.order_by("occurred_at")
    assert [i.source_id for i in items] == ["n0", "n1", "n2", "n3", "n4"]  # oldest first, up to the limit
    assert {i.status for i in items} == {ItemStatus.PENDING} and sorted(sent_jobs) == sorted(i.pk for i in items)
    assert {i.run_id for i in items} == {run.pk}  # tagged, as `take_in` tags a fetch's items
    run.refresh_from_db()
    assert (run.total, run.done) == (5, 5) and counts_for([run])[run.pk] == RunCounts(queued=5)


def test_a_second_import_of_the_same_history_queues_nothing(accounts, sent_jobs, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_history(route_with(Notes(4)), accounts[0], ImportOptions())
    sent_jobs.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(Notes(4)), accounts[0], ImportOptions())
    assert (report.unchanged, report.created, report.updated) == (4, 0, 0) and sent_jobs == []


def test_the_source_says_which_records_to_skip(accounts, sent_jobs, django_capture_on_commit_callbacks):
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.BACKFILL, account=accounts[0])
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(OddNotesSkipped(4)), accounts[0], ImportOptions(), run=run)
    skipped = SyncItem.objects.filter(status=ItemStatus.SKIPPED)
    assert sorted(i.source_id for i in skipped) == ["n1", "n3"] and {i.last_error for i in skipped} == {"odd"}
    assert (report.created, report.skipped) == (2, 2) and len(sent_jobs) == 2
    assert counts_for([run])[run.pk] == RunCounts(skipped=2, queued=2)


def test_the_destination_safety_cap_holds_the_rest_unless_lifted(
    accounts, sent_jobs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(Notes(7), Copies(cap=3)), accounts[0], ImportOptions())
    held = SyncItem.objects.filter(status=ItemStatus.HELD)
    assert (report.created, report.held, held.count(), len(sent_jobs)) == (3, 4, 4, 3)
    assert {i.last_error for i in held} == {"Held by the safety cap of 3 uploads per run."}

    SyncItem.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(Notes(7), Copies(cap=3)), accounts[0], ImportOptions(lift_cap=True))
    assert (report.created, report.held) == (7, 0) and all(SyncItem.objects.values_list("lift_cap", flat=True))


def test_without_the_destination_connected_the_items_wait_uncapped(
    make_account, sent_jobs, django_capture_on_commit_callbacks
):
    notes = make_account("hevy", api_key="k")  # no Copies account: the engine will wait for one
    with django_capture_on_commit_callbacks(execute=True):
        report = import_history(route_with(Notes(5), Copies(cap=2)), notes, ImportOptions())
    assert (report.created, report.held) == (5, 0)
    assert set(SyncItem.objects.values_list("status", flat=True)) == {ItemStatus.PENDING}


def test_a_dry_run_plans_and_writes_nothing(accounts, sent_jobs):
    report = import_history(route_with(Notes(4)), accounts[0], ImportOptions(dry_run=True))
    assert report.count("create") == 4 and report.done == 0
    assert not SyncItem.objects.exists() and sent_jobs == []


def test_a_rejected_source_key_stops_the_import_and_marks_the_account(accounts, sent_jobs):
    with pytest.raises(ImportBlocked, match="Reconnect"):
        import_history(route_with(Notes(9, fail_after_pages=1)), accounts[0], ImportOptions())
    assert ConnectedAccount.objects.get(pk=accounts[0].pk).status == "needs_reauth"
    assert SyncItem.objects.count() == 3  # the page before was taken in
