"""A `BodyMeasurement` -> a FIT `WeightRecord`, and which Garmin weigh-in is "the same": pure, no I/O."""

import hashlib
import json
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from fitsync.errors import PermanentError
from fitsync.records import BodyMeasurement

from .client import PROVIDER, WeighIn
from .fit import WEIGHT_SCALE_FIELDS, WeightRecord, encode_weight_file

CENTI = Decimal("0.01")


# Withings measures whose unit no public source states (the spec lists types 226 "Basal Metabolic
# Rate" and 227 "Metabolic Age" without one): kept in the item's snapshot, never sent to Garmin, whose
# FIT fields want kcal/day and years. See docs/upstream.md, "Withings" and "FIT files".
NOT_SENT_UNCONFIRMED_UNITS = ("bmr_kcal", "metabolic_age")


def checked_weight_record(measurement: BodyMeasurement, target=None) -> WeightRecord:
    """The route's mapping: the FIT record, its values range-checked (by encoding it) before any upload."""
    try:
        record = weight_record_from_measurement(measurement)
        encode_weight_file([record], time_created=measurement.measured_at)
    except ValueError as exc:
        raise PermanentError(f"This weigh-in cannot be written as a FIT file: {exc}", provider=PROVIDER) from exc
    return record


def weight_record_from_measurement(measurement: BodyMeasurement) -> WeightRecord:
    """Every field Withings gave us whose unit is confirmed, in the units the FIT weight_scale message wants.

    Hydration (type 77) arrives in kg and goes out as % of body weight; Withings' visceral fat (type
    170) is a unitless index, i.e. Garmin's unitless visceral_fat_rating, not a mass. BMR and
    metabolic age are not sent (NOT_SENT_UNCONFIRMED_UNITS). The FIT encoder rounds half-up.
    """
    if not measurement.weight_kg:
        raise ValueError(f"measurement {measurement.source_id} has no weight")
    return WeightRecord(
        timestamp=measurement.measured_at,
        weight_kg=measurement.weight_kg,
        percent_fat=measurement.fat_ratio_pct,
        percent_hydration=measurement.hydration_pct,
        bone_mass_kg=measurement.bone_mass_kg,
        muscle_mass_kg=measurement.muscle_mass_kg,
        visceral_fat_rating=measurement.visceral_fat,
        bmi=measurement.bmi,
    )


def sent_values(record: WeightRecord) -> dict:
    """The record as the FIT file carries it (rounded like the encoder), as JSON-friendly strings."""
    values = {"timestamp": record.timestamp.isoformat()}
    for field in WEIGHT_SCALE_FIELDS:
        value = getattr(record, field.name)
        if value is not None:
            step = Decimal(1) / field.scale
            values[field.name] = str((Decimal(str(value)) / step).quantize(Decimal(1), ROUND_HALF_UP) * step)
    return values


def record_hash(record: WeightRecord) -> str:
    """Changes exactly when the uploaded file would change (so a re-read group uploads nothing)."""
    return hashlib.sha256(json.dumps(sent_values(record), sort_keys=True).encode()).hexdigest()


def is_same_weigh_in(record: WeightRecord, weigh_in: WeighIn, seconds: int, kg: Decimal) -> bool:
    """Within ±`seconds` and ±`kg` (both edges inclusive) of the weight as it would be uploaded."""
    weight = Decimal(str(record.weight_kg)).quantize(CENTI, ROUND_HALF_UP)
    close_in_time = abs(weigh_in.measured_at - record.timestamp) <= timedelta(seconds=seconds)
    return close_in_time and abs(weigh_in.weight_kg - weight) <= kg


def matching_weigh_in(
    record: WeightRecord, weigh_ins: list[WeighIn], seconds: int, kg: Decimal, *, ignore: set[str] = frozenset()
) -> WeighIn | None:
    """The closest weigh-in that counts as this record (nearest in time, then weight), if any."""
    candidates = [w for w in weigh_ins if w.sample_pk not in ignore and is_same_weigh_in(record, w, seconds, kg)]
    weight = Decimal(str(record.weight_kg))
    return min(
        candidates,
        key=lambda w: (abs(w.measured_at - record.timestamp), abs(w.weight_kg - weight)),
        default=None,
    )
