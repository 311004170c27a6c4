"""A workout's sets in words, as a lifter writes them: the one formatter for every destination's text and
for the dashboard's workout page."""

from decimal import ROUND_HALF_UP, Decimal

from .records import ExerciseSet
from .units import from_kg

KIND_LABELS = {"warmup": "warm-up ", "dropset": "drop ", "failure": ""}


def set_line(exercise_set: ExerciseSet, title: str, unit: str = "kg") -> str:
    """One set with its kind: "warm-up 40 kg × 10", "80 kg × 5 to failure", "drop 60 kg × 12", "2 km in 8:20"."""
    assisted = "assisted" in title.casefold()
    text = KIND_LABELS.get(exercise_set.kind, "") + set_text(exercise_set, title, assisted, unit)
    return text + " to failure" if exercise_set.kind == "failure" else text


def set_text(row: ExerciseSet, title: str = "", assisted: bool = False, unit: str = "kg") -> str:
    """'85 kg × 6 @ RPE 8', '12 reps', '2 km in 7:58', '32 kg for 40 m', '1:00'; an assisted exercise's
    weight is the machine's help: 'assist 20 kg × 8'."""
    weight = f"{'assist ' if assisted else ''}{weight_text(row.weight_kg, unit)}" if row.weight_kg else ""
    parts = []
    if row.reps is not None:
        parts.append(f"{weight} × {row.reps}" if weight else f"{row.reps} reps")
    elif weight:
        parts.append(weight)
    if row.distance_m:
        parts.append(("for " if parts else "") + format_distance(row.distance_m))
    if row.duration_s:
        parts.append(("in " if row.distance_m else "for " if parts else "") + format_duration(row.duration_s))
    if row.custom_metric is not None:
        parts.append(f"· {format_number(row.custom_metric)} {custom_unit(title)}".rstrip())
    text = " ".join(parts) or "no values logged"
    return text + (f" @ RPE {format_number(row.rpe)}" if row.rpe is not None else "")


def weight_text(kilograms: Decimal, unit: str = "kg") -> str:
    """As logged in kg ('82.5 kg'); in pounds to a tenth ('181.9 lb'), as a lifter reads a converted weight."""
    if unit == "kg":
        return f"{format_number(kilograms)} kg"
    return f"{format_number(from_kg(kilograms, unit), 1)} {unit}"


def custom_unit(title: str) -> str:
    """Hevy's custom_metric is floors or steps on stair machines; the title says which."""
    lowered = title.lower()
    return "floors" if "floor" in lowered else "steps" if "step" in lowered else ""


def format_number(value: Decimal | None, places: int = 2) -> str:
    """12.5 -> '12.5', 85 -> '85', 20.4117 -> '20.41', 12345.6 -> '12,345.6' (pounds converted by Hevy)."""
    rounded = Decimal(value or 0).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    text = f"{rounded:,.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_distance(metres: Decimal) -> str:
    if metres >= 1000:
        return f"{format_number(metres / 1000)} km"
    return f"{format_number(metres, 1)} m"


def format_duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
