"""The Garmin Connect calls fitsync makes, through garminconnect 0.3.20, and its one error mapping.

garminconnect does its own HTTP (requests, and curl_cffi for login and token refresh), so these calls
bypass `fitsync.http`: the one accepted exception to the chokepoint rule. Every exception it raises
goes through `error_from()`, which turns it into a `fitsync.errors` class. The library carries the
HTTP status mostly inside its message text ("API Error 412 - ..."), so the status is read from
`exc.response` when present and parsed out of the text otherwise.

Every request to the API tier (weigh-ins, activities, the profile) waits its turn at the instance's one
Garmin pacer (`fitsync.throttle`, GARMIN_REQUESTS_PER_SECOND), whichever job sends it; sign-in and token
refresh go to other hosts and are not paced. Activity calls are in `activities.py`.

No ORM in this module. What each call relies on: docs/upstream.md, "Garmin Connect".
"""

import base64
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import requests
from django.conf import settings
from garminconnect import (
    Garmin,
    GarminConnectAuthenticationError,
    GarminConnectTooManyRequestsError,
)

from fitsync import http
from fitsync.errors import (
    AuthExpired,
    PermanentError,
    RateLimited,
    TransientError,
    UpstreamError,
    from_status,
    parse_retry_after,
)
from fitsync.throttle import pacer

PROVIDER = "garmin"
LOGIN_STRATEGIES = ("mobile+cffi", "mobile+requests", "widget+cffi", "portal+cffi", "portal+requests")
UPLOAD_PATH = "/upload-service/upload"
# Garmin publishes no limit; the pacer starts here and probes up to GARMIN_REQUESTS_PER_SECOND.
START_PER_SECOND = 1.0
# After a lull, the slots of the last two seconds nobody used go at once: one workout's or weigh-in's few
# calls are not spread over seconds, while a long run (a history import) still averages the rate.
BURST_SECONDS = 2.0
# "API Error 412 - ...", "DI token refresh failed: 400", "returned 429", "HTTP 503", "client error (404)"
STATUS_IN_TEXT = re.compile(r"(?:API Error|HTTP|failed:|returned|error \()\s*(\d{3})\b")
CONSENT_MESSAGE = (
    "Garmin Connect refused the upload because your account has not granted upload consent (EU accounts "
    "must opt in). In Garmin Connect open Account Settings > Data > Data Import / Upload consent (app: "
    "More > Settings > Privacy > Manage Data > Upload data), allow it, then resync the failed weights."
)


class UploadConsentMissing(PermanentError):
    """HTTP 412: an EU account that has not allowed uploads; only the user can fix it."""


# --- the one mapping ------------------------------------------------------------------------------
def error_from(exc: BaseException, doing: str = "") -> UpstreamError:
    """Map any exception garminconnect raised onto `fitsync.errors` (the one place that does it)."""
    for link in _causes(exc):
        if isinstance(link, UpstreamError):
            return link  # raised by our own refresh hook inside the library's call
    status = status_of(exc)
    message = f"Garmin Connect{' ' + doing if doing else ''}: {_text(exc)}"
    kwargs = {"provider": PROVIDER, "status": status}
    if isinstance(exc, GarminConnectTooManyRequestsError) or status in (427, 429):
        return RateLimited(message, **{**kwargs, "status": 429}, retry_after=retry_after_of(exc))
    if isinstance(exc, GarminConnectAuthenticationError) and status in (None, 400, 401, 403):
        return AuthExpired(message, **kwargs)
    if status == 412:
        return UploadConsentMissing(CONSENT_MESSAGE, **kwargs)
    if status:
        return from_status(PROVIDER, status, message)
    if any(_is_network_error(link) for link in _causes(exc)):
        return TransientError(f"Could not reach Garmin Connect: {_text(exc)}", **kwargs)
    return TransientError(message, **kwargs)  # the library wraps unknown failures; worth a retry


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind a garminconnect exception: its response, else its message text."""
    for link in _causes(exc):
        status = getattr(getattr(link, "response", None), "status_code", None)
        if isinstance(status, int):
            return status
        match = STATUS_IN_TEXT.search(str(link))
        if match:
            return int(match.group(1))
    return None


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds from the Retry-After header of the response behind a garminconnect exception, if any."""
    for link in _causes(exc):
        headers = getattr(getattr(link, "response", None), "headers", None) or {}
        if headers.get("Retry-After"):
            return parse_retry_after(headers["Retry-After"])
    return None


