"""Withings measurements -> Garmin Connect weigh-ins."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction

from fitsync import sync
from fitsync.errors import PermanentError
from fitsync.models import ConnectedAccount, ItemStatus, SyncItem, SyncRun
from fitsync.records import BodyMeasurement, measurement_from_jsonable, to_jsonable
from integrations.garmin import destination as garmin_destination
from integrations.withings.mapping import ambiguity_reason

ROUTE = "withings_garmin"
CENTI = Decimal("0.01")


def sync_measurement(context: sync.SyncContext) -> sync.SyncResult:
    """Put one Withings measurement into Garmin Connect exactly once (or take it out again)."""
    item = context.item
    if item.operation == SyncItem.Operation.DELETE:
        return garmin_destination.remove_measurement(context.destination, item)
    if not item.snapshot:
        raise PermanentError("This item holds no Withings measurement to upload")
    measurement = measurement_from_jsonable(item.snapshot)
    return garmin_destination.push_measurement(context.destination, item, measurement)


# --- from the Withings fetch into items -----------------------------------------------------------
def ingest_measurements(
    account: ConnectedAccount, measurements: list[BodyMeasurement], run: SyncRun, *, lift_cap: bool = False
) -> dict:
    """Upsert a withings_garmin item per measurement and queue the new or changed ones.

    Returns counts: created, updated, unchanged, skipped (ambiguous), held.
    """
    counts = dict.fromkeys(("created", "updated", "unchanged", "skipped", "held"), 0)
    for measurement in measurements:
        status, note = decide_status(measurement, counts, lift_cap)
        with transaction.atomic():
            outcome = store_measurement(account, measurement, status, note, lift_cap)
        counts[outcome] += 1
    run.bump(
        created=counts["created"],
        updated=counts["updated"],
        skipped=counts["skipped"],
        held=counts["held"],
        done=len(measurements),
    )
    return counts


def decide_status(measurement: BodyMeasurement, counts: dict, lift_cap: bool) -> tuple[str, str]:
    """(status, note) for a measurement about to be stored; the per-run safety cap belongs here."""
    reason = ambiguity_reason(measurement)
    if reason and not settings.WITHINGS_INCLUDE_AMBIGUOUS:
        return ItemStatus.SKIPPED, f"{reason}. Set WITHINGS_INCLUDE_AMBIGUOUS=1 to sync such weigh-ins."
    # Safety cap: a run uploads at most GARMIN_MAX_UPLOADS_PER_RUN weights unless the user lifted it;
    # the rest are held (never dropped) until "Upload held weights" or a manual run that lifts the cap.
    if not lift_cap and counts["created"] + counts["updated"] >= settings.GARMIN_MAX_UPLOADS_PER_RUN:
        return ItemStatus.HELD, f"Held by the safety cap of {settings.GARMIN_MAX_UPLOADS_PER_RUN} uploads per run."
    return ItemStatus.PENDING, ""


def store_measurement(account, measurement: BodyMeasurement, status: str, note: str, lift_cap: bool) -> str:
    """Upsert one item (inside a transaction); returns created, updated, unchanged or skipped."""
    snapshot = measurement_snapshot(measurement)
    existing = SyncItem.objects.filter(account=account, route=ROUTE, source_id=measurement.source_id).first()
    was_skipped = existing is not None and existing.status == ItemStatus.SKIPPED
    if existing and existing.snapshot == snapshot and (not was_skipped or status == ItemStatus.SKIPPED):
        return "unchanged"  # a re-read group (cursor overlap, a second notification) changes nothing
    fields = {"title": title_of(measurement), "occurred_at": measurement.measured_at, "snapshot": snapshot}
    fields["last_error"] = note
    if status != ItemStatus.PENDING:
        fields["status"] = status  # pending is upsert_item's default, and it keeps a running item running
    if lift_cap:
        fields["lift_cap"] = True
    item_id, created = sync.upsert_item(account.pk, ROUTE, measurement.source_id, **fields)
    if status == ItemStatus.PENDING:
        sync.enqueue([item_id])
    if status != ItemStatus.PENDING:
        return status
    return "created" if created else "updated"


def measurement_snapshot(measurement: BodyMeasurement) -> dict:
    """The record as JSON plus derived values (hydration % of weight, BMI) for the dashboard."""
    hydration = measurement.hydration_pct
    return {
        **to_jsonable(measurement),
        "hydration_pct": str(hydration.quantize(CENTI, ROUND_HALF_UP)) if hydration is not None else None,
    }


def title_of(measurement: BodyMeasurement) -> str:
    return f"{measurement.weight_kg.quantize(CENTI, ROUND_HALF_UP)} kg" if measurement.weight_kg else "Measurement"
