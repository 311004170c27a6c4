"""A faithful fake of the Garmin Connect endpoints garminconnect 0.3.20 uses (login in garmin_sso.py).

One fake serves every Garmin host (SSO, DI token, connectapi, connect) on one base URL; `point_at`
aims a `garminconnect.Garmin` at it. Weigh-in shapes follow docs/upstream.md, "Garmin Connect": weights in
grams, `date` = epoch ms of the user's local wall clock written as if it were UTC, `timestampGMT` =
the real instant. Every FIT upload creates new weigh-ins, duplicates included, as Garmin does.

Garmin answers an upload 202 and files the weigh-in a little later (docs/upstream.md, Garmin Connect).
The fake hides a new weigh-in from the first `upload_hidden_reads` weight listings after its upload
(deterministic, for tests), but never longer than `upload_listed_within` seconds on its clock (a retry
minutes later sees it, as it would live). `upload_hidden_reads = 0`: listed at once.

Garmin publishes no rate limit for its API. `api_rate_limit_per_s` (None: off) is a hidden one for
benchmarks: above that many API-tier requests within any 1 s (sign-in and the DI token are not counted)
the answer is 429, without a Retry-After (whether Garmin's API tier sends one is unconfirmed).

Activities (FIT activity uploads, listings, edits, deletes, downloads, a watch's recordings) are in
garmin_activities.py; an upload goes there when its file_id type says activity.
"""

import calendar
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

from integrations.garmin.fit import WEIGHT_SCALE_FIELDS

from .core import FakeService, Request, Response, SlidingWindow, json_response
from .fit_activity import fit_file_type
from .fit_decode import decode_weight_file
from .garmin_activities import GarminActivitiesMixin
from .garmin_sso import DI_TOKEN_PATH, GarminSsoMixin

LOGIN_STRATEGIES = ("mobile+cffi", "mobile+requests", "widget+cffi", "portal+cffi", "portal+requests")
EU_CONSENT_MESSAGE = "The user is from EU location, but upload consent is not yet granted or revoked"
DUPLICATE_MESSAGE = "Duplicate Activity."
MEASUREMENT_FIELDS = [f.name for f in WEIGHT_SCALE_FIELDS]
DAY = r"(?P<{}>\d{{4}}-\d{{2}}-\d{{2}})"
AVERAGED = ("weight", "bmi", "bodyFat", "bodyWater", "boneMass", "muscleMass")
AVERAGED += ("physiqueRating", "visceralFat", "metabolicAge")
ENTRY_KEYS = ("samplePk", "date", "calendarDate", "weight", "bmi", "bodyFat", "bodyWater")
ENTRY_KEYS += ("boneMass", "muscleMass", "physiqueRating", "visceralFat", "metabolicAge")
ENTRY_KEYS += ("sourceType", "timestampGMT", "weightDelta")


def point_at(garmin, base_url: str, strategies: tuple[str, ...] = ("mobile+cffi", "mobile+requests")):
    """Aim a `garminconnect.Garmin` (0.3.20) at a fake Garmin served at `base_url`; returns it.

    The constructor only accepts garmin.com/.cn, so the client's host attributes are overwritten.
    Only the given login strategies run. The anti-bot pauses are module constants of
    `garminconnect.client.sso`, so they are zeroed for the whole process: sandbox use only.
    """
    from garminconnect.client import sso

    base = base_url.rstrip("/")
    client = garmin.client
    client._sso = client._connect = client._connectapi = base
    client._di_token_url = base + DI_TOKEN_PATH
    client.skip_strategies = set(LOGIN_STRATEGIES) - set(strategies)
    for flow in ("MOBILE", "LOGIN", "WIDGET"):
        setattr(sso, f"{flow}_DELAY_MIN_S", 0.0)
        setattr(sso, f"{flow}_DELAY_MAX_S", 0.0)
    return garmin


