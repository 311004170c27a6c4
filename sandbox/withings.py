"""A faithful fake of the Withings API: OAuth2 (authorize page and tokens), getmeas and notify.

One fake answers for both Withings hosts, the account host (`/oauth2_user/authorize2`) and the
API host (`/v2/oauth2`, `/measure`, `/notify`), whose paths do not collide. Errors come the
Withings way: HTTP 200 with a non-zero `status` in the JSON body. Parts live in withings_oauth
(codes, rotating tokens), withings_pages (HTML), withings_measures and withings_notify.
"""

# Reference: docs/upstream.md, "Withings" (what is confirmed, and the switches below for what is not).

import itertools
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode

import requests

from .core import FakeService, Request, Response, json_response
from .withings_measures import DELETION_SHAPES, MeasureGroup, MeasurementHelpers, MeasureQuery, select_page
from .withings_notify import (
    DELETION_WINDOWS,
    KNOWN_APPLIS,
    NOTIFY_ENCODINGS,
    NOTIFY_FIELDS,
    Delivery,
    SubscriptionBook,
    answers_head,
    callback_url_problem,
    deliver,
    notification_form,
)
from .withings_oauth import KNOWN_SCOPES, App, OAuthError, TokenStore, parse_scope
from .withings_pages import authorize_page, error_page

INVALID_TOKEN = (
    401,
    "XRequestID: Not provided invalid_token: The access token provided is invalid",
)
TOO_MANY_REQUESTS = (601, "Too Many Requests")
SAME_ARGUMENTS = (601, "Same arguments in less than 10 seconds")  # seen live, with body.wait_seconds
INVALID_PARAMS = 503
# 293 is observed for an unknown/invalid callback URL; using it for a failed probe is our choice.
BAD_CALLBACK = 293
NO_SUCH_SUBSCRIPTION = 294  # unconfirmed: an "invalid params" status the docs do not tie to notify
DEFAULT_SCOPE = "user.info,user.metrics"


@dataclass
class FakeUser:
    userid: int
    email: str
    timezone: str


def ok(body: dict) -> Response:
    return json_response({"status": 0, "body": body})


def failure(status: int, error: str) -> Response:
    return json_response({"status": status, "body": {}, "error": error})


def redirect(uri: str, **params: str) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response(302, b"", {"Location": f"{uri}{separator}{urlencode(params)}"})


