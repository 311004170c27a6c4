"""`manage.py backfill_hevy` and the dashboard's history import, against both fakes.

Every test runs with the Intervals.icu bulk upload upserting on external_id and with it always creating.
"""

import io
import random
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from fitsync import history_runs, throttle
from fitsync.models import ConnectedAccount, SyncItem, SyncRun
from sandbox.intervals import IntervalsFake
from sandbox.workouts import generate_workouts

from .conftest import ATHLETE, HEVY_KEY, INTERVALS_KEY

pytestmark = pytest.mark.django_db
LATER = datetime(2024, 11, 1, tzinfo=UTC)  # after every workout of `history`


@pytest.fixture(params=["bulk_upserts", "bulk_creates"])
def intervals(request):
    fake = IntervalsFake(bulk_upsert=request.param == "bulk_upserts")
    fake.add_athlete(INTERVALS_KEY, athlete_id=ATHLETE, timezone="Europe/Berlin", name="Anna")
    return fake


@pytest.fixture(autouse=True)
def small_batches(settings, monkeypatch):
    settings.INTERVALS_BULK_BATCH_SIZE = 7
    monkeypatch.setattr(throttle, "BASE_HOLD", 0.01)


def backfill(*args) -> tuple[str, str, int]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("backfill_hevy", *args, stdout=out, stderr=err)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return out.getvalue(), err.getvalue(), status


def swap_bulk_handler(intervals, handler):
    intervals.routes = [
        (m, p, intervals._for_athlete(handler) if "bulk" in p.pattern else h) for m, p, h in intervals.routes
    ]


def test_it_syncs_the_whole_history_oldest_first_and_then_writes_nothing(upstreams, accounts, history, intervals):
    out, _, status = backfill()
    assert status == 0 and "Done: 40 created, 0 updated, 0 unchanged, 0 failed." in out
    activities = intervals.activities(ATHLETE)
    assert sorted(a["external_id"] for a in activities) == sorted(w["id"] for w in history)
    # Batches go out in parallel, so the ledger's order is the threads'; each batch is a run of the
    # oldest-first history, and together they cover it exactly.
    position = {w["id"]: n for n, w in enumerate(history)}
    batches = [[a["external_id"] for a in call.json()] for call in intervals.calls("POST", r"/manual/bulk")]
    in_plan_order = sorted(batches, key=lambda batch: position[batch[0]])
    assert [source_id for batch in in_plan_order for source_id in batch] == [w["id"] for w in history]
    assert max(len(c.json()) for c in intervals.calls("POST")) == 7
    assert SyncItem.objects.filter(status="synced").count() == 40

    intervals.clear_ledger()
    out, _, status = backfill()
    assert status == 0 and "Done: 0 created, 0 updated, 40 unchanged, 0 failed." in out
    assert intervals.calls("POST") == []


def test_it_reads_pages_of_at_most_ten_and_validates_the_page_size(upstreams, accounts, history, hevy):
    backfill("--dry-run")
    assert {c.query["pageSize"] for c in hevy.calls("GET", r"^/v1/workouts$")} == {"10"}
    with pytest.raises(CommandError, match="must be 1-10"):
        call_command("backfill_hevy", "--page-size", "11")
    with pytest.raises(CommandError):
        call_command("backfill_hevy", "--page-size", "0")


def test_a_dry_run_lists_the_plan_and_writes_nothing(upstreams, accounts, history, hevy, intervals):
    backfill("--limit", "5")
    hevy.update_workout(HEVY_KEY, history[0]["id"], title="Edited after the import")
    intervals.clear_ledger()
    items_before = list(SyncItem.objects.values_list("pk", "content_hash"))
    out, _, status = backfill("--dry-run")
    assert status == 0
    assert "Dry run: would create 35, update 1, leave 4 alone. Nothing was written." in out
    assert "update     " in out and "Edited after the import" in out
    assert intervals.calls("POST") == [] and intervals.calls("PUT") == []
    assert list(SyncItem.objects.values_list("pk", "content_hash")) == items_before
    assert not SyncRun.objects.filter(trigger="backfill").exclude(pk__in=SyncRun.objects.all()[:1]).exists()


