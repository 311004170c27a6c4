"""Numbers from Withings' JSON, read defensively: pure, no I/O.

The spec types `updatetime` as a string and every other number as an integer, and clients in the
wild meet both; some write `more` as a bool. Each reader here takes an int, a float, a bool or a
numeric string and answers None (or the default) for anything else, never raising.
"""

from decimal import Decimal, InvalidOperation

LARGEST_DIGITS = 20  # no Withings number is near 10^20; bigger ones are garbage, not data
TRUE_WORDS = {"true", "yes"}
FALSE_WORDS = {"false", "no", ""}


def as_int(value, default: int | None = None) -> int | None:
    """An integer value: 7, "7", " -3 ", 7.0 or "7.0"; `default` for anything else."""
    number = as_decimal(value)
    if number is None or number != number.to_integral_value():
        return default
    return int(number)


def as_decimal(value) -> Decimal | None:
    """A finite number below 10^20 as an exact Decimal ("80.35" stays 80.35), or None."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str) or not value.strip().isascii() or len(value) > 40:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number.adjusted() < LARGEST_DIGITS else None


def as_flag(value) -> bool:
    """Withings' `more`: 0/1 in the spec, true/false in some clients, maybe as strings."""
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    return bool(as_int(value, 0))
