"""One activity per workout in Intervals.icu, whatever the bulk upload does with `external_id`.

The bulk upload is documented to update an activity with the same `external_id` only when the same
OAuth application created it; fitsync uses a personal API key, so it may create a second copy instead
(docs/upstream.md, Intervals.icu). So a known activity is changed by id (PUT); an unknown one is looked
for by `external_id` in the days around its start and adopted, or created; and after a create the same
look settles on one copy, should another writer have created it meanwhile. Copies found along the way
are deleted: the activity fitsync knows is kept, else the oldest (the one a person has seen longest).
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fitsync.errors import NotFound

from .client import IntervalsClient

log = logging.getLogger("fitsync.intervals")
# Days either side of the start date to look in: the athlete's timezone may have changed since.
WINDOW_DAYS = 1


@dataclass(frozen=True)
class Written:
    activity_id: str
    action: str  # "created" or "updated"


def save_activity(client: IntervalsClient, activity: dict, known_id: str = "", look_first: bool = True) -> Written:
    """Update the known activity (or adopt a copy found by external_id), else create it; one copy stays.

    `look_first=False` is for a workout's first attempt: it is created at once and the look for an older
    copy comes after the write, so a new workout reaches Intervals.icu as soon as the inline tools put it
    there. A retry looks first: an earlier attempt may have written before it died."""
    if not look_first and not known_id:
        return create_and_settle(client, activity)
    copies = copies_of(client, [activity]).get(activity["external_id"], [])
    updated = update_existing(client, activity, known_id, copies)
    if updated:
        return Written(updated, "updated")
    return create_and_settle(client, activity)


def create_and_settle(client: IntervalsClient, activity: dict) -> Written:
    created = str(client.create_activities([activity])[0]["id"])
    keeper = settle_after_create(client, activity, created)
    if keeper == created:
        return Written(created, "created")
    client.update_activity(keeper, activity)  # the older copy may hold an older version of the workout
    return Written(keeper, "updated")


def update_existing(client: IntervalsClient, activity: dict, known_id: str, copies: list[str]) -> str:
    """Update the known activity (or, without one, adopt the oldest copy) and delete the other copies.
    The id kept, or "" when there is nothing to update and the activity has to be created."""
    if known_id:
        try:
            client.update_activity(known_id, activity)
        except NotFound:
            log.warning(
                "Activity %s is gone from Intervals.icu; writing workout %s again", known_id, activity["external_id"]
            )
        else:
            delete_extra_copies(client, copies, keep=known_id)
            return known_id
    for keeper in [c for c in copies if c != known_id]:
        try:
            client.update_activity(keeper, activity)
        except NotFound:  # deleted between the listing and now
            continue
        delete_extra_copies(client, copies, keep=keeper)
        return keeper
    return ""


def settle_after_create(client: IntervalsClient, activity: dict, created: str) -> str:
    """Look again after creating: another writer may have created the same workout meanwhile."""
    copies = copies_of(client, [activity]).get(activity["external_id"], [])
    if created not in copies:
        copies = sorted([*copies, created], key=age_order)
    keeper = copies[0]
    if keeper != created:
        log.warning(
            "Intervals.icu answered the upload of workout %s with activity %s, but %s already holds "
            "it: keeping %s, deleting the stray copy",
            activity["external_id"],
            created,
            keeper,
            keeper,
        )
    delete_extra_copies(client, copies, keep=keeper)
    return keeper


def remove_workout(client: IntervalsClient, external_id: str, known_id: str, around: date | None) -> list[str]:
    """Delete the known activity and any copy with this external_id near `around`; the ids deleted."""
    found = copies_near(client, around, around).get(external_id, []) if around else []
    doomed = ([known_id] if known_id else []) + [i for i in found if i != known_id]
    for activity_id in doomed:
        try:
            client.delete_activity(activity_id)
        except NotFound:
            pass  # already gone (deleted by hand, or by an earlier run that crashed before recording)
    return doomed


def delete_extra_copies(client: IntervalsClient, copies: list[str], keep: str) -> None:
    for activity_id in copies:
        if activity_id != keep:
            log.warning("Deleting activity %s: a second copy of the workout kept as %s", activity_id, keep)
            try:
                client.delete_activity(activity_id)
            except NotFound:
                pass


def copies_of(client: IntervalsClient, activities: list[dict]) -> dict[str, list[str]]:
    """external_id -> ids of the activities already carrying it, oldest first, in one listing call."""
    days = [start_day(a) for a in activities if a.get("start_date_local")]
    return copies_near(client, min(days), max(days)) if days else {}


def copies_near(client: IntervalsClient, first: date, last: date) -> dict[str, list[str]]:
    listed = client.activities_between(first - timedelta(WINDOW_DAYS), last + timedelta(WINDOW_DAYS))
    copies: dict[str, list[str]] = {}
    for activity in listed:
        if activity.get("external_id"):
            copies.setdefault(str(activity["external_id"]), []).append(str(activity["id"]))
    return {external_id: sorted(ids, key=age_order) for external_id, ids in copies.items()}


def start_day(activity: dict) -> date:
    return datetime.fromisoformat(activity["start_date_local"]).date()


def age_order(activity_id: str) -> tuple[int, str]:
    """Intervals.icu numbers activities in creation order (`i47602392`): older ids sort first."""
    digits = "".join(ch for ch in activity_id if ch.isdigit())
    return (int(digits) if digits else 0, activity_id)
