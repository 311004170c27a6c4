"""A workout's sets in words, as a lifter writes them: the one formatter every destination's text uses."""

from decimal import ROUND_HALF_UP, Decimal

from .records import ExerciseSet


def set_text(row: ExerciseSet, title: str = "", assisted: bool = False) -> str:
    """'85 kg × 6 @ RPE 8', '12 reps', '2 km in 7:58', '32 kg for 40 m', '1:00'; an assisted exercise's
    weight is the machine's help: 'assist 20 kg × 8'."""
    weight = f"{'assist ' if assisted else ''}{format_number(row.weight_kg)} kg" if row.weight_kg else ""
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
