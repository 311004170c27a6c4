"""The wellness fields a weigh-in fills for an athlete: `weight` and `bodyFat` always, and the rest of the
body composition in the athlete's own custom wellness fields, when they exist.

Intervals.icu has no field of its own for muscle, bone or body water. An athlete adds custom wellness
fields (custom items of type INPUT_FIELD, each named by a `code`, returned at the top level of the day's
record); fitsync fills the numeric ones whose code it knows (CUSTOM, case-sensitive). Intervals.icu's
`hydration` is a subjective 1-4 score and `hydrationVolume` the litres drunk: body water goes to neither.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .. import auth

INPUT_FIELD = "INPUT_FIELD"  # a custom wellness field (ACTIVITY_FIELD and INTERVAL_FIELD are an activity's)


@dataclass(frozen=True)
class WellnessField:
    name: str  # Intervals.icu's field, or the code of the athlete's custom field
    label: str  # how the route's card names it
    attribute: str  # the `BodyMeasurement` value it carries
    custom: bool = False


STANDARD = (
    WellnessField("weight", "Weight (kg)", "weight_kg"),
    WellnessField("bodyFat", "Body fat (%)", "fat_ratio_pct"),
)
# BMR and metabolic age go as Withings reports them: a custom field has no unit, and Withings states none.
CUSTOM = tuple(
    WellnessField(code, label, attribute, custom=True)
    for code, label, attribute in (
        ("MuscleMass", "Muscle mass (kg)", "muscle_mass_kg"),
        ("BoneMass", "Bone mass (kg)", "bone_mass_kg"),
        ("BodyWater", "Body water (kg)", "hydration_kg"),
        ("BodyWaterPercent", "Body water (% of weight)", "hydration_pct"),
        ("FatMass", "Fat mass (kg)", "fat_mass_kg"),
        ("LeanBodyMass", "Fat-free mass (kg)", "fat_free_mass_kg"),
        ("VisceralFat", "Visceral fat (index)", "visceral_fat"),
        ("BMR", "Basal metabolic rate (as Withings reports it)", "bmr_kcal"),
        ("MetabolicAge", "Metabolic age (as Withings reports it)", "metabolic_age"),
        ("BMI", "BMI", "bmi"),
    )
)


def fields_sent(custom_codes: Iterable[str]) -> tuple[WellnessField, ...]:
    """The fields a weigh-in fills for an athlete whose numeric custom wellness fields have these codes."""
    codes = set(custom_codes)
    return STANDARD + tuple(field for field in CUSTOM if field.name in codes)


def wellness_field_codes(custom_items: list[dict]) -> frozenset[str]:
    """The codes of the athlete's numeric custom wellness fields, from `GET /athlete/{id}/custom-item`."""
    codes = set()
    for item in custom_items:
        content = item.get("content")
        if item.get("type") == INPUT_FIELD and isinstance(content, dict) and content.get("type") == "numeric":
            if isinstance(content.get("code"), str):
                codes.add(content["code"])
    return frozenset(codes)


def fields_sent_for(account) -> tuple[WellnessField, ...]:
    """What the route's card shows: the fields a weigh-in fills for this Intervals.icu account (asks it)."""
    return fields_sent(wellness_field_codes(auth.client_for(account).custom_items()))