class GarminFake(GarminActivitiesMixin, GarminSsoMixin, FakeService):
    name = "garmin"
    # The sourceType Garmin gives FIT-uploaded weigh-ins is unconfirmed; INDEX_SCALE is one seen live.
    upload_source_type = "INDEX_SCALE"

    def __init__(self):
        super().__init__()
        self.users: dict[str, dict] = {}
        self.upload_consent_missing = False  # True: uploads answer 412 like an EU account
        self.upload_duplicate = False  # True: uploads answer 409 "Duplicate Activity."
        self.upload_hidden_reads = 1  # listings that miss a new weigh-in: "appears shortly after"
        self.upload_listed_within = 10.0  # seconds; None: only the reads count
        self.api_rate_limit_per_s: int | None = None  # API-tier requests admitted within any 1 s
        self.monotonic = time.monotonic
        self._api_window = SlidingWindow()
        self._next_sample_pk = 1_760_000_000_000  # samplePk values seen live have 13 digits
        self._next_upload_id = 360_000_000_000
        self._init_sso()
        api = self._authenticated
        self.route("GET", "/userprofile-service/socialProfile", api(self._social_profile))
        self.route("GET", "/userprofile-service/userprofile/user-settings", api(self._user_settings))
        info = "/userprofile-service/userprofile/personal-information/(?P<display_name>[^/]+)"
        self.route("GET", info, api(self._personal_information))
        weight = "/weight-service/weight"
        range_path = f"{weight}/range/{DAY.format('start')}/{DAY.format('end')}"
        self.route("GET", range_path, api(self._range))
        self.route("GET", f"{weight}/dayview/{DAY.format('day')}", api(self._dayview))
        self.route("GET", f"{weight}/dateRange", api(self._date_range))
        delete_path = f"{weight}/{DAY.format('day')}/byversion/(?P<sample_pk>\\d+)"
        self.route("DELETE", delete_path, api(self._delete))
        self.route("POST", "/upload-service/upload", api(self._upload))
        self._init_activities()

    # --- set-up and inspection --------------------------------------------------------------------
    def add_user(
        self,
        email: str,
        password: str,
        mfa: bool = False,
        display_name: str | None = None,
        full_name: str = "Sandbox Athlete",
        timezone: str = "UTC",
        measurement_system: str = "metric",
    ) -> dict:
        ZoneInfo(timezone)  # fail early on a typo
        user = {
            "email": email.lower(),
            "password": password,
            "mfa": mfa,
            "display_name": display_name or email.split("@")[0],
            "full_name": full_name,
            "timezone": timezone,
            "measurement_system": measurement_system,
            "profile_id": 80_000_000 + len(self.users),
            "weigh_ins": [],
            "processing": [],  # uploaded, not listed yet: {"entry", "reads_left", "visible_at"}
            "activities": [],
            "activity_processing": [],  # the same for activities
        }
        with self.lock:
            self.users[user["email"]] = user
        return user

    def weigh_ins(self, email: str) -> list[dict]:
        """The user's weigh-in entries, oldest first, exactly as the API serves them."""
        with self.lock:
            return _with_deltas(self.users[email.lower()]["weigh_ins"])

    def processing(self, email: str) -> list[dict]:
        """Uploaded weigh-ins Garmin has not listed yet."""
        with self.lock:
            return [p["entry"] for p in self.users[email.lower()]["processing"]]

    def finish_processing(self, email: str) -> None:
        """List every uploaded weigh-in now, as Garmin eventually does."""
        with self.lock:
            user = self.users[email.lower()]
            user["weigh_ins"].extend(p["entry"] for p in user["processing"])
            user["processing"] = []

    def add_weigh_in(self, email: str, timestamp: datetime, weight_kg, source_type: str = "MANUAL", **body) -> dict:
        """Seed Garmin history. `body`: the optional WeightRecord field names (percent_fat, bmi...)."""
        unknown = set(body) - set(MEASUREMENT_FIELDS)
        if unknown:
            raise TypeError(f"add_weigh_in got unknown measurements: {sorted(unknown)}")
        user = self.users[email.lower()]
        entry = self._new_entry(user, {"timestamp": timestamp, "weight_kg": weight_kg, **body})
        entry["sourceType"] = source_type
        with self.lock:
            user["weigh_ins"].append(entry)
        return entry

    def _new_entry(self, user: dict, record: dict) -> dict:
        instant = record["timestamp"]
        if instant.tzinfo is None:
            raise ValueError("weigh-in timestamps must be timezone-aware")
        local = instant.astimezone(ZoneInfo(user["timezone"]))
        with self.lock:
            sample_pk, self._next_sample_pk = self._next_sample_pk, self._next_sample_pk + 1
        entry = dict.fromkeys(ENTRY_KEYS)
        entry.update(
            samplePk=sample_pk,
            # Garmin's quirk: the local wall clock encoded as if it were UTC.
            date=calendar.timegm(local.replace(tzinfo=None).timetuple()) * 1000,
            calendarDate=local.date().isoformat(),
            timestampGMT=int(instant.timestamp()) * 1000,
            sourceType=self.upload_source_type,
            **_measurements(record),
        )
        return entry

    # --- API --------------------------------------------------------------------------------------
    def error_response(self, status: int, message: str) -> Response:
        return json_response({"message": message}, status)

    def _authenticated(self, handler):
        def wrapper(request: Request, **groups) -> Response:
            if not self._api_window.admit(self.api_rate_limit_per_s, self.monotonic()):
                return self.error_response(429, "Too Many Requests")
            email = self.user_for_bearer(request)
            if email is None:
                # garminconnect quotes this wording for a token the API tier refuses.
                return self.error_response(401, "Token is not active")
            return handler(request, self.users[email], **groups)

        return wrapper

    def _social_profile(self, request: Request, user: dict) -> Response:
        return json_response(
            {
                "id": user["profile_id"] + 1,
                "profileId": user["profile_id"],
                "garminGUID": f"00000000-0000-4000-8000-{user['profile_id']:012d}",
                "displayName": user["display_name"],
                "fullName": user["full_name"],
                "userName": user["email"],
                "userProfileFullName": user["full_name"],
                "location": None,
                "profileVisibility": "private",
            }
        )

    def _user_settings(self, request: Request, user: dict) -> Response:
        # Live user-settings carries no timezone (see garth's UserSettings model and garminconnect's
        # test cassettes); garminconnect reads it from personal-information instead.
        user_data = {"gender": "MALE", "weight": 80000.0, "height": 180.0}
        user_data |= {"timeFormat": "time_twenty_four_hr", "birthDate": "1985-06-15"}
        user_data |= {"measurementSystem": user["measurement_system"], "handedness": "RIGHT"}
        sleep = {"sleepTime": 81000, "defaultSleepTime": False, "wakeTime": 23400}
        body = {"id": user["profile_id"], "userData": user_data, "userSleep": sleep}
        return json_response({**body, "connectDate": None, "sourceType": None})

    def _personal_information(self, request: Request, user: dict, display_name: str) -> Response:
        if display_name != user["display_name"]:
            return self.error_response(403, "Forbidden")
        # 0.3.20 reads a top-level "timeZone"; older clients read userInfo.timezone.
        user_info = {"email": user["email"], "locale": "en", "timezone": user["timezone"]}
        return json_response({"userInfo": user_info, "timeZone": user["timezone"]})

    def _range(self, request: Request, user: dict, start: str, end: str) -> Response:
        self._settle(user)
        first, last = _parse_day(start), _parse_day(end)
        if first is None or last is None or first > last:
            return self.error_response(400, "Invalid date range")
        entries = self._entries_between(user, first, last)
        everything = self.weigh_ins(user["email"])
        before = [e for e in everything if e["calendarDate"] < first.isoformat()]
        after = [e for e in everything if e["calendarDate"] > last.isoformat()]
        return json_response(
            {
                "dailyWeightSummaries": _daily_summaries(entries),
                "totalAverage": _total_average(entries, first, last),
                "previousDateWeight": before[-1] if before else dict.fromkeys(ENTRY_KEYS),
                "nextDateWeight": after[0] if after else dict.fromkeys(ENTRY_KEYS),
            }
        )

    def _dayview(self, request: Request, user: dict, day: str) -> Response:
        return self._date_weight_list(user, day, day)

    def _date_range(self, request: Request, user: dict) -> Response:
        query = request.query
        return self._date_weight_list(user, query.get("startDate", ""), query.get("endDate", ""))

    def _date_weight_list(self, user: dict, start: str, end: str) -> Response:
        self._settle(user)
        first, last = _parse_day(start), _parse_day(end)
        if first is None or last is None or first > last:
            return self.error_response(400, "Invalid date range")
        entries = self._entries_between(user, first, last)
        return json_response(
            {
                "startDate": start,
                "endDate": end,
                "dateWeightList": entries,
                "totalAverage": _total_average(entries, first, last),
            }
        )

    def _entries_between(self, user: dict, first: date, last: date) -> list[dict]:
        """Entries whose calendarDate is in [first, last], newest first."""
        inside = [
            e for e in self.weigh_ins(user["email"]) if first.isoformat() <= e["calendarDate"] <= last.isoformat()
        ]
        return sorted(inside, key=lambda e: e["timestampGMT"], reverse=True)

    def _delete(self, request: Request, user: dict, day: str, sample_pk: str) -> Response:
        with self.lock:
            for entry in user["weigh_ins"]:
                if entry["samplePk"] == int(sample_pk) and entry["calendarDate"] == day:
                    user["weigh_ins"].remove(entry)
                    return Response(204)
        return self.error_response(404, "Weight sample not found")

    def _upload(self, request: Request, user: dict) -> Response:
        upload = _multipart_file(request)
        if upload is None:
            return self.error_response(400, "Required request part 'file' is not present")
        file_name, content = upload
        if self.upload_consent_missing:
            return self._import_result(user, upload, 412, failure=(412, EU_CONSENT_MESSAGE))
        if self.upload_duplicate:
            return self._import_result(user, upload, 409, failure=(202, DUPLICATE_MESSAGE))
        if fit_file_type(content) == "activity":
            return self._upload_activity(user, upload)
        try:
            records = decode_weight_file(content)
        except ValueError as error:  # the real answer to a corrupt file is unconfirmed
            return self._import_result(user, upload, 400, failure=(400, str(error)))
        # A record without a weight (invalid 0xFFFF) cannot become a weigh-in.
        self._accept(user, [self._new_entry(user, r) for r in records if r["weight_kg"]])
        # The live service answers 202 Accepted (garminconnect's test_upload cassette).
        return self._import_result(user, upload, 202)

    def _accept(self, user: dict, entries: list[dict], listed="weigh_ins", waiting="processing") -> None:
        """File uploads (weigh-ins, or activities): listed at once, or after the configured reads (or
        seconds, if sooner)."""
        with self.lock:
            if not self.upload_hidden_reads:
                user[listed].extend(entries)
                return
            within = self.upload_listed_within
            visible_at = self.clock() + within if within is not None else float("inf")
            user[waiting] += [
                {"entry": e, "reads_left": self.upload_hidden_reads, "visible_at": visible_at} for e in entries
            ]

    def _settle(self, user: dict, listed="weigh_ins", waiting="processing", count=True) -> None:
        """A listing read: list what finished processing, then count this read against the rest (a read
        by id, `count` False, lists only what finished by time)."""
        with self.lock:
            now, still = self.clock(), []
            for pending in user[waiting]:
                if pending["reads_left"] <= 0 or now >= pending["visible_at"]:
                    user[listed].append(pending["entry"])
                else:
                    pending["reads_left"] -= 1 if count else 0
                    still.append(pending)
            user[waiting] = still

    def _import_result(
        self, user: dict, upload: tuple, status: int, failure=None, success: int | None = None, internal_id=None
    ) -> Response:
        with self.lock:
            upload_id, self._next_upload_id = self._next_upload_id, self._next_upload_id + 1
        now = datetime.now(UTC)
        failures = []
        if failure:
            message = {"code": failure[0], "content": failure[1]}
            failures = [{"internalId": internal_id, "externalId": None, "messages": [message]}]
        result = {
            "uploadId": upload_id,
            "uploadUuid": {"uuid": str(uuid.uuid4())},
            "owner": user["profile_id"],
            "fileSize": len(upload[1]),
            "processingTime": 12,
            "creationDate": now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d} GMT",
            "ipAddress": None,
            "fileName": upload[0],
            "report": None,
            # Whether weight FITs ever list a success is unconfirmed; an activity processed at once does.
            "successes": [{"internalId": success, "externalId": None, "messages": None}] if success else [],
            "failures": failures,
        }
        return json_response({"detailedImportResult": result}, status)


