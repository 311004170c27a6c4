"""A fetch waiting to retry and a schedule set aside are shown, not silent."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from fitsync.jobs import quarantine_unreadable_schedules
from fitsync.sync import start_run

pytestmark = pytest.mark.django_db


def test_a_run_waiting_to_retry_says_when(logged_in, user, make_account):
    account = make_account("withings")
    run = start_run("webhook", account=account, route="withings_garmin", task="integrations.withings.tasks.resume")
    run.start_attempt(60)
    run.retry_later(120, "Withings answered 503")

    page = logged_in.get(reverse("dashboard:run", args=[run.pk])).content.decode()
    assert "Waiting to retry" in page and "Withings answered 503: fitsync tries again at" in page
    assert "Retrying at" in logged_in.get(reverse("dashboard:runs")).content.decode()


def test_a_schedule_set_aside_shows_on_the_overview_and_health(logged_in, client):
    Schedule.objects.bulk_create(
        [
            Schedule(
                func="fitsync.tasks.dispatch", args="(SyncRun.Trigger.WEBHOOK,)", next_run=timezone.now() - timedelta(1)
            )
        ]
    )
    assert quarantine_unreadable_schedules() == 1

    page = logged_in.get(reverse("dashboard:overview")).content.decode()
    assert "1 scheduled job(s) could not be read and were set aside" in page
    assert client.get("/health").json()["skipped_schedules"] == 1
