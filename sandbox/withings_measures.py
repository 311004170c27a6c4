"""Withings measure groups for the fake: value x 10^unit, getmeas filtering, seeded history.

As described in docs/upstream.md, "Withings" (getmeas).
"""

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

WEIGHT = 1
HEIGHT = 4

# Keyword accepted by `WithingsFake.add_measurement` -> (meastype, unit). Units follow what real
# scales send: grams for the weight, 1/1000 % for fat ratio, 10 g for muscle/hydration/bone.
# Visceral fat (170), BMR (226) and metabolic age (227) units are unconfirmed upstream.
BODY_COMPOSITION: dict[str, tuple[int, int]] = {
    "weight_kg": (WEIGHT, -3),
    "fat_free_mass": (5, -3),
    "fat_ratio": (6, -3),
    "fat_mass": (8, -3),
    "muscle_mass": (76, -2),
    "hydration_kg": (77, -2),
    "bone_mass": (88, -2),
    "visceral_fat": (170, -1),
    "bmr": (226, 0),
    "metabolic_age": (227, 0),
}
HEIGHT_UNIT = -2
# Entries typed into the app keep two decimals of weight, not a scale's gram resolution.
MANUAL_WEIGHT_UNIT = -2
MANUAL_ATTRIBS = {2, 4}

# How a deleted group shows in getmeas is unconfirmed upstream (docs/upstream.md, "Withings"): "vanish" (gone
# from every read) or "empty" (still returned, by lastupdate and date reads alike, with `measures: []`).
DELETION_SHAPES = ("vanish", "empty")

SCALE_MODEL = ("Body Cardio", 6)
MANUAL_MODEL = ("Withings Android App", 1057)


def encode(value: Decimal | float | int, unit: int) -> int:
    """The integer Withings sends for `value` at power-of-ten `unit` (75.3, -2 -> 7530)."""
    scaled = Decimal(str(value)).scaleb(-unit)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def decode(measure: dict) -> Decimal:
    """The real value of one measure: value x 10^unit, exact."""
    return Decimal(measure["value"]).scaleb(measure["unit"])


def measure(meastype: int, value: Decimal | float | int, unit: int) -> dict:
    # algo and fm are deprecated but still present in live payloads.
    return {"value": encode(value, unit), "type": meastype, "unit": unit, "algo": 0, "fm": 131}


def body_measures(values: dict[str, Decimal | float | int | None], attrib: int) -> list[dict]:
    """Measures for the keyword values given, skipping None; unknown keywords raise."""
    unknown = set(values) - set(BODY_COMPOSITION)
    if unknown:
        raise TypeError(f"unknown body composition field(s): {sorted(unknown)}")
    result = []
    for name, (meastype, unit) in BODY_COMPOSITION.items():
        if values.get(name) is None:
            continue
        if meastype == WEIGHT and attrib in MANUAL_ATTRIBS:
            unit = MANUAL_WEIGHT_UNIT
        result.append(measure(meastype, values[name], unit))
    return result


@dataclass
class MeasureGroup:
    grpid: int
    userid: int
    attrib: int
    date: int
    created: int
    modified: int
    measures: list[dict]
    category: int = 1
    deviceid: str | None = None
    hash_deviceid: str | None = None
    model: str = SCALE_MODEL[0]
    model_id: int = SCALE_MODEL[1]
    comment: str | None = None

    def types(self) -> set[int]:
        return {m["type"] for m in self.measures}

    def to_json(self, meastypes: set[int] | None = None) -> dict:
        measures = [m for m in self.measures if meastypes is None or m["type"] in meastypes]
        return {
            "grpid": self.grpid,
            "attrib": self.attrib,
            "date": self.date,
            "created": self.created,
            "modified": self.modified,
            "category": self.category,
            "deviceid": self.deviceid,
            "hash_deviceid": self.hash_deviceid,
            "model": self.model,
            "model_id": self.model_id,
            "comment": self.comment,
            "measures": [dict(m) for m in measures],
        }