def as_strings(data):
    """Every number in `data` written as a string, as the spec types `updatetime` (and as some
    clients treat every field): 80350 -> "80350". Booleans and None stay as they are."""
    if isinstance(data, dict):
        return {key: as_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [as_strings(value) for value in data]
    if isinstance(data, int | float) and not isinstance(data, bool):
        return str(data)
    return data


def _appli(params: dict[str, str], default: int | None = None) -> int | None:
    """The `appli` parameter; raises ValueError when it is not a number."""
    value = params.get("appli", "").strip()
    return int(value) if value else default


class WithingsFake(MeasurementHelpers, FakeService):
    name = "withings"

    def __init__(
        self,
        page_size: int = 100,
        strict_callback_urls: bool = False,
        drop_after: int = 4,
        rate_limit_per_minute: int | None = None,
        notify_encoding: str = "urlencoded",
        notify_fields: str = "documented",
        numbers_as_strings: bool = False,
        same_arguments_seconds: float = 0,
        deletion_shape: str = "vanish",
        deletion_window: str = "measured",
    ):
        super().__init__()
        if notify_encoding not in NOTIFY_ENCODINGS or notify_fields not in NOTIFY_FIELDS:
            raise ValueError(f"notify_encoding in {NOTIFY_ENCODINGS}, notify_fields in {NOTIFY_FIELDS}")
        if deletion_shape not in DELETION_SHAPES or deletion_window not in DELETION_WINDOWS:
            raise ValueError(f"deletion_shape in {DELETION_SHAPES}, deletion_window in {DELETION_WINDOWS}")
        self.now = time.time  # replace in tests to move time without sleeping
        self.http = requests  # anything with .head() and .post(): the probe and the emitter use it
        self.page_size = page_size
        self.strict_callback_urls = strict_callback_urls
        self.drop_after = drop_after
        self.rate_limit_per_minute = rate_limit_per_minute
        # Unconfirmed upstream behaviours, one switch each (docs/upstream.md, "Withings").
        self.notify_encoding = notify_encoding  # "urlencoded" or "multipart" (form-data)
        self.notify_fields = notify_fields  # "documented", "extra" or "no_dates"
        self.numbers_as_strings = numbers_as_strings  # getmeas numbers as JSON strings ("80350")
        # Seen live on requesttoken: 601 for the same call repeated within 10 s; whether it applies to
        # every action is unconfirmed. 0 turns it off.
        self.same_arguments_seconds = same_arguments_seconds
        # A deleted group in getmeas: "vanish" (gone from every read) or "empty" (returned with no measures).
        self.deletion_shape = deletion_shape
        # The window a deletion's notification names: "measured" (the group's date), "now" or "none".
        self.deletion_window = deletion_window
        self._last_seen_arguments: dict[tuple, float] = {}
        self.tokens = TokenStore(lambda: self.now())
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, MeasureGroup] = {}
        self.subscriptions = SubscriptionBook()
        self.deliveries: list[Delivery] = []
        self._userids = itertools.count(31_400_001)
        self._grpids = itertools.count(5_120_000_001)
        self._recent_api_calls: deque[float] = deque()
        self._rate_lock = threading.Lock()
        self.route("GET", "/oauth2_user/authorize2", self._authorize_page)
        self.route("POST", "/oauth2_user/authorize2", self._authorize_decision)
        self.route("POST", "/v2/oauth2", self._api(self._oauth2))
        for method in ("GET", "POST"):  # withings-api sends every call as a GET with query params
            self.route(method, "/measure", self._api(self._measure))
            self.route(method, "/notify", self._api(self._notify))

    # --- error shapes ---------------------------------------------------------------------------
    def error_response(self, status: int, message: str) -> Response:
        return json_response({"status": status, "body": {}, "error": message}, status)

    def body_status_response(self, status: int) -> Response:
        messages = {401: INVALID_TOKEN[1], 601: TOO_MANY_REQUESTS[1]}
        return failure(status, messages.get(status, "Injected fault"))

    # --- set-up helpers -------------------------------------------------------------------------
    def add_app(self, client_id: str, client_secret: str, redirect_uris: list[str] | str) -> App:
        """Register an app; `redirect_uris` may be comma-separated, as in the Withings dashboard."""
        if isinstance(redirect_uris, str):
            redirect_uris = [u.strip() for u in redirect_uris.split(",") if u.strip()]
        app = App(client_id, client_secret, list(redirect_uris))
        with self.tokens.lock:
            self.tokens.apps[client_id] = app
        return app

    def add_user(
        self,
        userid: int | None = None,
        email: str | None = None,
        timezone: str = "Europe/Paris",
        height_m: Decimal | float | None = None,
    ) -> int:
        with self.lock:
            if userid is None:
                userid = next(i for i in self._userids if i not in self.users)
            self.users[userid] = FakeUser(userid, email or f"user{userid}@example.com", timezone)
        if height_m is not None:
            self.add_height(userid, height_m)
        return userid

    def authorize(
        self,
        client_id: str,
        userid: int,
        scope: str = DEFAULT_SCOPE,
        redirect_uri: str | None = None,
    ) -> str:
        """An authorization code as if `userid` had clicked "Allow" (skips the HTML page)."""
        app = self.tokens.apps[client_id]
        redirect_uri = redirect_uri or app.redirect_uris[0]
        return self.tokens.issue_code(client_id, userid, scope, redirect_uri)

    def issue_tokens(self, client_id: str, userid: int, scope: str = DEFAULT_SCOPE) -> dict:
        """A token body (access_token, refresh_token, ...) without the HTTP code exchange."""
        with self.tokens.lock:
            return self.tokens.issue_pair(client_id, userid, scope, parent=None)

    def expire_access_token(self, token: str) -> None:
        self.tokens.expire_access_tokens(lambda access: access.token == token)

    def expire_all_access_tokens(self, userid: int) -> int:
        return self.tokens.expire_access_tokens(lambda access: access.userid == userid)

    def revoke_refresh_tokens(self, userid: int) -> int:
        return self.tokens.revoke_refresh_tokens(userid)

    def refresh_calls(self) -> list:
        """Ledger entries of token refreshes (POST /v2/oauth2 with grant_type=refresh_token)."""
        calls = self.calls("POST", "^/v2/oauth2$")
        return [e for e in calls if e.form().get("grant_type") == "refresh_token"]

    # --- notifications --------------------------------------------------------------------------
    def notify_user(
        self,
        userid: int,
        appli: int = 1,
        startdate: int | None = None,
        enddate: int | None = None,
        retries: int = 2,
        backoff: float = 0.05,
        fields: str | None = None,
    ) -> list[Delivery]:
        """POST `userid, appli, startdate, enddate` (shaped by `fields`, `notify_fields` by default, encoded
        as `notify_encoding`) to each subscription of the user for `appli`; a subscription is removed
        after `drop_after` failed deliveries in a row (as Withings)."""
        enddate = enddate if enddate is not None else int(self.now())
        startdate = startdate if startdate is not None else enddate - 86400
        form = notification_form(userid, appli, startdate, enddate, fields or self.notify_fields)
        results = []
        for subscription in self.subscriptions.of_user(userid, appli):
            delivery = deliver(self.http, subscription.callbackurl, form, retries, backoff, self.notify_encoding)
            delivery.dropped = self.subscriptions.record(subscription, delivery.ok, self.drop_after)
            results.append(delivery)
        with self.lock:
            self.deliveries.extend(results)
        return results

    def delete_weigh_in(self, grpid: int, retries: int = 2, backoff: float = 0.05) -> list[Delivery]:
        """Delete a weigh-in as the user does in the app (shaped by `deletion_shape`) and notify appli 1
        subscribers with the window `deletion_window` names."""
        with self.lock:
            group = self.groups[grpid]
            userid, date = group.userid, group.date
        self.delete_measurement(grpid)
        now = int(self.now())
        if self.deletion_window == "none":
            return self.notify_user(userid, 1, retries=retries, backoff=backoff, fields="no_dates")
        start = date if self.deletion_window == "measured" else now
        return self.notify_user(userid, 1, start, start + 1, retries=retries, backoff=backoff)

    def step_on_scale(
        self,
        userid: int,
        when: datetime | None = None,
        retries: int = 2,
        backoff: float = 0.05,
        **body_composition: Decimal | float | int | None,
    ) -> int:
        """Add a weigh-in (weight defaults to the user's last) and notify appli 1 subscribers."""
        when = when or datetime.fromtimestamp(self.now(), timezone.utc)
        body_composition.setdefault("weight_kg", self.latest_weight(userid) or Decimal("80.0"))
        grpid = self.add_measurement(userid, when, **body_composition)
        date = int(when.timestamp())
        self.notify_user(userid, 1, date, date + 1, retries=retries, backoff=backoff)
        return grpid

    # --- authorize page (account host) ----------------------------------------------------------
    def _authorize_problem(self, params: dict[str, str]) -> str | None:
        app = self.tokens.apps.get(params.get("client_id", ""))
        if app is None:
            return "Unknown client_id."
        if params.get("redirect_uri") not in app.redirect_uris:
            return "redirect_uri does not match a callback URL registered for this app."
        if params.get("response_type") != "code":
            return "response_type must be 'code'."
        if parse_scope(params.get("scope", "")) is None:
            return f"scope must be a comma-separated list of: {', '.join(KNOWN_SCOPES)}."
        if not params.get("state"):
            return "state is required."
        if not self.users:
            return "The sandbox has no Withings user yet."
        return None

    def _authorize_page(self, request: Request) -> Response:
        params = request.query
        problem = self._authorize_problem(params)
        if problem:
            return error_page(problem)
        users = [(u.userid, u.email) for u in self.users.values()]
        return authorize_page(params, parse_scope(params["scope"]), users)

    def _authorize_decision(self, request: Request) -> Response:
        params = request.params()
        problem = self._authorize_problem(params)
        if problem:
            return error_page(problem)
        uri, state = params["redirect_uri"], params["state"]
        if params.get("decision") != "allow":
            # OAuth2's standard denial; the exact parameter Withings sends is unconfirmed.
            return redirect(uri, error="access_denied", state=state)
        userid = params.get("userid", "")
        if not userid.isdigit() or int(userid) not in self.users:
            return error_page("Choose one of the listed accounts.")
        scope = ",".join(parse_scope(params["scope"]))
        code = self.tokens.issue_code(params["client_id"], int(userid), scope, uri)
        return redirect(uri, code=code, state=state)

    # --- API host -------------------------------------------------------------------------------
    def _api(self, handler):
        def wrapped(request: Request) -> Response:
            if self._over_rate_limit():
                return failure(*TOO_MANY_REQUESTS)
            if self._repeated_too_soon(request):
                wait = int(self.same_arguments_seconds) + 1
                return json_response(
                    {"status": SAME_ARGUMENTS[0], "body": {"wait_seconds": wait}, "error": SAME_ARGUMENTS[1]}
                )
            return handler(request, request.params())

        return wrapped

    def _repeated_too_soon(self, request: Request) -> bool:
        """The same call (path, parameters and token) within `same_arguments_seconds`."""
        if not self.same_arguments_seconds:
            return False
        key = (request.path, tuple(sorted(request.params().items())), request.header("authorization"))
        now = self.now()
        with self._rate_lock:
            last = self._last_seen_arguments.get(key)
            self._last_seen_arguments[key] = now
        return last is not None and now - last < self.same_arguments_seconds

    def _over_rate_limit(self) -> bool:
        """A sliding one-minute window across all users: the limit is per application."""
        if not self.rate_limit_per_minute:
            return False
        now = self.now()
        with self._rate_lock:
            while self._recent_api_calls and self._recent_api_calls[0] <= now - 60:
                self._recent_api_calls.popleft()
            if len(self._recent_api_calls) >= self.rate_limit_per_minute:
                return True
            self._recent_api_calls.append(now)
            return False

    def _oauth2(self, request: Request, params: dict[str, str]) -> Response:
        if params.get("action") != "requesttoken":
            return failure(INVALID_PARAMS, "Invalid Params: unknown action")
        client_id, secret = params.get("client_id", ""), params.get("client_secret", "")
        try:
            if params.get("grant_type") == "authorization_code":
                code, uri = params.get("code", ""), params.get("redirect_uri", "")
                return ok(self.tokens.exchange_code(client_id, secret, code, uri))
            if params.get("grant_type") == "refresh_token":
                return ok(self.tokens.refresh(client_id, secret, params.get("refresh_token", "")))
            return failure(INVALID_PARAMS, "Invalid Params: unsupported grant_type")
        except OAuthError as error:
            return failure(error.status, error.error)

    def _authenticate(self, request: Request, params: dict[str, str]):
        # Bearer is the documented way; legacy clients (withings-api 2.4.0) pass access_token.
        header = request.header("authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return self.tokens.authenticate(token or params.get("access_token", ""))

    def _measure(self, request: Request, params: dict[str, str]) -> Response:
        access = self._authenticate(request, params)
        if access is None:
            return failure(*INVALID_TOKEN)
        if params.get("action") != "getmeas":
            return failure(INVALID_PARAMS, "Invalid Params: unknown action")
        try:
            query = MeasureQuery.from_params(params)
        except ValueError:
            return failure(INVALID_PARAMS, "Invalid Params")
        with self.lock:
            groups = [g for g in self.groups.values() if g.userid == access.userid]
            tz = self.users[access.userid].timezone if access.userid in self.users else "UTC"
        page = select_page(groups, query, self.page_size)
        body = {"updatetime": int(self.now()), "timezone": tz, **page}
        return ok(as_strings(body) if self.numbers_as_strings else body)

    def _notify(self, request: Request, params: dict[str, str]) -> Response:
        access = self._authenticate(request, params)
        if access is None:
            return failure(*INVALID_TOKEN)
        actions = {
            "subscribe": self._subscribe,
            "list": self._list_subscriptions,
            "get": self._get_subscription,
            "revoke": self._revoke,
            "update": self._update_subscription,
        }
        action = actions.get(params.get("action", ""))
        if action is None:
            return failure(INVALID_PARAMS, "Invalid Params: unknown action")
        try:
            return action(access.userid, params)
        except ValueError:
            return failure(INVALID_PARAMS, "Invalid Params: appli must be a number")

    def _callback_refusal(self, url: str, appli: int | None) -> Response | None:
        if appli not in KNOWN_APPLIS:
            return failure(INVALID_PARAMS, "Invalid Params: unknown appli")
        problem = callback_url_problem(url, self.strict_callback_urls)
        if problem:
            return failure(BAD_CALLBACK, f"Invalid Params: {problem}")
        # The probe runs outside every lock: the receiver may well call back into this fake.
        if not answers_head(self.http, url):
            return failure(BAD_CALLBACK, "Invalid Params: callback URL did not answer HEAD 2xx")
        return None

    def _subscribe(self, userid: int, params: dict[str, str]) -> Response:
        url, appli = params.get("callbackurl", ""), _appli(params)
        refusal = self._callback_refusal(url, appli)
        if refusal:
            return refusal
        self.subscriptions.add(userid, appli, url, params.get("comment", ""))
        return ok({})

    def _list_subscriptions(self, userid: int, params: dict[str, str]) -> Response:
        subscriptions = self.subscriptions.of_user(userid, _appli(params))
        return ok({"profiles": [s.profile() for s in subscriptions]})

    def _get_subscription(self, userid: int, params: dict[str, str]) -> Response:
        found = self.subscriptions.find(userid, _appli(params, 1), params.get("callbackurl", ""))
        if found is None:
            return failure(NO_SUCH_SUBSCRIPTION, "Invalid Params: no such subscription")
        profile = found.profile()
        return ok({key: profile[key] for key in ("appli", "callbackurl", "comment")})

    def _revoke(self, userid: int, params: dict[str, str]) -> Response:
        if not self.subscriptions.remove(userid, _appli(params), params.get("callbackurl", "")):
            return failure(NO_SUCH_SUBSCRIPTION, "Invalid Params: no such subscription")
        return ok({})

    def _update_subscription(self, userid: int, params: dict[str, str]) -> Response:
        url, appli = params.get("callbackurl", ""), _appli(params)
        found = self.subscriptions.find(userid, appli, url)
        if found is None:
            return failure(NO_SUCH_SUBSCRIPTION, "Invalid Params: no such subscription")
        new_url = params.get("new_callbackurl") or url
        new_appli = int(params["new_appli"]) if params.get("new_appli") else appli
        if (new_url, new_appli) != (url, appli):
            refusal = self._callback_refusal(new_url, new_appli)
            if refusal:
                return refusal
        self.subscriptions.remove(userid, appli, url)
        self.subscriptions.add(userid, new_appli, new_url, params.get("comment", found.comment))
        return ok({})
