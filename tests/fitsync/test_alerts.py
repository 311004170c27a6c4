"""Alerts reach a local Apprise endpoint once per problem, once more a day later, and once when solved."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync import alerts
from fitsync.models import AlertSettings, AlertState, Heartbeat, InboundEvent, ItemStatus, SyncItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def alerted_user(user, alert_receiver):
    AlertSettings.objects.create(owner=user, apprise_urls=alert_receiver.apprise_url)
    return user


def check(at, **kwargs) -> int:
    return alerts.check_everyone(now=at, **kwargs)


def test_it_sends_a_problem_once_reminds_once_a_day_later_and_says_once_when_solved(
    alerted_user, alert_receiver, make_account
):
    account = make_account("intervals")
    account.mark_needs_reauth("Intervals.icu rejected the API key.")
    start = timezone.now()

    for minutes in (0, 10, 20, 60 * 23):
        check(start + timedelta(minutes=minutes))
    assert alert_receiver.titles() == ["fitsync: Intervals.icu needs reconnecting: Intervals.icu rejected the API key."]

    check(start + timedelta(hours=24, minutes=10))
    check(start + timedelta(hours=24, minutes=20))
    check(start + timedelta(hours=72))
    assert alert_receiver.titles()[1:] == [
        "fitsync (reminder): Intervals.icu needs reconnecting: Intervals.icu rejected the API key."
    ]

    account.mark_connected()
    check(start + timedelta(hours=73))
    check(start + timedelta(hours=74))
    assert alert_receiver.titles()[2:] == [
        "fitsync: solved: Intervals.icu needs reconnecting: Intervals.icu rejected the API key."
    ]
    assert [m["type"] for m in alert_receiver.messages()] == ["warning", "warning", "success"]


def test_a_problem_that_comes_back_is_a_new_alert(alerted_user, alert_receiver, make_account):
    account = make_account("intervals")
    start = timezone.now()
    account.mark_needs_reauth("Key rejected.")
    check(start)
    account.mark_connected()
    check(start + timedelta(minutes=10))
    account.mark_needs_reauth("Key rejected.")
    check(start + timedelta(minutes=20))
    assert alert_receiver.titles() == [
        "fitsync: Intervals.icu needs reconnecting: Key rejected.",
        "fitsync: solved: Intervals.icu needs reconnecting: Key rejected.",
        "fitsync: Intervals.icu needs reconnecting: Key rejected.",
    ]


def test_items_that_failed_after_retries_are_one_alert_per_route(alerted_user, alert_receiver, make_account):
    account = make_account("hevy")
    for number in range(3):
        SyncItem.objects.create(
            account=account, route="hevy_intervals", source_id=f"w{number}", status=ItemStatus.FAILED
        )
    check(timezone.now())
    assert alert_receiver.titles() == ["fitsync: 3 item(s) of Hevy → Intervals.icu failed after retries."]

    SyncItem.objects.filter(account=account).requeue()  # the user pressed "Resync all failed"
    check(timezone.now())
    assert alert_receiver.titles()[1:] == ["fitsync: solved: 3 item(s) of Hevy → Intervals.icu failed after retries."]


def test_a_source_that_sent_nothing_for_the_stale_days_is_an_alert(
    alerted_user, alert_receiver, make_account, settings
):
    settings.FITSYNC_STALE_DAYS = 7
    source, destination = make_account("withings"), make_account("garmin")
    long_ago = timezone.now() - timedelta(days=30)
    type(source).objects.filter(pk__in=[source.pk, destination.pk]).update(created_at=long_ago)
    InboundEvent.objects.create(source="withings", account=source, dedupe_key="old", received_at=long_ago)
    check(timezone.now())
    assert alert_receiver.titles() == ["fitsync: Withings has sent nothing for 7 days or more."]

    InboundEvent.objects.create(source="withings", account=source, dedupe_key="new")
    check(timezone.now())
    assert alert_receiver.titles()[1:] == ["fitsync: solved: Withings has sent nothing for 7 days or more."]


def test_a_young_account_is_not_stale(alerted_user, alert_receiver, make_account):
    make_account("hevy")
    check(timezone.now())
    assert alert_receiver.messages() == []


def test_a_subscription_that_worked_and_then_failed_is_an_alert(alerted_user, alert_receiver, make_account):
    account = make_account("withings")
    refused = {"state": "error", "message": "Withings refused the subscription: bad URL"}
    account.merge_meta(subscription=refused)
    check(timezone.now())
    assert alert_receiver.messages() == []  # never subscribed (no public HTTPS): nothing was lost
    account.merge_meta(subscription={**refused, "was_active": True})
    check(timezone.now())
    account.merge_meta(subscription={"state": "active", "message": "ok"})
    check(timezone.now())
    assert alert_receiver.titles() == [
        "fitsync: Withings stopped sending notifications: Withings refused the subscription: bad URL",
        "fitsync: solved: Withings stopped sending notifications: Withings refused the subscription: bad URL",
    ]


def test_the_web_process_reports_a_silent_worker_and_the_worker_its_return(alerted_user, alert_receiver, make_account):
    """GIVEN an open alert the web check does not cover, and a worker silent for ten minutes
    WHEN the web process checks (worker only) THEN only the silence is sent and the other alert stays open;
    WHEN the worker beats again and runs its check THEN "solved" is sent once."""
    make_account("hevy").mark_needs_reauth("Key rejected.")
    now = timezone.now()
    check(now)
    Heartbeat.objects.create(name=Heartbeat.WORKER, beat_at=now - timedelta(minutes=10))
    check(now, only_worker=True)
    check(now + timedelta(minutes=1), only_worker=True)
    assert alert_receiver.titles()[1].startswith("fitsync: The worker has been silent since ")
    assert len(alert_receiver.titles()) == 2

    Heartbeat.objects.filter(name=Heartbeat.WORKER).update(beat_at=now + timedelta(minutes=2))
    check(now + timedelta(minutes=2))
    check(now + timedelta(minutes=3), only_worker=True)
    silent = alert_receiver.titles()[1].removeprefix("fitsync: ")
    assert alert_receiver.titles()[2:] == [f"fitsync: solved: {silent}"]
    assert AlertState.objects.exclude(key="worker").get().resolved_at is None  # the reauth alert is still open


def test_an_alert_the_endpoint_refused_is_sent_on_the_next_check(alerted_user, alert_receiver, make_account):
    make_account("hevy").mark_needs_reauth("Key rejected.")
    alert_receiver.add_fault(status=500, times=1)
    now = timezone.now()
    assert check(now) == 0
    assert check(now + timedelta(minutes=10)) == 1
    assert alert_receiver.titles() == ["fitsync: Hevy needs reconnecting: Key rejected."]
    assert AlertState.objects.get().last_sent_at == now + timedelta(minutes=10)


def test_nobody_hears_of_another_users_problems(alerted_user, alert_receiver, make_account, django_user_model):
    other = django_user_model.objects.create_user("bob")
    make_account("hevy", owner=other).mark_needs_reauth("Key rejected.")
    check(timezone.now())
    assert alert_receiver.messages() == []
    assert not AlertState.objects.filter(owner=other).exists()  # bob set no URL: nothing is tracked for him


def test_after_one_refused_alert_the_rest_wait_for_the_next_check(alerted_user, alert_receiver, make_account):
    make_account("hevy").mark_needs_reauth("Key rejected.")
    make_account("intervals").mark_needs_reauth("Key rejected.")
    alert_receiver.add_fault(status=503, times=1)
    now = timezone.now()
    assert check(now) == 0
    assert len(alert_receiver.calls("POST")) == 1  # the second was not tried against a failing endpoint
    assert check(now + timedelta(minutes=10)) == 2
    assert sorted(alert_receiver.titles()) == [
        "fitsync: Hevy needs reconnecting: Key rejected.",
        "fitsync: Intervals.icu needs reconnecting: Key rejected.",
    ]