def test_an_interrupted_run_resumes_without_duplicates(upstreams, accounts, history, intervals):
    original = intervals._create_bulk
    seen = {"calls": 0}

    def dies_on_the_third_batch(request, athlete):
        seen["calls"] += 1
        if seen["calls"] == 3:
            raise KeyboardInterrupt
        return original(request, athlete)

    swap_bulk_handler(intervals, dies_on_the_third_batch)
    out, err, status = backfill()
    assert status == 130 and "Run the command again to resume" in err
    assert SyncItem.objects.filter(status="synced").count() < 40  # stopped part-way
    swap_bulk_handler(intervals, original)
    out, _, status = backfill()
    assert status == 0
    assert len(intervals.activities(ATHLETE)) == 40  # every workout once, none twice
    assert SyncItem.objects.filter(status="synced").count() == 40


def test_failures_are_reported_and_exit_1(upstreams, accounts, history, intervals):
    original = intervals._create_bulk

    def refuses_the_oldest(request, athlete):
        if history[0]["id"] in request.body.decode():  # one bad activity refuses the whole call
            return intervals.error_response(422, "Injected fault")
        return original(request, athlete)

    swap_bulk_handler(intervals, refuses_the_oldest)
    out, err, status = backfill()
    assert status == 1
    assert "Done: 39 created, 0 updated, 0 unchanged, 1 failed." in out
    assert f"failed: {history[0]['title']}" in err and "Injected fault" in err
    failed = SyncItem.objects.get(status="failed")
    assert failed.source_id == history[0]["id"]
    swap_bulk_handler(intervals, original)
    assert backfill()[2] == 0  # the next run retries it
    assert len(intervals.activities(ATHLETE)) == 40


def test_429s_are_waited_out(upstreams, accounts, history, hevy, intervals):
    hevy.add_fault(path=r"^/v1/workouts$", status=429, retry_after=0, times=2)
    intervals.add_fault(path=r"/manual/bulk", status=429, retry_after=0, times=2)
    assert backfill()[2] == 0
    assert len(intervals.activities(ATHLETE)) == 40


@pytest.mark.django_db(transaction=True)  # page readers in threads share the pacer's state in the database
@pytest.mark.parametrize("retry_after", [True, False])
def test_a_rate_limited_hevy_gets_everything_with_few_429s(upstreams, accounts, hevy, intervals, settings, retry_after):
    """GIVEN a Hevy that refuses more than 3 requests/s per key (unpublished, so hidden), with or
    without Retry-After, WHEN a history of 12 pages is imported with the pacer on, THEN every
    workout arrives and only a few requests were refused (the pacer backs off, then probes slowly)."""
    import random
    from datetime import UTC, datetime

    from sandbox.workouts import generate_workouts

    hevy.rate_limit, hevy.retry_after = 3.0, retry_after
    hevy.add_workouts(HEVY_KEY, generate_workouts(120, rng=random.Random(5), end=datetime(2024, 10, 1, tzinfo=UTC)))
    settings.HEVY_REQUESTS_PER_SECOND = 50
    assert backfill()[2] == 0
    assert len(intervals.activities(ATHLETE)) == 120
    statuses = [call.status for call in hevy.calls("GET", r"^/v1/workouts$")]
    # Most 429s come from the first second's probing (the pacer starts above the hidden limit); a loaded
    # machine bunches requests a little, so the bound leaves room for that, well below the bench's < 10.
    assert statuses.count(200) == 12 and statuses.count(429) <= 6


def test_a_slow_page_holds_up_no_other(upstreams, accounts, history, hevy, intervals, settings):
    """Pages stay in flight up to the bound: while the oldest page (read first) hangs, newer ones are read."""
    import threading

    settings.HEVY_BACKFILL_CONCURRENCY = 2
    released, oldest_done, read_meanwhile = threading.Event(), threading.Event(), []

    def slow_oldest_page(handler):
        def handle(request, **params):
            page = int(request.query.get("page") or 1)
            if page == 4:
                released.wait(timeout=3)
                oldest_done.set()
            elif page > 1 and not oldest_done.is_set():
                read_meanwhile.append(page)
                if len(read_meanwhile) == 2:
                    released.set()
            return handler(request, **params)

        return handle

    hevy.routes = [(m, p, slow_oldest_page(h) if p.pattern == "^/v1/workouts$" else h) for m, p, h in hevy.routes]
    assert backfill()[2] == 0
    assert read_meanwhile == [3, 2] and len(intervals.activities(ATHLETE)) == 40


