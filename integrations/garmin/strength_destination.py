"""Garmin Connect as the destination of strength workouts: one activity per workout, exactly once.

The route hands over the item and the mapped `StrengthActivity`; this module decides between "unchanged",
waiting for the user's watch, a first upload (or adopting the one an earlier attempt made), skipping for or
merging with the watch's own recording, a replacement, and a delete. The activity id goes on the item.

Garmin does not de-duplicate activities and processes uploads asynchronously, so before uploading we read
the activities around the workout: one at the workout's start second, named by its title (or any name when
this item's note, written just before each upload, names this very content), is ours and is adopted, so a
retry, a replay, a worker killed mid-write or a lost database never makes a second one. After the upload
the same read finds the new activity (`readback.py`). An edit uploads the new version, names it (the PUT
fails for an activity Garmin does not have, which confirms it), and only then deletes the old one.

A watch: a Garmin `strength_training` activity overlapping the workout that fitsync did not make. For a new
workout fitsync first waits until the workout's end plus `grace_minutes` (the watch syncs through the
phone, often minutes later), as `NotYet`, which spends no attempt. Then, by the route's `watch` option:
skip (the item is skipped, naming the watch's activity), alongside (upload anyway), or merge (the watch's
heart rate and calories go into the uploaded file; the watch's activity is deleted once the merged one
exists, never before).
"""

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone
from garminconnect import Garmin

from fitsync import route_settings
from fitsync.errors import NotFound, TransientError
from fitsync.models import AccountStatus, ConnectedAccount, ItemStatus, SyncItem
from fitsync.profiles import zone_of
from fitsync.records import to_jsonable
from fitsync.roles import NotYet, SyncResult
from fitsync.sync import crash_point
from fitsync.zones import clock_time

from . import activities
from .activities import STRENGTH, GarminActivity
from .client import PROVIDER
from .readback import read_back, remember_upload, uploaded_hash
from .session import garmin_session
from .strength_activity import StrengthActivity
from .strength_fit import encode_strength_activity
from .strength_sent import exercises_sent
from .strength_text import with_measured_calories
from .watch_fit import WatchRecording, read_watch_recording

WATCH_MODES = ("skip", "alongside", "merge")
START_TOLERANCE_S = 1  # Garmin keeps the file's start to the second
FITSYNC_MAKER = "DEVELOPMENT"  # the manufacturer fitsync's files name (strength_fit.MANUFACTURER)
DELETED_HASH = "deleted"  # so a workout that comes back after a delete is written again


@dataclass(frozen=True)
class StrengthOptions:
    """The route's per-user options (`fitsync.route_settings.options_of`), with their defaults.

    `watch` defaults to "skip": fitsync then never deletes an activity it did not make, and never doubles a
    workout the watch already counted (calories, training load, intensity minutes); a merge is the user's
    choice, since it replaces the watch's recording (and what Garmin derived from it, such as its training
    effect, which Garmin does not take from uploads) with fitsync's file. `grace_minutes`: how long after a
    workout's end fitsync waits for the watch's recording to reach Garmin before deciding."""

    watch: str = "skip"
    grace_minutes: int = 30

    @classmethod
    def of(cls, owner_id: int, route_name: str) -> "StrengthOptions":
        """The user's choices; an unknown or malformed value falls back to its default."""
        chosen = route_settings.options_of(owner_id, route_name)
        watch = chosen.get("watch", cls.watch)
        try:
            grace = min(max(int(chosen.get("grace_minutes", cls.grace_minutes)), 0), 24 * 60)
        except (TypeError, ValueError):
            grace = cls.grace_minutes
        return cls(watch if watch in WATCH_MODES else cls.watch, grace)


# --- the engine's calls ---------------------------------------------------------------------------
def activity_hash(activity: StrengthActivity) -> str:
    return hashlib.sha256(json.dumps(to_jsonable(activity), sort_keys=True).encode()).hexdigest()


def current_copy(item: SyncItem) -> str:
    """The Garmin activity this item made (or adopted) last time, "" when none stands."""
    return "" if not item.destination_id or (item.sent or {}).get("deleted") else item.destination_id


def is_unchanged(item: SyncItem, activity: StrengthActivity) -> bool:
    return bool(current_copy(item)) and not item.force and item.content_hash == activity_hash(activity)


