"""Calories of an uploaded workout: estimated from the latest Withings weight fitsync holds, and labelled so.

Also: the Garmin calls of a workout wait for the instance's one Garmin pacer, weigh-ins' and activities' alike.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest

from fitsync import route_settings
from fitsync.models import AccountStatus, SyncItem
from fitsync.routes import ROUTES
from fitsync.throttle import pacer
from integrations.garmin import client
from integrations.garmin.strength_destination import StrengthOptions, latest_body_weight
from tests.items import put_in_state

from .strength_world import StrengthWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_account, settings, monkeypatch):
    with StrengthWorld(make_account, settings, monkeypatch).running() as world:
        yield world


@pytest.fixture
def withings(make_account):
    account = make_account("withings")

    def weigh(weight: str, days_ago: int) -> SyncItem:
        at = datetime(2024, 5, 14, 6, 30, tzinfo=UTC) - timedelta(days=days_ago)
        snapshot = {"source_id": f"m{days_ago}", "measured_at": at.isoformat(), "weight_kg": weight}
        return SyncItem.objects.create(
            account=account, route="withings_garmin", source_id=f"m{days_ago}", occurred_at=at, snapshot=snapshot
        )

    weigh.account = account
    return weigh


def test_without_withings_the_activity_carries_no_calories(world):
    item = world.run(world.item(world.workout()))
    session = world.messages(item.destination_id)["session"][0]
    assert "total_calories" not in session and "kcal" not in world.activity(item.destination_id)["description"]
    assert item.sent["calories"] == {"kcal": None, "source": ""}


def test_with_withings_the_latest_weight_gives_an_estimate_labelled_as_one(world, withings):
    withings("82.40", days_ago=9)
    withings("80.00", days_ago=2)
    item = world.run(world.item(world.workout()))  # 80 minutes at 3.5 MET and 80 kg: 373 kcal
    assert world.messages(item.destination_id)["session"][0]["total_calories"] == 373
    description = world.activity(item.destination_id)["description"]
    assert description.endswith("About 373 kcal, estimated from body weight and duration at 3.5 MET.")
    assert item.sent["calories"] == {"kcal": 373, "source": "estimate"}


def test_the_weight_is_the_latest_usable_one_of_a_connected_withings(user, withings):
    withings("80.00", days_ago=2)
    assert latest_body_weight(user.pk) == 80
    skipped = withings("55.00", days_ago=1)  # ambiguous: maybe another person on the scale
    put_in_state(SyncItem.objects.filter(pk=skipped.pk), status="skipped")
    assert latest_body_weight(user.pk) == 80
    withings.account.status = AccountStatus.NEEDS_REAUTH
    withings.account.save()
    assert latest_body_weight(user.pk) is None


def test_options_come_from_the_route_settings_and_fall_back_to_their_defaults(user):
    route = ROUTES["hevy_garmin"]
    assert StrengthOptions.of(user.pk, route.name) == StrengthOptions("skip", 30)  # the options form's initials
    route_settings.save_options(user, route, {"watch": "?", "grace_minutes": "x"})  # stored by an older version
    assert StrengthOptions.of(user.pk, route.name) == StrengthOptions("skip", 30)
    route_settings.save_options(user, route, {"watch": "merge", "grace_minutes": 5})
    assert StrengthOptions.of(user.pk, route.name) == StrengthOptions("merge", 5)


def test_garmin_calls_go_through_the_one_garmin_pacer_and_a_429_holds_every_caller(world, settings):
    settings.GARMIN_REQUESTS_PER_SECOND = 50
    world.garmin.add_fault(method="GET", path=r"^/activitylist-service/", status=429, retry_after=30)
    before = time.time()
    item = world.run(world.item(world.workout()))
    assert (item.status, item.attempts) == ("pending", 0)  # rate limited: the engine retries later, no attempt spent
    state = pacer(client.PROVIDER, 50, client.START_PER_SECOND).state()
    assert state.hold_until >= before + 29 and state.strikes == 1  # weigh-ins wait behind the same hold
