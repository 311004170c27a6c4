"""Energy of a strength workout nothing measured: an estimate from its duration and the user's weight.

Why 3.5 MET: the Compendium of Physical Activities (Ainsworth et al. 2011, code 02054 "resistance
(weight) training, multiple exercises, 8-15 repetitions at varied resistance") measured it over whole
sessions, rests included, which is what Hevy's start..end spans; its vigorous power-lifting entry
(02050, 6.0 MET) would overstate an ordinary gym session. One MET is taken as the Compendium's
1 kcal per kilogram of body weight per hour. Without a body weight there is no estimate: a guessed
weight would put a number in Garmin that looks measured.
"""

from decimal import ROUND_HALF_UP, Decimal

RESISTANCE_TRAINING_MET = Decimal("3.5")


def estimated_kcal(duration_seconds: int, body_weight_kg: Decimal | None) -> int | None:
    """Whole kilocalories, or None without a usable weight or duration."""
    if body_weight_kg is None or body_weight_kg <= 0 or duration_seconds <= 0:
        return None
    kcal = RESISTANCE_TRAINING_MET * Decimal(body_weight_kg) * duration_seconds / 3600
    return int(kcal.quantize(Decimal(1), rounding=ROUND_HALF_UP))
