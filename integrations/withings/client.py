"""The Withings API calls fitsync makes: OAuth2 tokens, getmeas and notify.

Withings answers HTTP 200 for almost everything and puts the real outcome in the JSON `status`
(401 bad token, 601 too many requests, 2xx/5xx "invalid params" ...), so every body is checked here
and turned into a `fitsync.errors` class once. Numbers may arrive as strings (the spec itself types
`updatetime` as one), so they are read with `numbers`. No ORM in this module.

Withings allows a fixed number of requests per minute per application, all users together, so every
call goes through the instance's one Withings pacer (`fitsync.throttle`): it starts at that cap and
never probes above it, and a 601 holds every caller for the minute.

# Reference: https://developer.withings.com/api-reference and docs/upstream.md, "Withings"
"""

from dataclasses import dataclass

from django.conf import settings

from fitsync.errors import UpstreamError, from_status
from fitsync.http import json_of, request
from fitsync.throttle import Throttle, pacer

from .numbers import as_flag, as_int

PROVIDER = "withings"
RATE_WINDOW_SECONDS = 60  # 120 requests per minute per application: after 601, wait out the minute
# Longer than this for a slot (a 601's hold), a caller gets RateLimited and comes back later (a job's
# retry) instead of keeping a worker or a page waiting.
MAX_WAIT_SECONDS = 10
SAME_ARGUMENTS = "Same arguments"  # a 601 about one call repeated too soon, not the app's budget
AUTH_FAILURES = {100, 101, 102, 200, 401}
RETRYABLE = {522, 215, 219, 222, 2551, 2552, 2556, 2557, 2558, 2559, 9000, 10000}


@dataclass(frozen=True)
class TokenSet:
    userid: str
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class MeasurePage:
    groups: list[dict]
    more: bool
    offset: int
    timezone: str
    updatetime: int


@dataclass(frozen=True)
class Subscription:
    appli: int
    callbackurl: str
    comment: str = ""


def error_for(status: int, message: str, wait_seconds: int | None = None) -> UpstreamError:
    """Withings' body `status` as a fitsync error (its codes are not HTTP codes). A 601 may say how
    long to wait (`"body": {"wait_seconds": 188}`, seen for "Same arguments in less than 10
    seconds"); fitsync waits that long, and never less than the one-minute rate window."""
    text = f"status {status}: {message or 'no message'}"  # from_status prefixes "Withings: "
    if status in AUTH_FAILURES:
        return from_status(PROVIDER, 401, text)
    if status == 601:
        return from_status(PROVIDER, 429, text, retry_after=max(wait_seconds or 0, RATE_WINDOW_SECONDS))
    if status in RETRYABLE or status >= 3000:
        return from_status(PROVIDER, 503, text)
    return from_status(PROVIDER, 400, text)  # the many "invalid params" statuses


def call(path: str, data: dict, access_token: str = "") -> dict:
    """POST a form to the API host and return `body`; raises fitsync.errors on any failure."""
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    status, body, error = app_pacer().send(lambda: _post(path, data, headers))
    if status != 0:
        raise error_for(status, error, as_int(body.get("wait_seconds")))
    return body


def app_pacer() -> Throttle:
    """The app-wide pacer at the configured cap (0 or less: off). One below it per minute: a request
    after a quiet spell may start late in its slot, so a rolling minute can hold one more than the rate."""
    per_minute = settings.WITHINGS_REQUESTS_PER_MINUTE
    per_second = max(per_minute - 1, 1) / 60 if per_minute > 0 else 0
    return pacer(PROVIDER, per_second, per_second, MAX_WAIT_SECONDS)


