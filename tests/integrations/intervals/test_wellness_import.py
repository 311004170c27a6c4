"""A Withings history imported into Intervals.icu wellness days in bulk (`fitsync.imports` through the route,
`PUT /wellness-bulk` per batch), against both fakes, under both settings of the `wellness_put` switch.

GIVEN 200 weigh-ins over 120 days at Withings (two on most days, one day split between two batches),
WHEN the history is imported with the pick "average", THEN Intervals.icu holds one record per day with
the day's averages, a locked day is left alone and its weigh-in skipped, and a weigh-in added later to a
day the first import wrote is averaged with the one fitsync already holds.
"""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from fitsync.imports import ImportOptions, import_history
from fitsync.models import ItemStatus, SyncItem
from integrations.withings import auth as withings_auth
from sandbox.mock import mount
from sandbox.withings import WithingsFake

from . import wellness_support
from .wellness_support import ATHLETE, ROUTE, choose_pick, wellness_puts

pytestmark = pytest.mark.django_db
route, rsps, intervals, accounts = (
    wellness_support.route,
    wellness_support.rsps,
    wellness_support.intervals,
    wellness_support.accounts,
)
CLIENT_ID, SECRET, USERID = "fitsync-wellness-test", "withings-secret", 31400001
DAYS, BATCH = 120, 50
FIRST_DAY = (timezone.now() - timedelta(days=DAYS + 10)).replace(hour=6, minute=10, second=0, microsecond=0)
LOCKED_DAY = 100  # the athlete locked it, with a weight of their own


@pytest.fixture
def withings(settings, rsps, accounts, user):
    """The fake Withings holding the history, and the route's Withings account connected to it."""
    settings.WITHINGS_CLIENT_ID, settings.WITHINGS_CLIENT_SECRET = CLIENT_ID, SECRET
    settings.INTERVALS_BULK_BATCH_SIZE = BATCH
    settings.WITHINGS_REQUESTS_PER_MINUTE = 0  # no pacing here
    fake = WithingsFake(page_size=100)
    fake.add_app(CLIENT_ID, SECRET, ["http://testserver/withings/callback/"])
    fake.add_user(userid=USERID, timezone="Europe/Berlin", height_m=Decimal("1.80"))
    mount(rsps, fake, settings.WITHINGS_API_URL)
    tokens = fake.issue_tokens(CLIENT_ID, USERID)
    token_set = withings_auth.client.TokenSet(
        str(USERID), tokens["access_token"], tokens["refresh_token"], tokens["expires_in"], tokens["scope"]
    )
    return fake, withings_auth.save_tokens(user, token_set).account  # the route's Withings account, with tokens


def weigh_ins_per_day() -> list[int]:
    """One on the first day, two on each of the next 80, one on each of the last 39: 200 in all. Oldest first,
    the 50th and 51st weigh-ins fall on day 25, so that day is split between the first two batches."""
    return [1] + [2] * 80 + [1] * (DAYS - 81)


def seed(fake: WithingsFake, groups: dict | None = None) -> dict[int, list[Decimal]]:
    """day number -> its weights; the morning weigh-in k/100 kg above 80, the evening's 0.40 kg lighter.
    `groups` gets day number -> the grpids of its weigh-ins."""
    weights = {}
    for day, count in enumerate(weigh_ins_per_day()):
        morning = FIRST_DAY + timedelta(days=day)
        weights[day] = [Decimal("80.00") + Decimal(day) / 100 - Decimal("0.40") * n for n in range(count)]
        for n, weight in enumerate(weights[day]):
            fat = Decimal("20.00") - Decimal("0.40") * n
            grpid = fake.add_measurement(USERID, morning + timedelta(hours=12 * n), weight, fat_ratio=fat)
            (groups if groups is not None else {}).setdefault(day, []).append(grpid)
    return weights


def local_day(number: int) -> str:
    return timezone.localtime(FIRST_DAY + timedelta(days=number), timezone=ZoneInfo("Europe/Berlin")).date().isoformat()