def push_workout(account: ConnectedAccount, item: SyncItem, activity: StrengthActivity) -> SyncResult:
    digest = activity_hash(activity)
    if is_unchanged(item, activity):
        return SyncResult(action="unchanged", destination_id=item.destination_id, content_hash=digest)
    options = StrengthOptions.of(account.owner_id, item.route)
    if not current_copy(item) and not uploaded_hash(item):
        wait_for_watch(activity, options, account.owner_id)
    with garmin_session(account) as garmin:
        return Placing(garmin, item, activity, digest, options).run()


def remove_workout(account: ConnectedAccount, item: SyncItem) -> SyncResult:
    """Deleted in Hevy: delete the activity fitsync made for it, if it made one."""
    made = current_copy(item)
    if not made:
        note = "Deleted in Hevy; fitsync never made a Garmin Connect activity for it, so nothing was deleted."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    crash_point("before_write")
    with garmin_session(account) as garmin:
        existed = activities.delete_activity(garmin, made)
    note = "" if existed else "Garmin Connect no longer had this activity."
    sent = {**(item.sent or {}), "deleted": True}
    return SyncResult(action="deleted", destination_id=made, content_hash=DELETED_HASH, sent=sent, note=note)


def wait_for_watch(activity: StrengthActivity, options: StrengthOptions, owner_id: int) -> None:
    """A new workout is decided only once its end plus the grace has passed (not for `alongside`, which
    uploads whatever the watch did)."""
    if options.watch == "alongside":
        return
    until = activity.end + timedelta(minutes=options.grace_minutes)
    if timezone.now() < until:
        raise NotYet(until, f"Waiting until {clock_time(until, zone_of(owner_id))} for your watch to sync.")


def latest_body_weight(owner_id: int) -> Decimal | None:
    """The user's latest Withings weight, from the measurements fitsync holds (no Withings call), while
    Withings is connected; None otherwise. Skipped measurements (another person on the scale) do not count."""
    snapshots = (
        SyncItem.objects.filter(
            account__owner_id=owner_id,
            account__provider="withings",
            account__status=AccountStatus.CONNECTED,
            occurred_at__isnull=False,
        )
        .exclude(status=ItemStatus.SKIPPED)
        .order_by("-occurred_at")
        .values_list("snapshot", flat=True)
    )
    for snapshot in snapshots[:20]:
        weight = (snapshot or {}).get("weight_kg")
        if weight:
            return Decimal(str(weight))
    return None


