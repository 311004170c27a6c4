"""Weight units: plain arithmetic, importable without Django (the FIT encoder's texts use it)."""

from decimal import Decimal

KG_PER_LB = Decimal("0.45359237")


def from_kg(kilograms, unit: str):
    """A weight in kg in the chosen unit, "kg" or "lb" (a Decimal stays a Decimal, a float a float)."""
    if kilograms is None or unit != "lb":
        return kilograms
    factor = KG_PER_LB if isinstance(kilograms, Decimal) else float(KG_PER_LB)
    return kilograms / factor