def test_a_history_lands_one_record_per_day_in_bulk(withings, intervals, accounts):
    fake, account = withings
    choose_pick(accounts[1], "average")
    weights = seed(fake)
    assert sum(len(w) for w in weights.values()) == 200 and len(weights) == DAYS
    intervals.set_wellness(ATHLETE, local_day(30), comments="travel day")
    intervals.set_wellness(ATHLETE, local_day(LOCKED_DAY), weight=70.0, locked=True)

    report = import_history(ROUTE, account, ImportOptions())

    assert (report.created, report.skipped, report.failed) == (199, 1, 0)
    bodies = [entry.json() for entry in intervals.calls("PUT", r"/wellness-bulk$")]
    assert len(bodies) == 4 and intervals.calls("PUT", r"/wellness/") == []  # one bulk PUT per batch of 50
    assert sum(local_day(25) in {record["id"] for record in body} for body in bodies) == 2  # the split day
    days = intervals.wellness(ATHLETE)
    assert sorted(days) == sorted(local_day(n) for n in range(DAYS))
    for number, day_weights in weights.items():
        if number != LOCKED_DAY:
            day = days[local_day(number)]
            expected = sum(day_weights) / len(day_weights)
            assert (day["weight"], day["bodyFat"]) == (float(expected), 20.0 if len(day_weights) == 1 else 19.8)
    assert (days[local_day(25)]["weight"], days[local_day(25)]["bodyFat"]) == (80.05, 19.8)  # split in two batches
    assert days[local_day(30)]["comments"] == "travel day" and days[local_day(LOCKED_DAY)]["weight"] == 70.0
    locked = SyncItem.objects.get(route=ROUTE.name, destination_id="", status=ItemStatus.SKIPPED)
    assert locked.last_error == (
        f"Intervals.icu's wellness record for {local_day(LOCKED_DAY)} is locked; unlock it there and press Resync."
    )
    items = SyncItem.objects.filter(route=ROUTE.name, status=ItemStatus.SYNCED)
    assert items.count() == 199 and set(items.values_list("destination_id", flat=True)) == set(days) - {
        local_day(LOCKED_DAY)
    }


def test_a_weigh_in_added_later_is_averaged_with_the_ones_fitsync_holds(withings, intervals, accounts):
    fake, account = withings
    choose_pick(accounts[1], "average")
    weights = seed(fake)
    import_history(ROUTE, account, ImportOptions())
    puts = len(wellness_puts(intervals))

    again = import_history(ROUTE, account, ImportOptions())  # nothing changed at Withings
    assert (again.created, again.updated, again.unchanged, len(wellness_puts(intervals))) == (0, 0, 200, puts)

    evening = FIRST_DAY + timedelta(days=90, hours=12)  # day 90 had one weigh-in
    fake.add_measurement(USERID, evening, Decimal("80.10"), fat_ratio=Decimal("19.00"))
    report = import_history(ROUTE, account, ImportOptions())
    assert (report.created, report.unchanged) == (1, 200)
    day = intervals.wellness(ATHLETE)[local_day(90)]
    assert (day["weight"], day["bodyFat"]) == (float((weights[90][0] + Decimal("80.10")) / 2), 19.5)


def test_a_weigh_in_moved_to_another_day_leaves_its_former_day(withings, intervals, accounts):
    fake, account = withings
    choose_pick(accounts[1], "average")
    groups = {}
    weights = seed(fake, groups)
    import_history(ROUTE, account, ImportOptions())

    [moved] = groups[95]  # the only weigh-in of day 95, its time corrected at Withings to the next day
    fake.edit_measurement(moved, when=FIRST_DAY + timedelta(days=96, hours=1))
    report = import_history(ROUTE, account, ImportOptions())

    assert (report.updated, report.unchanged) == (1, 199)
    days = intervals.wellness(ATHLETE)
    assert (days[local_day(95)].get("weight"), days[local_day(95)].get("bodyFat")) == (None, None)
    assert weights[95] + weights[96] == [Decimal("80.95"), Decimal("80.96")]
    assert days[local_day(96)]["weight"] == 80.96  # their average, 80.955, to two decimals rounded half up