def _post(path: str, data: dict, headers: dict) -> tuple[int, dict, str]:
    """One request: Withings' status, body and error text. The app's budget running out (601) is
    raised here, inside the pacer, so it holds every caller; a 601 for one call repeated too soon
    concerns that call only, and is raised by `call` after the pacer."""
    response = request(PROVIDER, "POST", f"{settings.WITHINGS_API_URL}{path}", data=data, headers=headers)
    payload = json_of(response, PROVIDER)
    status = as_int(payload.get("status")) if isinstance(payload, dict) else None
    if status is None:
        raise from_status(PROVIDER, 502, "Withings sent an answer without a status")
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    error = str(payload.get("error", ""))[:200]
    if status == 601 and not error.startswith(SAME_ARGUMENTS):
        raise error_for(status, error, as_int(body.get("wait_seconds")))
    return status, body, error


# --- OAuth2 -------------------------------------------------------------------------------------
def _token_set(body: dict) -> TokenSet:
    try:
        return TokenSet(
            userid=str(body["userid"]),  # an int in the spec, a string in some clients
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_in=as_int(body.get("expires_in")) or 10800,
            scope=str(body.get("scope", "")),
        )
    except (KeyError, TypeError, ValueError):
        raise from_status(PROVIDER, 502, "Withings sent a token answer without tokens")


def request_token(code: str, redirect_uri: str) -> TokenSet:
    """Exchange an authorization code (valid for 30 seconds, usable once) for tokens."""
    data = {
        "action": "requesttoken",
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": settings.WITHINGS_CLIENT_ID,
        "client_secret": settings.WITHINGS_CLIENT_SECRET,
    }
    return _token_set(call("/v2/oauth2", data))


def refresh_token(token: str) -> TokenSet:
    """A new token pair; Withings rotates the refresh token on every call."""
    data = {
        "action": "requesttoken",
        "grant_type": "refresh_token",
        "refresh_token": token,
        "client_id": settings.WITHINGS_CLIENT_ID,
        "client_secret": settings.WITHINGS_CLIENT_SECRET,
    }
    return _token_set(call("/v2/oauth2", data))


# --- Measure ------------------------------------------------------------------------------------
def get_measures(access_token: str, meastypes: list[int], offset: int = 0, **window: int) -> MeasurePage:
    """One page of real measures (category 1); `window` is lastupdate=... or startdate/enddate=..."""
    data = {"action": "getmeas", "category": 1, "meastypes": ",".join(map(str, meastypes)), **window}
    if offset:
        data["offset"] = offset
    body = call("/measure", data, access_token)
    groups = body.get("measuregrps")
    if not isinstance(groups, list):
        raise from_status(PROVIDER, 502, "Withings sent a getmeas answer without measuregrps")
    return MeasurePage(
        groups=[g for g in groups if isinstance(g, dict)],
        more=as_flag(body.get("more")),  # 0/1 in the spec, a bool in some clients
        offset=as_int(body.get("offset"), 0),  # a garbled one stops paging: fetch reports it
        timezone=str(body.get("timezone") or "UTC"),
        updatetime=as_int(body.get("updatetime"), 0),  # 0 leaves the cursor where it was
    )


# --- Notify -------------------------------------------------------------------------------------
def subscribe(access_token: str, callbackurl: str, appli: int, comment: str = "fitsync") -> None:
    """Withings HEAD-probes `callbackurl` before it answers; the URL must answer 2xx."""
    call(
        "/notify", {"action": "subscribe", "callbackurl": callbackurl, "appli": appli, "comment": comment}, access_token
    )


def list_subscriptions(access_token: str, appli: int | None = None) -> list[Subscription]:
    data = {"action": "list", **({"appli": appli} if appli is not None else {})}
    profiles = call("/notify", data, access_token).get("profiles") or []
    return [
        Subscription(as_int(p.get("appli"), 0), str(p.get("callbackurl", "")), str(p.get("comment") or ""))
        for p in profiles
        if isinstance(p, dict)
    ]


def revoke_subscription(access_token: str, callbackurl: str, appli: int) -> None:
    call("/notify", {"action": "revoke", "callbackurl": callbackurl, "appli": appli}, access_token)
