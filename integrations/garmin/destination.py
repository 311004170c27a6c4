"""Garmin Connect as the destination of body measurements: one item in, one `SyncResult` out.

The route's destination (`roles.py`) hands over the item and the mapped `WeightRecord`; this module
decides between "unchanged", a first upload, a replacement and a delete, and records enough in
`SyncItem.sent` (samplePk, calendar day, content hash) to do the next edit or delete against exactly
the weigh-in we made.

Garmin processes uploads asynchronously. The moment it accepts our file, `sent["uploaded"]` records
the content hash of what we uploaded, so an attempt that finds the weigh-in later (after the read-back
gave up, or after a crash) records it as our upload rather than as one Garmin already had.
"""

from datetime import UTC, datetime
from decimal import Decimal

from fitsync.models import ConnectedAccount, ItemStatus, SyncItem
from fitsync.profiles import unit_of, weight_text, zone_of
from fitsync.roles import SyncResult
from fitsync.zones import clock_time

from .client import UploadConsentMissing, WeighIn
from .fit import WeightRecord
from .mapping import record_hash, sent_values
from .readback import remember_upload, uploaded_hash
from .session import garmin_session
from .weights import Placement, place_weight, remove_weight

ACTIONS = {"uploaded": "created", "duplicate": "skipped", "accepted": "created"}


def push_measurement(account: ConnectedAccount, item: SyncItem, record: WeightRecord) -> SyncResult:
    """Upload the weigh-in unless Garmin already has exactly this version of it."""
    content_hash = record_hash(record)
    previous = uploaded_weigh_in(item)
    if previous and item.sent.get("hash") == content_hash and not item.force:
        return SyncResult(action="unchanged", destination_id=item.destination_id, content_hash=content_hash)
    ours = uploaded_hash(item) == content_hash
    try:
        with garmin_session(account) as garmin:
            placement = place_weight(
                garmin,
                record,
                replacing=previous,
                ours=ours,
                leaving=being_deleted(item),
                on_uploaded=lambda: remember_upload(item, content_hash),
            )
    except UploadConsentMissing as exc:
        account.mark_error(exc.message)  # shown on the Garmin card: only the user can grant consent
        raise
    replaced = previous is not None
    return _result(placement, content_hash, sent_values(record), replaced=replaced, owner_id=account.owner_id)


def remove_measurement(account: ConnectedAccount, item: SyncItem) -> SyncResult:
    """The source deleted the measurement: delete the weigh-in we made for it, if we made one."""
    previous = uploaded_weigh_in(item)
    if previous is None:
        note = "Nothing to delete in Garmin Connect: this weigh-in was never uploaded."
        return SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=note)
    heir = heir_of(item, previous.sample_pk)
    if heir is not None:
        note = f"Kept the weigh-in in Garmin Connect: it now belongs to measurement {heir.source_id} (re-created)."
        return SyncResult(action="deleted", destination_id=previous.sample_pk, sent={"deleted": True}, note=note)
    with garmin_session(account) as garmin:
        existed = remove_weight(garmin, previous)
    note = "" if existed else "Garmin Connect no longer had this weigh-in."
    return SyncResult(action="deleted", destination_id=previous.sample_pk, sent={"deleted": True}, note=note)


def being_deleted(item: SyncItem) -> set[str]:
    """The weigh-ins other items of the route are about to delete: a measurement deleted and re-created at the
    source (a new id, the same values) must get a weigh-in of its own, not adopt the one going away."""
    leaving = SyncItem.objects.filter(account_id=item.account_id, route=item.route, operation=SyncItem.Operation.DELETE)
    leaving = leaving.exclude(status__in=(ItemStatus.SYNCED, ItemStatus.SKIPPED)).exclude(pk=item.pk)
    return set(leaving.exclude(destination_id="").values_list("destination_id", flat=True))


def heir_of(item: SyncItem, sample_pk: str) -> SyncItem | None:
    """A live item of the route that adopted this weigh-in (the re-created measurement, read before the
    deletion was known): the weigh-in is its copy now, and stays."""
    others = SyncItem.objects.filter(account_id=item.account_id, route=item.route, destination_id=sample_pk)
    return others.filter(operation=SyncItem.Operation.UPSERT).exclude(pk=item.pk).first()


def uploaded_weigh_in(item: SyncItem) -> WeighIn | None:
    """The Garmin weigh-in this item made (or matched) last time, from what the item recorded."""
    sent = item.sent or {}
    if not item.destination_id or not sent.get("calendarDate") or sent.get("deleted"):
        return None
    measured_at = datetime.fromisoformat(sent.get("timestamp") or datetime.now(UTC).isoformat())
    return WeighIn(item.destination_id, sent["calendarDate"], measured_at, weight_kg=Decimal(0))


def _result(placement: Placement, content_hash: str, values: dict, *, replaced: bool, owner_id: int) -> SyncResult:
    weigh_in = placement.weigh_in
    sent = {**values, "hash": content_hash}
    if weigh_in:
        sent |= {"samplePk": weigh_in.sample_pk, "calendarDate": weigh_in.calendar_date}
    action = "updated" if replaced and placement.how == "uploaded" else ACTIONS[placement.how]
    if placement.how == "duplicate":
        when = clock_time(weigh_in.measured_at, zone_of(owner_id), "%Y-%m-%d %H:%M")
        weight = weight_text(weigh_in.weight_kg, unit_of(owner_id), places=2)
        note = f"Garmin Connect already had this weigh-in ({weight} at {when}); not uploaded again."
        return SyncResult(ItemStatus.SKIPPED, action, weigh_in.sample_pk, content_hash, sent, note)
    note = "" if weigh_in else "Garmin Connect reported it already had this file (HTTP 409)."
    return SyncResult(ItemStatus.SYNCED, action, weigh_in.sample_pk if weigh_in else "", content_hash, sent, note)
