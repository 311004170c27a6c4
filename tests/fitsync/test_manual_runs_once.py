"""One manual run at a time per trigger, route and account: Sync now, the Withings 7-day sync and the Hevy
history import each refuse a second click while the first run is unfinished, and say so on the page.
A run older than the job timeout was abandoned and blocks nothing. A source's fetch (Sync now, the 7-day
sync) is one run for every route from the source; a history import is a run per route."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.models import SyncRun

pytestmark = pytest.mark.django_db

SYNC_NOW_WORKOUTS = "/sync-now/hevy_intervals/"
SYNC_NOW_WEIGHTS = "/sync-now/withings_garmin/"
WITHINGS_SYNC = "/withings/sync/"
HEVY_BACKFILL = "/hevy/backfill/"


@pytest.fixture
def queued(monkeypatch):
    """Every task handed to django-q (the Withings jobs and the Hevy tasks all go through async_task)."""
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args, **kw: calls.append((func, args)))
    return calls


@pytest.fixture
def accounts(make_account):
    return {name: make_account(name, api_key="k") for name in ("hevy", "intervals", "withings", "garmin")}


@pytest.fixture
def click(logged_in, django_capture_on_commit_callbacks):
    def click(path: str) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return logged_in.post(path, follow=True).content.decode()

    return click


@pytest.mark.parametrize(
    "path,task,what",
    [
        (SYNC_NOW_WORKOUTS, "integrations.hevy.tasks.sync_now", "Sync now for Hevy"),
        (SYNC_NOW_WEIGHTS, "integrations.withings.tasks.sync_now", "Sync now for Withings"),
        (WITHINGS_SYNC, "integrations.withings.tasks.fetch_window", "A Withings sync"),
        (HEVY_BACKFILL, "fitsync.history_runs.import_run", "A history import"),
    ],
)
def test_two_clicks_queue_one_job_and_the_page_says_it_is_already_running(accounts, queued, click, path, task, what):
    click(path)
    page = click(path)
    run = SyncRun.objects.get()
    expected = (run.pk,) if path == HEVY_BACKFILL else (run.account_id, run.pk)  # an import's run says it all
    assert [func for func, _ in queued] == [task] and queued[0][1][: len(expected)] == expected
    assert f"{what}" in page and f"is already running (run #{run.pk}" in page


def test_the_withings_page_and_sync_now_are_the_same_run(accounts, queued, click):
    """Both fetch the last 7 days for every route from Withings: one spends the budget the other would."""
    click(SYNC_NOW_WEIGHTS)
    assert "already running" in click(WITHINGS_SYNC)
    assert len(queued) == 1


def test_a_finished_run_does_not_block_the_next(accounts, queued, click):
    click(WITHINGS_SYNC)
    SyncRun.objects.get().finish()
    assert "already running" not in click(WITHINGS_SYNC)
    assert len(queued) == 2 and SyncRun.objects.count() == 2


def test_a_run_older_than_the_job_timeout_was_abandoned(accounts, queued, click, settings):
    click(HEVY_BACKFILL)
    crashed = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"] + 1)
    SyncRun.objects.update(started_at=crashed)  # its worker died: no finish was ever written
    assert "History import started" in click(HEVY_BACKFILL)
    assert len(queued) == 2


def test_another_users_run_does_not_block_mine(accounts, queued, click, django_user_model, make_account):
    grace = django_user_model.objects.create_user("grace")
    theirs = make_account("withings", owner=grace)
    SyncRun.objects.create(trigger=SyncRun.Trigger.MANUAL, account=theirs, owner=grace, route="withings_garmin")
    assert "already running" not in click(WITHINGS_SYNC)
    assert len(queued) == 1


def test_other_kinds_of_run_do_not_block(accounts, queued, click):
    """A history import and the events poll of Sync now are different jobs on the same account."""
    click(HEVY_BACKFILL)
    assert "already running" not in click(SYNC_NOW_WORKOUTS)
    assert len(queued) == 2