def test_since_until_max_pages_and_limit(upstreams, accounts, history, intervals):
    starts = sorted(w["start_time"][:10] for w in history)
    out, _, _ = backfill("--since", starts[10], "--until", starts[20], "--dry-run")
    assert "would create 10," in out
    out, _, _ = backfill("--max-pages", "1", "--dry-run")
    assert "would create 10," in out  # the newest page only
    backfill("--limit", "3")
    assert [a["external_id"] for a in intervals.activities(ATHLETE)] == [w["id"] for w in history[:3]]


def test_progress_is_shown_as_lines_when_not_on_a_terminal(upstreams, accounts, history):
    out, _, _ = backfill()
    assert "progress: 7/40 uploaded" in out and "progress: 40/40 uploaded (40 created" in out


def test_it_asks_which_user_when_several_have_hevy(upstreams, accounts, history, make_account, django_user_model):
    bert = django_user_model.objects.create_user("bert")
    make_account("hevy", owner=bert, api_key="other")
    with pytest.raises(CommandError, match="Several users have Hevy connected \\(ada, bert\\)"):
        call_command("backfill_hevy", "--dry-run")
    assert backfill("--user", "ada", "--dry-run")[2] == 0


def test_it_needs_intervals_connected(upstreams, hevy_account, history):
    with pytest.raises(CommandError, match="Connect Intervals.icu first"):
        call_command("backfill_hevy")


def test_the_dashboard_starts_a_backfill_run_with_progress(
    logged_in, upstreams, accounts, history, intervals, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kw: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):  # the job is queued once the run is committed
        response = logged_in.post("/hevy/backfill/")
    run = SyncRun.objects.get(trigger="backfill")
    assert response.status_code == 302 and response.url == f"/runs/{run.pk}/"
    assert queued == [("fitsync.history_runs.import_run", run.pk)] and run.route == "hevy_intervals"
    assert logged_in.post("/hevy/backfill/").status_code == 302 and SyncRun.objects.count() == 1  # one at a time

    assert history_runs.import_run(*queued[0][1:]).endswith(": 40 created, 0 updated, 0 held, 0 failed")
    run.refresh_from_db()
    assert (run.total, run.done, run.created, run.failed, run.error) == (40, 40, 40, 0, "")
    assert run.finished_at is not None
    page = logged_in.get("/hevy/").content.decode()
    assert f"run #{run.pk}" in page and "40 created" in page


def test_the_dashboard_refuses_a_backfill_without_both_accounts(logged_in, hevy_account):
    response = logged_in.post("/hevy/backfill/", follow=True)
    assert "Connect Intervals.icu first: the import writes there." in response.content.decode()
    assert not SyncRun.objects.exists()
    assert logged_in.get("/hevy/backfill/").status_code == 405


def test_a_rejected_intervals_key_stops_the_backfill_and_marks_the_account(upstreams, accounts, history, intervals):
    intervals.athletes[ATHLETE]["api_key"] = "revoked"
    out, err, status = backfill()
    assert status == 1 and "Stopped:" in err and "Reconnect" in err
    assert ConnectedAccount.objects.get(pk=accounts[1].pk).status == "needs_reauth"
    with pytest.raises(CommandError, match="Reconnect your accounts first"):
        call_command("backfill_hevy")


def test_a_rejected_intervals_key_found_while_reading_the_timezone(upstreams, accounts, history, intervals):
    intervals.athletes[ATHLETE]["api_key"] = "revoked"
    ConnectedAccount.objects.filter(pk=accounts[1].pk).update(meta={})  # forces a profile read first
    with pytest.raises(CommandError, match="Intervals.icu rejected"):
        call_command("backfill_hevy")
    assert ConnectedAccount.objects.get(pk=accounts[1].pk).status == "needs_reauth"


def test_a_terminal_gets_a_progress_bar(upstreams, accounts, history):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("backfill_hevy", stdout=out)
    assert "\r[####" in out.getvalue() and "] 40/40" in out.getvalue() and "progress:" not in out.getvalue()


def test_a_reimport_after_fitsyncs_items_were_wiped_adopts_every_activity(upstreams, accounts, history, intervals):
    backfill()
    before = {a["external_id"]: a["id"] for a in intervals.activities(ATHLETE)}
    SyncItem.objects.all().delete()  # a lost or reset database
    out, _, status = backfill()
    assert status == 0 and "Done: 0 created, 40 updated, 0 unchanged, 0 failed." in out
    assert {a["external_id"]: a["id"] for a in intervals.activities(ATHLETE)} == before
    assert dict(SyncItem.objects.values_list("source_id", "destination_id")) == before