# --- one placement --------------------------------------------------------------------------------
class Placing:
    """One write of one workout: what Garmin holds around it, then adopt, skip, upload or replace."""

    def __init__(self, garmin: Garmin, item: SyncItem, activity: StrengthActivity, digest: str, options):
        self.garmin, self.item, self.activity, self.digest, self.options = garmin, item, activity, digest, options
        self.old = current_copy(item)
        self.sent = item.sent or {}
        self.before: set[str] = set()  # the activities Garmin held before this upload

    def run(self) -> SyncResult:
        around = self.around()
        self.before = {a.activity_id for a in around}
        uploaded = self.sent.get("uploaded") or {}
        ours = self.ours(around, any_name=uploaded.get("hash") == self.digest)
        if not ours and uploaded.get("hash") == self.digest:
            ours = self.still_processing()
        if ours and self.item.force and uploaded.get("hash") != self.digest:
            self.old, ours = ours.activity_id, None  # a resync replaces what it finds, whatever it holds
        if not ours and not self.old:
            self.old = self.stale_copy(around)
        if ours:  # an earlier attempt (or fitsync before a lost database) uploaded it: adopt it
            watch_sent = uploaded.get("watch") or self.recorded_watch()
            activity = self.with_recording(WatchRecording((), _merged_calories(watch_sent)))
            return self.finish(ours.activity_id, watch_sent, uploaded.get("merged_from", ""), activity)
        watch = None if self.old else self.watch(around)
        if watch and self.options.watch == "skip":
            return self.skipped(watch)
        recording = self.recording(watch)
        if watch and self.options.watch == "merge" and recording is None:
            watch = None  # gone since the listing: nothing to merge with
        merged_from = watch.activity_id if watch and self.options.watch == "merge" else ""
        watch_sent = self.watch_sent(watch, recording) if watch else self.recorded_watch()
        activity = self.with_recording(recording)
        data = encode_strength_activity(activity, recording.heart_rates if recording else ())
        new_id = self.upload(data, merged_from, watch_sent)
        return self.finish(new_id, watch_sent, merged_from, activity)

    # --- reading Garmin ---------------------------------------------------------------------------
    def around(self) -> list[GarminActivity]:
        """Garmin's activities from the day before the workout to the day after, in the user's zone."""
        zone = _zone(self.garmin.time_zone)
        first: date = (self.activity.start.astimezone(zone) - timedelta(days=1)).date()
        last: date = (self.activity.end.astimezone(zone) + timedelta(days=1)).date()
        return activities.activities_between(self.garmin, first, last)

    def ours(self, around: list[GarminActivity], *, any_name: bool) -> GarminActivity | None:
        """The activity fitsync uploaded for this workout: at its start second, with its title (any name
        when this item uploaded this very content), other than the one being replaced."""
        for candidate in around:
            if candidate.activity_id != self.old and self.at_start(candidate):
                if any_name or candidate.name == self.activity.title:
                    return candidate
        return None

    def still_processing(self) -> GarminActivity | None:
        """An earlier attempt uploaded this very file and died before finding it: Garmin may still be
        processing it, so it gets the read-back an upload gets before it is uploaded again."""
        return read_back(lambda: self.ours(self.around(), any_name=True), looked=True)

    def stale_copy(self, around: list[GarminActivity]) -> str:
        """After a lost database: a file of fitsync's maker at the workout's start second under another
        name (the workout was renamed in Hevy meanwhile, or the activity by hand) is an older copy of this
        workout: it is replaced, not adopted, and not taken for a watch's recording."""
        for candidate in around:
            if self.at_start(candidate) and candidate.manufacturer.upper() == FITSYNC_MAKER:
                return candidate.activity_id
        return ""

    def at_start(self, candidate: GarminActivity) -> bool:
        return abs((candidate.start - self.activity.start).total_seconds()) <= START_TOLERANCE_S

    def watch(self, around: list[GarminActivity]) -> GarminActivity | None:
        """A strength activity overlapping the workout that fitsync did not make (a watch's recording): not
        one an item of the route names, nor one at the workout's very start second (fitsync's own, renamed
        by hand, after a lost database), nor one from a file of fitsync's maker (`development`)."""
        made = set(
            SyncItem.objects.filter(account_id=self.item.account_id, route=self.item.route)
            .exclude(destination_id="")
            .values_list("destination_id", flat=True)
        )
        overlapping = [
            a
            for a in around
            if a.type_key == STRENGTH
            and a.overlaps(self.activity.start, self.activity.end)
            and a.activity_id not in made
            and not self.at_start(a)
            and a.manufacturer.upper() != FITSYNC_MAKER
        ]
        return max(overlapping, key=self._overlap, default=None)

    def _overlap(self, other: GarminActivity) -> float:
        return (min(other.end, self.activity.end) - max(other.start, self.activity.start)).total_seconds()

    def recording(self, watch: GarminActivity | None) -> WatchRecording | None:
        """The heart rate and calories to put in the file: the watch's for a merge; on an edit of a merged
        workout, those of the merged activity being replaced (the watch's own is gone by then)."""
        if watch and self.options.watch == "merge":
            source = watch.activity_id
        elif self.old and (self.recorded_watch() or {}).get("mode") == "merge":
            source = self.old
        else:
            return None
        try:
            return read_watch_recording(activities.original_file(self.garmin, source))
        except NotFound:  # deleted since the listing (by hand, say): nothing to take from it
            return None

    def with_recording(self, recording: WatchRecording | None) -> StrengthActivity:
        if recording is None or recording.calories is None:
            return self.activity
        description = with_measured_calories(self.activity.description, recording.calories)
        return replace(
            self.activity, calories_kcal=recording.calories, calories_estimated=False, description=description
        )

    # --- writing ------------------------------------------------------------------------------------
    def upload(self, data: bytes, merged_from: str, watch_sent: dict | None) -> str:
        """Upload the file and find the activity it made; its id. The item's note says what a retry needs
        to adopt it: the content, and the watch activity a merge still has to delete. It is written before
        the upload: a worker killed just after it would otherwise leave a retry that adopts the activity by
        its title but no longer knows the watch's recording it was merged with, which then stays beside it.
        A note of an upload that never happened (the call failed, or the worker died first) only lets the
        retry take any name at the workout's start second; finding nothing there, it uploads."""
        details = {"merged_from": merged_from, "watch": watch_sent} if watch_sent else {}
        remember_upload(self.item, self.digest, **details)
        crash_point("before_write")
        answer = activities.upload_activity(self.garmin, data, f"hevy-{self.item.source_id}.fit")
        crash_point("after_upload")
        named = self.named_id(answer, merged_from)
        if named:
            return named
        found = read_back(lambda: self.ours(self.around(), any_name=True))
        if found:
            return found.activity_id
        # Still processing: the retry's read finds it, and the item's note says it is ours.
        raise TransientError(
            "Garmin Connect accepted the workout but does not list it yet; fitsync looks again shortly",
            provider=PROVIDER,
        )

    def named_id(self, answer, merged_from: str) -> str:
        """The id Garmin's answer names for our file: a new activity processed at once, or the twin of a
        duplicate (the old version on a resync, or ours renamed by hand). Never the watch activity a merge
        is about to delete, and never, as a new one, an activity Garmin held before: peers report Garmin
        answering an upload with an existing activity's id when it took the file for a duplicate of it."""
        for activity_id in answer.ids:
            if activity_id != merged_from and (answer.duplicate or activity_id not in self.before):
                return activity_id
        return ""

    def finish(self, new_id: str, watch_sent: dict | None, merged_from: str, activity: StrengthActivity) -> SyncResult:
        """Name and describe the new activity (the PUT fails for an activity Garmin does not have: it
        confirms the upload), and only then delete what it replaces: the old version, the watch's own."""
        activities.describe(self.garmin, new_id, activity.title, activity.description)
        crash_point("after_naming")  # the new activity stands beside what it replaces
        replaced = bool(self.old) and self.old != new_id
        if replaced:
            activities.delete_activity(self.garmin, self.old)
        if merged_from:
            activities.delete_activity(self.garmin, merged_from)
            watch_sent = {**(watch_sent or {}), "deleted": True}
        sent = {
            "activityId": new_id,
            "hash": self.digest,
            "title": activity.title,
            "start": activity.start.isoformat(),
            "calories": _calories(activity, watch_sent),
            "watch": watch_sent,
            "exercises": exercises_sent(activity),
        }
        if replaced:
            sent["replaced"] = self.old
        action = "updated" if replaced else "unchanged" if new_id == self.old else "created"
        return SyncResult(ItemStatus.SYNCED, action, new_id, self.digest, sent, _note(watch_sent))

    def skipped(self, watch: GarminActivity) -> SyncResult:
        when = clock_time(watch.start, zone_of(self.item.account.owner_id))
        note = (
            f"Your watch recorded this workout: Garmin Connect activity {watch.activity_id} "
            f"(“{watch.name}”, started {when}). fitsync uploaded no second activity (watch option: skip)."
        )
        sent = {"watch": {"mode": "skip", "activity_id": watch.activity_id, "name": watch.name}}
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", sent=sent, note=note)

    def watch_sent(self, watch: GarminActivity, recording: WatchRecording | None) -> dict:
        sent = {"mode": self.options.watch, "activity_id": watch.activity_id, "name": watch.name}
        if recording is not None:
            sent |= {"calories": recording.calories, "heart_rate_samples": len(recording.heart_rates)}
        return sent

    def recorded_watch(self) -> dict | None:
        """What an earlier attempt or version recorded of the watch, carried over."""
        watch = self.sent.get("watch")
        return watch if isinstance(watch, dict) and watch.get("mode") != "skip" else None


def _merged_calories(watch_sent: dict | None) -> int | None:
    return watch_sent.get("calories") if watch_sent and watch_sent.get("mode") == "merge" else None


def _calories(activity: StrengthActivity, watch_sent: dict | None) -> dict:
    if _merged_calories(watch_sent) is not None and not activity.calories_estimated:
        return {"kcal": activity.calories_kcal, "source": "watch"}
    source = "estimate" if activity.calories_estimated else ""
    return {"kcal": activity.calories_kcal, "source": source}


def _note(watch_sent: dict | None) -> str:
    if not watch_sent:
        return ""
    if watch_sent.get("mode") == "merge":
        return (
            f"Merged with your watch's recording (Garmin Connect activity {watch_sent['activity_id']}): its heart "
            "rate and calories are in this activity, and its own activity was deleted."
        )
    if watch_sent.get("mode") == "alongside":
        return f"Uploaded alongside your watch's recording (Garmin Connect activity {watch_sent['activity_id']})."
    return ""


def _zone(name: str | None):
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
