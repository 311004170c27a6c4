"""The login half of the Garmin fake: Garmin SSO and the DI OAuth2 token endpoint.

Serves what garminconnect 0.3.20's mobile and portal login strategies request (read in its
client/sso.py and client/session.py); all paths live on one host next to the connectapi ones:

    GET  /mobile/sso/en_US/sign-in, /portal/sso/en-US/sign-in   sign-in page, sets the SSO cookie
    POST /mobile/api/login, /portal/api/login                    JSON credentials -> responseStatus
    POST /mobile/api/mfa/verifyCode, /portal/api/mfa/verifyCode  needs the SSO cookie of the login
    POST /di-oauth2-service/oauth/token                          service ticket or refresh token

The HTML widget strategy (/sso/embed) is not served; `garmin.point_at` skips it.
"""

import base64
import json
import secrets
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie

from .core import LedgerEntry, Request, Response, json_response, text_response

SSO_COOKIE = "SESSION"
DI_TOKEN_PATH = "/di-oauth2-service/oauth/token"
SERVICE_TICKET_GRANT = "https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket"
SSO_CLIENT_IDS = {"mobile": "GCM_IOS_DARK", "portal": "GarminConnect"}
DI_CLIENT_IDS = (
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4",
    "GARMIN_CONNECT_MOBILE_ANDROID_DI",
    "GARMIN_CONNECT_MOBILE_IOS_DI",
)


@dataclass
class IssuedToken:
    email: str
    client_id: str
    expires_at: float
    revoked: bool = False

    def is_valid(self, now: float) -> bool:
        return not self.revoked and now < self.expires_at


@dataclass
class PendingMfa:
    email: str
    code: str


def sso_status(kind: str) -> dict:
    return {"responseStatus": {"type": kind, "message": "", "httpStatus": "OK"}}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def fake_jwt(payload: dict) -> str:
    """A JWT-shaped token (unsigned garbage signature): garminconnect only reads its payload."""
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = _b64url(json.dumps(payload).encode())
    return f"{header}.{body}.{_b64url(secrets.token_bytes(32))}"