@contextmanager
def calling(doing: str) -> Iterator[None]:
    """Run library calls; whatever they raise leaves as a `fitsync.errors` class."""
    try:
        yield
    except UpstreamError:
        raise
    except Exception as exc:
        raise error_from(exc, doing) from exc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return True
    return type(exc).__module__.startswith("curl_cffi")  # curl_cffi's own connection/timeout errors


def _text(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300] or exc.__class__.__name__


# --- building a client ----------------------------------------------------------------------------
def new_garmin(email: str | None = None, password: str | None = None, *, return_on_mfa: bool = False) -> Garmin:
    """A `Garmin` aimed at the configured hosts (garmin.com by default; the sandbox in the demo).

    Retries are ours (the engine's backoff), so the library's own are off. The login strategies are the
    library's full chain unless GARMIN_LOGIN_STRATEGIES narrows it; its anti-bot pauses stay as they are.
    """
    garmin = Garmin(email, password, return_on_mfa=return_on_mfa, retry_attempts=0)
    client = garmin.client
    client._sso = settings.GARMIN_SSO_URL
    client._connect = settings.GARMIN_CONNECT_URL
    client._connectapi = settings.GARMIN_CONNECTAPI_URL
    client._di_token_url = settings.GARMIN_DI_TOKEN_URL
    if settings.GARMIN_LOGIN_STRATEGIES:
        client.skip_strategies = set(LOGIN_STRATEGIES) - set(settings.GARMIN_LOGIN_STRATEGIES)
    bound_timeouts(client)
    pace_api_requests(client)
    return garmin


def bound_timeouts(client) -> None:
    """Our connect/read timeouts on the API and token-refresh calls (the library waits 15-30 s on its own)."""
    api_request, token_post = client._api_session.request, client._http_post
    client._api_session.request = lambda method, url, **kw: api_request(
        method, url, **{**kw, "timeout": http.timeouts()}
    )
    client._http_post = lambda url, **kw: token_post(url, **{**kw, "timeout": http.timeouts()})


def pace_api_requests(client) -> None:
    """Each API-tier request waits for the instance's Garmin pacer; a 429 slows every caller (for its
    Retry-After when given). Paced per HTTP request, so a listing of several pages counts each page."""
    request = client._api_session.request

    def paced(method, url, **kw):
        pace = pacer(PROVIDER, settings.GARMIN_REQUESTS_PER_SECOND, START_PER_SECOND, burst=BURST_SECONDS)
        pace.wait()
        response = request(method, url, **kw)
        if getattr(response, "status_code", None) == 429:
            pace.pause(parse_retry_after(response.headers.get("Retry-After")))
        else:
            pace.succeeded()
        return response

    client._api_session.request = paced