# --- weigh-in shaping -----------------------------------------------------------------------------


def _grams(kg) -> float | None:
    return None if kg is None else float(Decimal(str(kg)) * 1000)


def _number(value) -> float | None:
    return None if value is None else float(value)


def _integer(value) -> int | None:
    return None if value is None else int(value)


def _measurements(record: dict) -> dict:
    """Entry fields from a WeightRecord-shaped dict (what decode_weight_file returns)."""
    return {
        "weight": _grams(record["weight_kg"]),
        "bmi": _number(record.get("bmi")),
        "bodyFat": _number(record.get("percent_fat")),
        "bodyWater": _number(record.get("percent_hydration")),
        "boneMass": _grams(record.get("bone_mass_kg")),
        "muscleMass": _grams(record.get("muscle_mass_kg")),
        "physiqueRating": _integer(record.get("physique_rating")),
        "visceralFat": _integer(record.get("visceral_fat_rating")),
        "metabolicAge": _integer(record.get("metabolic_age")),
    }


def _with_deltas(entries: list[dict]) -> list[dict]:
    """Copies sorted oldest first, each with weightDelta (g) against the weigh-in before it."""
    ordered = sorted(entries, key=lambda e: (e["timestampGMT"], e["samplePk"]))
    result, previous = [], None
    for entry in ordered:
        delta = entry["weight"] - previous["weight"] if previous else None
        result.append({**entry, "weightDelta": delta})
        previous = entry
    return result