class GarminSsoMixin:
    """SSO and DI-token routes and state; mixed into `GarminFake`, which owns `users`."""

    # DI token lifetimes are unconfirmed upstream; the garth-era OAuth2 exchange answered
    # expires_in ~101500 s and refresh_token_expires_in 2591999 s. Tests shorten them.
    access_token_ttl = 86400.0
    refresh_token_ttl = 30 * 86400.0
    # Whether a refresh returns a new refresh token is unconfirmed; the fake rotates by default
    # and revokes the old one, the strictest reading.
    rotate_refresh_tokens = True

    users: dict
    lock: object
    ledger: list

    def _init_sso(self) -> None:
        self.login_rate_limited = False
        self.clock = time.time
        self.sso_sessions: dict[str, PendingMfa | None] = {}
        self.service_tickets: dict[str, tuple[str, str]] = {}  # ticket -> (email, service url)
        self.access_tokens: dict[str, IssuedToken] = {}
        self.refresh_tokens: dict[str, IssuedToken] = {}
        flows = "(?P<flow>mobile|portal)"
        self.route("GET", f"/{flows}/sso/(?:en_US|en-US)/sign-in", self._sign_in_page)
        self.route("POST", f"/{flows}/api/login", self._login)
        self.route("POST", f"/{flows}/api/mfa/verifyCode", self._verify_mfa)
        self.route("POST", DI_TOKEN_PATH, self._di_token)

    # --- helpers for tests and the demo ---------------------------------------------------------
    def current_mfa_code(self, email: str) -> str | None:
        """The code "e-mailed" for the newest pending MFA login of `email` (shown by the demo)."""
        with self.lock:
            codes = [p.code for p in self.sso_sessions.values() if p and p.email == email]
        return codes[-1] if codes else None

    def revoke_tokens(self, email: str) -> None:
        """Revoke every access and refresh token of `email` (a password change, say)."""
        with self.lock:
            for token in [*self.access_tokens.values(), *self.refresh_tokens.values()]:
                if token.email == email:
                    token.revoked = True

    def expire_access_tokens(self, email: str) -> None:
        """Expire the access tokens server-side only: the client still thinks they are fresh."""
        with self.lock:
            for token in self.access_tokens.values():
                if token.email == email:
                    token.expires_at = self.clock() - 1

    def tokens_for(self, email: str, client_id: str = DI_CLIENT_IDS[0]) -> str:
        """Fresh tokens as `client.dumps()` writes them: lets unit tests skip the login dance."""
        issued = self._issue_tokens(email.lower(), client_id, None)
        return json.dumps(
            {"di_token": issued["access_token"], "di_refresh_token": issued["refresh_token"], "di_client_id": client_id}
        )

    def refresh_calls(self) -> list[LedgerEntry]:
        return [e for e in self.calls("POST", DI_TOKEN_PATH) if e.form().get("grant_type") == "refresh_token"]

    def user_for_bearer(self, request: Request) -> str | None:
        """The email behind a valid `Authorization: Bearer` access token, else None."""
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        with self.lock:
            token = self.access_tokens.get(value) if scheme.lower() == "bearer" else None
            return token.email if token and token.is_valid(self.clock()) else None

    # --- SSO --------------------------------------------------------------------------------------
    def _sign_in_page(self, request: Request, flow: str) -> Response:
        if self.login_rate_limited:
            return self._rate_limited()
        session_id = secrets.token_urlsafe(16)
        with self.lock:
            self.sso_sessions[session_id] = None
        page = "<html><head><title>GARMIN Authentication Application</title></head></html>"
        response = text_response(page, content_type="text/html")
        response.headers["Set-Cookie"] = f"{SSO_COOKIE}={session_id}; Path=/; HttpOnly"
        return response

    def _login(self, request: Request, flow: str) -> Response:
        session_id = self._sso_session_id(request)
        # garminconnect notes that a credential POST without the sign-in page's cookies gets a 429.
        if self.login_rate_limited or session_id is None:
            return self._rate_limited()
        if request.query.get("clientId") != SSO_CLIENT_IDS[flow]:
            return self._sso_error(400, "unknown clientId")
        try:
            body = request.json()
            email, password = str(body["username"]).lower(), body["password"]
        except (ValueError, KeyError, TypeError):
            return self._sso_error(400, "malformed login request")
        user = self.users.get(email)
        if user is None or user["password"] != password:
            return json_response(sso_status("INVALID_USERNAME_PASSWORD"))
        if user["mfa"]:
            return self._start_mfa(session_id, email)
        return json_response(self._ticket_answer(email, request.query.get("service", "")))

    def _start_mfa(self, session_id: str, email: str) -> Response:
        with self.lock:
            self.sso_sessions[session_id] = PendingMfa(email, f"{secrets.randbelow(10**6):06d}")
        info = {"mfaLastMethodUsed": "email", "email": email, "mfaSetup": True}
        return json_response({**sso_status("MFA_REQUIRED"), "customerMfaInfo": info})

    def _verify_mfa(self, request: Request, flow: str) -> Response:
        if self.login_rate_limited:
            return self._rate_limited()
        session_id = self._sso_session_id(request)
        with self.lock:
            pending = self.sso_sessions.get(session_id) if session_id else None
        if pending is None:
            return self._sso_error(401, "no MFA login pending for this session")
        try:
            code = str(request.json().get("mfaVerificationCode", ""))
        except (ValueError, AttributeError):
            return self._sso_error(400, "malformed MFA request")
        if not secrets.compare_digest(code, pending.code):
            # The real wording for a wrong code is unconfirmed; any non-SUCCESSFUL type fails it.
            return json_response(sso_status("INVALID_MFA_CODE"))
        with self.lock:
            self.sso_sessions[session_id] = None
        return json_response(self._ticket_answer(pending.email, request.query.get("service", "")))

    def _ticket_answer(self, email: str, service: str) -> dict:
        ticket = f"ST-{secrets.randbelow(10**7):07d}-{secrets.token_urlsafe(20)}-cas"
        with self.lock:
            self.service_tickets[ticket] = (email, service)
        return {"serviceURL": service, "serviceTicketId": ticket, **sso_status("SUCCESSFUL")}

    def _sso_session_id(self, request: Request) -> str | None:
        cookie = SimpleCookie()
        cookie.load(request.header("cookie") or "")
        morsel = cookie.get(SSO_COOKIE)
        with self.lock:
            return morsel.value if morsel and morsel.value in self.sso_sessions else None

    def _rate_limited(self) -> Response:
        return text_response("<html><title>429 Too Many Requests</title></html>", 429, "text/html")

    def _sso_error(self, status: int, message: str) -> Response:
        return json_response({"error": {"status-code": str(status), "message": message}}, status)

    # --- DI OAuth2 token endpoint ------------------------------------------------------------------
    def _di_token(self, request: Request) -> Response:
        form = request.form()
        client_id = form.get("client_id", "")
        expected_auth = "Basic " + base64.b64encode(f"{client_id}:".encode()).decode()
        if client_id not in DI_CLIENT_IDS or request.header("authorization") != expected_auth:
            return self._oauth_error(401, "invalid_client")
        grant = form.get("grant_type")
        if grant == SERVICE_TICKET_GRANT:
            email = self._redeem_ticket(form.get("service_ticket", ""), form.get("service_url", ""))
            refresh_token = None
        elif grant == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            email = self._redeem_refresh_token(refresh_token, client_id)
        else:
            return self._oauth_error(400, "unsupported_grant_type")
        if email is None:
            return self._oauth_error(400, "invalid_grant")
        return json_response(self._issue_tokens(email, client_id, refresh_token))

    def _redeem_ticket(self, ticket: str, service_url: str) -> str | None:
        """Tickets are single-use and only valid for the service they were issued for."""
        with self.lock:
            email, service = self.service_tickets.get(ticket, (None, None))
            if email is None or service != service_url:
                return None
            del self.service_tickets[ticket]
            return email

    def _redeem_refresh_token(self, value: str, client_id: str) -> str | None:
        with self.lock:
            token = self.refresh_tokens.get(value)
            if token is None or not token.is_valid(self.clock()) or token.client_id != client_id:
                return None
            if self.rotate_refresh_tokens:
                token.revoked = True
            return token.email

    def _issue_tokens(self, email: str, client_id: str, old_refresh: str | None) -> dict:
        now = self.clock()
        jti = secrets.token_hex(16)
        claims = {"client_id": client_id, "exp": int(now + self.access_token_ttl), "iat": int(now)}
        access = fake_jwt({**claims, "jti": jti, "scope": ["CONNECT_READ", "CONNECT_WRITE"]})
        refresh = old_refresh if old_refresh and not self.rotate_refresh_tokens else None
        refresh = refresh or secrets.token_urlsafe(32)
        with self.lock:
            self.access_tokens[access] = IssuedToken(email, client_id, now + self.access_token_ttl)
            if refresh != old_refresh:
                self.refresh_tokens[refresh] = IssuedToken(email, client_id, now + self.refresh_token_ttl)
        return {
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": int(self.access_token_ttl),
            "refresh_token_expires_in": int(self.refresh_token_ttl),
            "scope": "CONNECT_READ CONNECT_WRITE",
            "jti": jti,
        }

    def _oauth_error(self, status: int, error: str) -> Response:
        return json_response({"error": error, "error_description": error.replace("_", " ")}, status)