@dataclass
class MeasureQuery:
    """The getmeas filters, parsed from request parameters."""

    meastypes: set[int] | None = None
    category: int | None = None
    startdate: int | None = None
    enddate: int | None = None
    lastupdate: int | None = None
    offset: int = 0

    @classmethod
    def from_params(cls, params: dict[str, str]) -> "MeasureQuery":
        """Raises ValueError on a non-numeric parameter (Withings answers 'invalid params')."""
        csv = params.get("meastypes") or params.get("meastype") or ""
        types = {int(t) for t in csv.split(",") if t.strip()} or None
        return cls(
            meastypes=types,
            category=_optional_int(params, "category"),
            startdate=_optional_int(params, "startdate"),
            enddate=_optional_int(params, "enddate"),
            lastupdate=_optional_int(params, "lastupdate"),
            offset=_optional_int(params, "offset") or 0,
        )

    def matches(self, group: MeasureGroup) -> bool:
        # An omitted category returns both real measures and objectives (unconfirmed upstream). A deleted
        # group kept as `measures: []` (deletion_shape "empty") has no type to filter on: it always matches.
        checks = (
            self.meastypes is None or not group.measures or bool(group.types() & self.meastypes),
            self.category is None or group.category == self.category,
            self.startdate is None or group.date >= self.startdate,
            self.enddate is None or group.date <= self.enddate,
            self.lastupdate is None or group.modified > self.lastupdate,
        )
        return all(checks)


def _optional_int(params: dict[str, str], name: str) -> int | None:
    value = params.get(name, "")
    return int(value) if value.strip() else None


def select_page(groups: list[MeasureGroup], query: MeasureQuery, page_size: int) -> dict:
    """The paging part of a getmeas body: the matching groups at `offset`, plus `more`/`offset`."""
    # Newest first, grpid as a tie-breaker so paging is stable (upstream order unconfirmed).
    matching = sorted((g for g in groups if query.matches(g)), key=lambda g: (-g.date, -g.grpid))
    page = matching[query.offset : query.offset + page_size]
    next_offset = query.offset + len(page)
    more = next_offset < len(matching)
    return {
        "measuregrps": [g.to_json(query.meastypes) for g in page],
        "more": int(more),
        "offset": next_offset if more else 0,
    }


@dataclass
class HistoryWalk:
    """A plausible body drifting day by day: weight random-walks, composition follows."""

    rng: random.Random
    weight: float = 82.0
    fat_ratio: float = 21.0

    def step(self) -> dict[str, Decimal]:
        self.weight = min(max(self.weight + self.rng.gauss(-0.01, 0.35), 60.0), 110.0)
        self.fat_ratio = min(max(self.fat_ratio + self.rng.gauss(-0.005, 0.25), 8.0), 35.0)
        weight = Decimal(str(round(self.weight, 2)))
        ratio = Decimal(str(round(self.fat_ratio, 2)))
        fat_mass = (weight * ratio / 100).quantize(Decimal("0.001"))
        fat_free = weight - fat_mass
        return {
            "weight_kg": weight,
            "fat_ratio": ratio,
            "fat_mass": fat_mass,
            "fat_free_mass": fat_free,
            "muscle_mass": (fat_free * Decimal("0.94")).quantize(Decimal("0.01")),
            "hydration_kg": (fat_free * Decimal("0.72")).quantize(Decimal("0.01")),
            "bone_mass": (fat_free * Decimal("0.05")).quantize(Decimal("0.01")),
            "visceral_fat": Decimal(str(round(ratio / 3, 1))),
            "bmr": int(370 + 21.6 * float(fat_free)),
            "metabolic_age": self.rng.randint(28, 36),
        }


def daily_weigh_in_times(days: int, end: datetime, rng: random.Random) -> list[datetime]:
    """One morning weigh-in per day for `days` days ending on `end`'s day, oldest first."""
    end_day = end.astimezone(timezone.utc).replace(hour=6, minute=30, second=0, microsecond=0)
    times = []
    for back in range(days - 1, -1, -1):
        jitter = timedelta(minutes=rng.randint(-45, 90), seconds=rng.randint(0, 59))
        times.append(end_day - timedelta(days=back) + jitter)
    return [min(t, end) for t in times]  # today's weigh-in cannot be later than `end`


