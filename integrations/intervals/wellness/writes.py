"""A wellness day at Intervals.icu: fitsync's fields set to the day's values, the values it sent before and
no longer has cleared, the athlete's own entries left as they are.

A PUT is documented to change only the fields it is sent, which is unconfirmed in practice; the day is
read first and sent whole (fitsync's fields changed in it), so the write is right either way: a PUT that
replaces the record gets back every field it had. The price is one request's window: an entry the athlete
saves between the read and the write goes back to what was read. A field fitsync no longer has a value for is cleared
(sent as -1, "unset") only while it still holds a value fitsync sent: a value the athlete typed since
stays. A locked record is not written at all: the athlete keeps it from syncs.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from fitsync.sync import crash_point

from ..client import IntervalsClient
from .days import Sent
from .mapping import text_of

CLEAR = -1  # Intervals.icu: "To 'unset' numeric fields send -1"
HALF_CENT = Decimal("0.005")  # Intervals.icu keeps floats: 80.35 may come back as 80.34999847
# Never sent back: the fields Intervals.icu computes itself, and the lock, which is the athlete's alone (only
# unlocked days are written, so a PUT that replaces leaves it unlocked as it was; one that changes only the
# fields sent keeps a lock set since the read).
NOT_SENT = frozenset("updated ctl atl rampRate ctlLoad atlLoad sportInfo menstrualPhasePredicted locked".split())


@dataclass(frozen=True)
class DayChange:
    record: dict | None  # the whole record to PUT, or None when the day already holds the values
    cleared: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settled:
    locked: bool = False
    written: bool = False
    cleared: tuple[str, ...] = ()


def settle_day(client: IntervalsClient, day: str, values: dict[str, Decimal], sent: Sent) -> Settled:
    """Bring the day's record at Intervals.icu to `values` (one GET, and a PUT when something changes)."""
    when = date.fromisoformat(day)
    current = client.wellness_day(when)
    if is_locked(current):
        return Settled(locked=True)
    change = day_change(current, values, sent)
    if change.record is not None:
        client.put_wellness_day(when, change.record)
        crash_point("after_wellness_put")  # a moved weigh-in's former day is settled after this
    return Settled(written=change.record is not None, cleared=change.cleared)


def day_change(current: dict, values: dict[str, Decimal], sent: Sent) -> DayChange:
    """The PUT that takes `current` to `values`: the record as it is, but for fitsync's changed fields."""
    changes = {name: float(value) for name, value in values.items() if not same_number(current.get(name), value)}
    cleared = tuple(
        sorted(
            name
            for name, former in sent.items()
            if name not in values and any(same_number(current.get(name), value) for value in former)
        )
    )
    changes.update(dict.fromkeys(cleared, CLEAR))
    if not changes:
        return DayChange(None)
    kept = {name: value for name, value in current.items() if name not in NOT_SENT and value is not None}
    return DayChange({**kept, **changes}, cleared)


def same_number(found, value) -> bool:
    """Whether a value read from Intervals.icu is `value` (a Decimal or its text) to within half a cent."""
    if isinstance(found, bool) or not isinstance(found, (int, float)):
        return False
    try:
        return abs(Decimal(str(found)) - Decimal(value)) < HALF_CENT
    except InvalidOperation:
        return False


def is_locked(record: dict) -> bool:
    return record.get("locked") is True


def sent_record(day: str, values: dict[str, Decimal], cleared: tuple[str, ...]) -> dict:
    """What an item keeps in `sent` of a write of its day: the day's values then, and the fields cleared."""
    return {"day": day, "values": {name: text_of(value) for name, value in values.items()}, "cleared": list(cleared)}


def locked_note(day: str) -> str:
    return f"Intervals.icu's wellness record for {day} is locked; unlock it there and press Resync."