def token_expiry(tokens_json: str) -> datetime | None:
    """When the DI access token in `client.dumps()` output expires (its JWT `exp`), if readable."""
    try:
        payload = json.loads(tokens_json)["di_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(float(claims["exp"]), UTC)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None


# --- a token file made elsewhere -----------------------------------------------------------------
TOKEN_FIELDS = ("di_token", "di_refresh_token", "di_client_id")
TOKEN_FILE_MAX_CHARS = 20_000  # dumps() writes about 2-4 kB
GARTH_FILES = ("oauth1_token", "oauth2_token", "oauth_token_secret")


def token_file(text: str) -> str:
    """The `client.dumps()` JSON in `text`, normalised; ValueError with a message a person can act on."""
    text = text.strip().lstrip("\ufeff")
    if len(text) > TOKEN_FILE_MAX_CHARS:
        raise ValueError("This is far longer than a Garmin token file (a few kB). Paste only garmin_tokens.json.")
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("This is not a Garmin token file: it is not valid JSON. Paste the whole file.") from None
    if not isinstance(data, dict):
        raise ValueError("This is not a Garmin token file: it should be one JSON object ({...}).")
    if any(name in data for name in GARTH_FILES):
        raise ValueError(
            "These are old garth tokens (oauth1/oauth2), which Garmin no longer accepts. Produce a new file "
            "with garminconnect 0.3.20 as the README explains."
        )
    missing = [f for f in TOKEN_FIELDS if not isinstance(data.get(f), str) or not data[f].strip()]
    if missing:
        raise ValueError(f"This token file lacks {', '.join(missing)}. Paste the file garminconnect wrote whole.")
    if token_expiry(text) is None:
        raise ValueError("The di_token in this file is not a Garmin access token (a JWT). Paste the file unchanged.")
    return json.dumps({f: data[f].strip() for f in TOKEN_FIELDS})


def load_profile(garmin: Garmin) -> None:
    """Read the social profile once (display name, profile id): proves the loaded tokens work."""
    with calling("reading the profile"):
        profile = garmin.client.connectapi("/userprofile-service/socialProfile")
    if not isinstance(profile, dict) or not str(profile.get("displayName") or "").strip():
        raise TransientError("Garmin Connect answered the profile query with something else", provider=PROVIDER)
    garmin.display_name = str(profile["displayName"])
    garmin.full_name = profile.get("fullName") or ""
    garmin.profile_id = profile.get("profileId") if isinstance(profile.get("profileId"), int) else None


# --- weigh-ins ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeighIn:
    """One Garmin weigh-in entry: weight in kg (Garmin serves grams), the real instant in UTC."""

    sample_pk: str
    calendar_date: str
    measured_at: datetime
    weight_kg: Decimal


def weigh_in_from_entry(entry: dict) -> WeighIn | None:
    try:
        return WeighIn(
            sample_pk=str(entry["samplePk"]),
            calendar_date=str(entry["calendarDate"]),
            measured_at=datetime.fromtimestamp(int(entry["timestampGMT"]) / 1000, UTC),
            weight_kg=Decimal(str(entry["weight"])) / 1000,
        )
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None  # the null placeholders of previousDateWeight/nextDateWeight, or a malformed entry


def weigh_ins_from_range(body: dict) -> list[WeighIn]:
    """Every entry of a weight/range answer (days newest first, entries newest first)."""
    entries = [e for day in body.get("dailyWeightSummaries") or [] for e in day.get("allWeightMetrics") or []]
    return [w for w in map(weigh_in_from_entry, entries) if w is not None]


def weigh_ins_between(garmin: Garmin, first: date, last: date) -> list[WeighIn]:
    """Weigh-ins whose calendar date (in the user's Garmin timezone) lies in [first, last]."""
    with calling("reading weigh-ins"):
        body = garmin.get_weigh_ins(first.isoformat(), last.isoformat())
    if not isinstance(body, dict):
        raise TransientError("Garmin Connect answered the weigh-in query with something else", provider=PROVIDER)
    return weigh_ins_from_range(body)


@dataclass(frozen=True)
class UploadAnswer:
    """Garmin's answer to a FIT upload: `duplicate` when it already has this very file (409), and the
    activity ids it named (`successes` of a file processed at once, or the twin of a duplicate)."""

    duplicate: bool
    ids: tuple[str, ...] = ()


def upload_fit(garmin: Garmin, data: bytes, file_name: str = "weight.fit") -> bool:
    """Upload a FIT weight file; True when Garmin says it already has it (409, which counts as success)."""
    return post_file(garmin, data, file_name, "uploading a weigh-in").duplicate


def post_file(garmin: Garmin, data: bytes, file_name: str, doing: str) -> UploadAnswer:
    """POST a FIT file to the upload service; a 409 is an answer (`duplicate`), not an error."""
    try:
        body = garmin.client.post("connectapi", UPLOAD_PATH, files={"file": (file_name, data)}, api=True)
    except Exception as exc:
        error = error_from(exc, doing)
        if error.status == 409:
            return UploadAnswer(True, _named_ids(_body_of(exc), "failures"))
        raise error from exc
    return UploadAnswer(False, _named_ids(body, "successes"))


def _body_of(exc: BaseException):
    for link in _causes(exc):
        response = getattr(link, "response", None)
        if response is not None:
            try:
                return response.json()
            except ValueError:
                return None
    return None


def _named_ids(body, key: str) -> tuple[str, ...]:
    """The `internalId`s of detailedImportResult.successes (or failures), where Garmin gives them."""
    result = body.get("detailedImportResult") if isinstance(body, dict) else None
    entries = result.get(key) if isinstance(result, dict) else None
    if not isinstance(entries, list):
        return ()
    return tuple(str(e["internalId"]) for e in entries if isinstance(e, dict) and e.get("internalId"))


def delete_weigh_in(garmin: Garmin, weigh_in: WeighIn) -> bool:
    """Delete one weigh-in; False when Garmin no longer has it (404 counts as done)."""
    try:
        with calling("deleting a weigh-in"):
            garmin.delete_weigh_in(weigh_in.sample_pk, weigh_in.calendar_date)
    except UpstreamError as error:
        if error.status == 404:
            return False
        raise
    return True


def user_timezone(garmin: Garmin) -> str:
    """The IANA timezone of the Garmin profile (Garmin files weigh-ins under its calendar days)."""
    with calling("reading the profile timezone"):
        return garmin.get_user_timezone() or "UTC"
