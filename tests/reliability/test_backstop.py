"""R13: what the webhooks missed, the reconciliation schedules repair, run by a real worker's scheduler.

GIVEN connected Hevy, Intervals.icu, Withings and Garmin accounts (the sandbox over HTTP) and fitsync's
notification subscription at the sandbox Withings,
WHEN a Hevy webhook is dropped, the subscription is deleted at Withings (so the next weigh-in's
notification is never delivered), and each schedule's interval has elapsed,
THEN one pass of django-q2's scheduler in a real `qcluster` (it runs every 30 s) repairs all three: the
events poll syncs the workout, the backstop fetch uploads the weigh-in, the daily check subscribes again.
"Interval elapsed" is set by moving each schedule's `next_run` to now rather than waiting 15 min to 1 day.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_q.models import Schedule

from fitsync.routes import SCHEDULES
from integrations.withings import subscriptions
from tests.live import wait_for, worker

from .conftest import ATHLETE, WITHINGS_USER

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
BACKSTOPS = {
    "integrations.hevy.tasks.poll_events",
    "integrations.withings.tasks.fetch_new_for_all",
    "integrations.withings.tasks.check_subscriptions",
}


def test_dropped_deliveries_are_repaired_within_one_interval(
    live_server, settings, hevy_sandbox, hevy_accounts, scale_sandbox, scale_accounts, worker_env
):
    settings.SITE_URL = live_server.url
    withings_account, _ = scale_accounts
    subscriptions.subscribe(withings_account)  # the fake HEAD-probes the live server first
    (subscription,) = scale_sandbox.withings.subscriptions.of_user(WITHINGS_USER)

    (workout,) = hevy_sandbox.add_workouts(1)  # its webhook never arrives
    scale_sandbox.withings.subscriptions.remove(WITHINGS_USER, 1, subscription.callbackurl)
    scale_sandbox.withings.step_on_scale(WITHINGS_USER, weight_kg=Decimal("80.6"))  # notifies nobody
    assert scale_sandbox.withings.deliveries == [] and scale_sandbox.weigh_ins() == []

    schedules = Schedule.objects.filter(func__in=BACKSTOPS)
    assert {s.func: s.minutes for s in schedules} == {
        func: minutes for _, func, minutes in SCHEDULES if func in BACKSTOPS
    }
    schedules.update(next_run=timezone.now() - timedelta(seconds=1))  # each interval has just elapsed

    env = {**worker_env, **hevy_sandbox.urls, **scale_sandbox.urls, "SITE_URL": live_server.url}
    with worker(**env):
        wait_for(lambda: hevy_sandbox.intervals.activities_by_external_id(ATHLETE).get(workout["id"]), timeout=75)
        wait_for(lambda: len(scale_sandbox.weigh_ins()) == 1, timeout=30)
        wait_for(lambda: scale_sandbox.withings.subscriptions.of_user(WITHINGS_USER), timeout=30)

    (again,) = scale_sandbox.withings.subscriptions.of_user(WITHINGS_USER)
    assert again.callbackurl == subscription.callbackurl
    assert len(hevy_sandbox.intervals.activities(ATHLETE)) == 1