def test_edits_and_a_forced_resync_change_the_activities_by_id(upstreams, accounts, history, hevy, intervals):
    backfill()
    hevy.update_workout(HEVY_KEY, history[5]["id"], title="Legs (edited)")
    SyncItem.objects.filter(source_id=history[6]["id"]).update(force=True)
    intervals.clear_ledger()
    out, _, status = backfill()
    assert status == 0 and "Done: 0 created, 2 updated, 38 unchanged, 0 failed." in out
    assert intervals.calls("POST") == [] and len(intervals.calls("PUT")) == 2
    assert len(intervals.activities(ATHLETE)) == 40
    assert intervals.activities_by_external_id(ATHLETE)[history[5]["id"]]["name"] == "Legs (edited)"


def test_copies_left_by_older_versions_are_removed(upstreams, accounts, history, intervals):
    backfill("--limit", "3")
    for activity in intervals.activities(ATHLETE):  # what the bulk "upsert" made of re-imports before
        fields = {k: v for k, v in activity.items() if k not in ("id", "created", "start_date")}
        intervals._create_activity(intervals.athletes[ATHLETE], fields)
    SyncItem.objects.all().delete()
    assert backfill()[2] == 0
    assert sorted(a["external_id"] for a in intervals.activities(ATHLETE)) == sorted(w["id"] for w in history)


def test_an_activity_deleted_by_hand_in_intervals_is_written_again(upstreams, accounts, history, hevy, intervals):
    backfill("--limit", "3")
    gone = intervals.activities(ATHLETE)[0]
    del intervals.athletes[ATHLETE]["activities"][gone["id"]]
    SyncItem.objects.filter(source_id=gone["external_id"]).update(force=True)
    assert backfill()[2] == 0
    again = intervals.activities_by_external_id(ATHLETE)[gone["external_id"]]
    assert SyncItem.objects.get(source_id=gone["external_id"]).destination_id == again["id"] != gone["id"]
    assert len(intervals.activities(ATHLETE)) == 40


@pytest.mark.django_db(transaction=True)
def test_a_workout_a_job_wrote_meanwhile_keeps_the_jobs_activity(upstreams, accounts, history, intervals):
    """While a batch is under way, a webhook job creates the oldest workout and records its activity."""
    original, oldest = intervals._create_bulk, history[0]
    written_by_job = {}

    def a_job_got_there_first(request, athlete):
        if oldest["id"] in request.body.decode() and not written_by_job:
            activity = next(a for a in request.json() if a["external_id"] == oldest["id"])
            written_by_job.update(intervals._create_activity(athlete, activity))
            SyncItem.objects.create(
                account=accounts[0],
                route="hevy_intervals",
                source_id=oldest["id"],
                status="synced",
                destination_id=written_by_job["id"],
            )
        return original(request, athlete)

    swap_bulk_handler(intervals, a_job_got_there_first)
    assert backfill()[2] == 0
    assert sorted(a["external_id"] for a in intervals.activities(ATHLETE)) == sorted(w["id"] for w in history)
    assert SyncItem.objects.get(source_id=oldest["id"]).destination_id == written_by_job["id"]


def test_a_workout_saved_during_the_read_shifts_no_workout_out(upstreams, accounts, history, hevy, intervals, settings):
    """Pages are read oldest first: a workout saved meanwhile pushes the edge of every newer page onto an
    older one already read. The count at the end tells, and a second read picks up what moved."""
    settings.HEVY_BACKFILL_CONCURRENCY = 1
    saved = []

    def save_one_while_reading(handler):
        def handle(request, **params):
            if int(request.query.get("page") or 1) == 3 and not saved:
                saved.extend(hevy.add_workouts(HEVY_KEY, generate_workouts(1, rng=random.Random(9), end=LATER)))
            return handler(request, **params)

        return handle

    hevy.routes = [(m, p, save_one_while_reading(h) if p.pattern == "^/v1/workouts$" else h) for m, p, h in hevy.routes]
    assert backfill()[2] == 0
    ids = [a["external_id"] for a in intervals.activities(ATHLETE)]
    assert sorted(ids) == sorted(w["id"] for w in [*history, *saved]) and len(set(ids)) == 41