def _daily_summaries(entries: list[dict]) -> list[dict]:
    """One summary per calendar day with weigh-ins, newest day first; entries are newest first."""
    days: dict[str, list[dict]] = {}
    for entry in entries:
        days.setdefault(entry["calendarDate"], []).append(entry)
    return [
        {
            "summaryDate": day,
            "numOfWeightEntries": len(items),
            "minWeight": min(e["weight"] for e in items),
            "maxWeight": max(e["weight"] for e in items),
            "latestWeight": items[0],
            "allWeightMetrics": items,
        }
        for day, items in sorted(days.items(), reverse=True)
    ]


def _total_average(entries: list[dict], first: date, last: date) -> dict:
    # from/until: the range's calendar days as epoch ms, like `date` (seen in garminconnect's cassette).
    start_ms = calendar.timegm(first.timetuple()) * 1000
    until_ms = calendar.timegm((last + timedelta(days=1)).timetuple()) * 1000 - 1
    average = {"from": start_ms, "until": until_ms}
    for key in AVERAGED:
        values = [e[key] for e in entries if e[key] is not None]
        average[key] = sum(values) / len(values) if values else None
    return average


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _multipart_file(request: Request) -> tuple[str, bytes] | None:
    """(file name, bytes) of the multipart part named "file", as Garmin's upload expects."""
    content_type = request.header("content-type") or ""
    if not content_type.startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + request.body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            return part.get_filename() or "upload.fit", part.get_payload(decode=True) or b""
    return None