class MeasurementHelpers:
    """The measurement half of WithingsFake: test and demo helpers over its users and groups.

    Expects `self.users`, `self.groups`, `self.lock`, `self.now`, `self._grpids` and `self.deletion_shape`
    from the fake.
    """

    def add_measurement(
        self,
        userid: int,
        when: datetime,
        weight_kg: Decimal | float | None = None,
        *,
        attrib: int = 0,
        category: int = 1,
        created: datetime | None = None,
        **body_composition: Decimal | float | int | None,
    ) -> int:
        """Store a weigh-in; the keywords are those of BODY_COMPOSITION (fat_ratio=...)."""
        measures = body_measures({"weight_kg": weight_kg, **body_composition}, attrib)
        return self._store_group(userid, when, measures, attrib, category, created)

    def add_height(self, userid: int, height_m: Decimal | float, when: datetime | None = None) -> int:
        # Height typed in at sign-up: attrib 4, "manual entry at account creation".
        when = when or datetime.fromtimestamp(self.now(), timezone.utc)
        return self._store_group(userid, when, [measure(HEIGHT, height_m, HEIGHT_UNIT)], 4, 1, when)

    def _store_group(self, userid, when, measures, attrib, category, created) -> int:
        if userid not in self.users:
            raise KeyError(f"unknown Withings user {userid}")
        stored_at = int((created or datetime.fromtimestamp(self.now(), timezone.utc)).timestamp())
        manual = attrib in MANUAL_ATTRIBS
        # Manual entries come from the phone app and carry no device id.
        deviceid = None if manual else hashlib.sha1(f"scale-{userid}".encode()).hexdigest()
        model, model_id = MANUAL_MODEL if manual else SCALE_MODEL
        with self.lock:
            grpid = next(self._grpids)
            self.groups[grpid] = MeasureGroup(
                grpid,
                userid,
                attrib,
                int(when.timestamp()),
                stored_at,
                stored_at,
                measures,
                category=category,
                deviceid=deviceid,
                hash_deviceid=deviceid,
                model=model,
                model_id=model_id,
            )
        return grpid

    def edit_measurement(self, grpid: int, **changes) -> None:
        """Change body-composition values (weight_kg=..., fat_ratio=...) or `when`, `attrib`,
        `category`; bumps `modified` so `lastupdate` queries see the edit."""
        with self.lock:
            group = self.groups[grpid]
            if "when" in changes:
                group.date = int(changes.pop("when").timestamp())
            group.attrib = changes.pop("attrib", group.attrib)
            group.category = changes.pop("category", group.category)
            replaced = body_measures(changes, group.attrib)
            kept = [m for m in group.measures if m["type"] not in {r["type"] for r in replaced}]
            group.measures = sorted(kept + replaced, key=lambda m: m["type"])
            group.modified = int(self.now())

    def delete_measurement(self, grpid: int) -> None:
        """Delete a group as `deletion_shape` says Withings does: it vanishes, or stays with no measures (its
        `modified` bumped, so `lastupdate` reads return it)."""
        with self.lock:
            if self.deletion_shape == "vanish":
                del self.groups[grpid]
                return
            group = self.groups[grpid]
            group.measures, group.modified = [], int(self.now())

    def latest_weight(self, userid: int) -> Decimal | None:
        with self.lock:
            groups = [g for g in self.groups.values() if g.userid == userid]
        groups.sort(key=lambda g: g.date)
        weights = [decode(m) for g in groups for m in g.measures if m["type"] == WEIGHT]
        return weights[-1] if weights else None

    def seed_daily_history(
        self,
        userid: int,
        days: int = 365,
        rng: random.Random | None = None,
        end: datetime | None = None,
        height_m: Decimal | float = Decimal("1.80"),
    ) -> list[int]:
        """A morning weigh-in with full body composition every day for `days` days up to `end`,
        preceded by a height group (type 4). Returns the grpids, height first."""
        rng = rng or random.Random(days)
        end = end or datetime.fromtimestamp(self.now(), timezone.utc)
        times = daily_weigh_in_times(days, end, rng)
        grpids = [self.add_height(userid, height_m, times[0] - timedelta(days=1))] if times else []
        walk = HistoryWalk(rng)
        for when in times:
            # The scale uploads within a minute of the weigh-in.
            created = min(when + timedelta(seconds=rng.randint(5, 60)), end)
            grpids.append(self.add_measurement(userid, when, created=created, **walk.step()))
        return grpids
