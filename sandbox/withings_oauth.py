"""OAuth2 state of the Withings fake: registered apps, authorization codes and rotating tokens.

As described in docs/upstream.md, "Withings" (OAuth); lifetimes also in docs/reliability.md.
"""

import secrets
import threading
from dataclasses import dataclass
from typing import Callable

CODE_TTL = 30  # seconds: "the authorization code is valid for 30 seconds"
ACCESS_TTL = 3 * 3600  # expires_in 10800
REFRESH_TTL = 365 * 24 * 3600
# A replaced refresh token survives this long, unless the new access token is used first.
ROTATION_GRACE = 8 * 3600
KNOWN_SCOPES = ("user.info", "user.metrics", "user.activity", "user.sleepevents")

# The statuses below are inside HTTP 200 bodies. 401 + invalid_grant for a dead refresh token is
# documented; for a bad code or client the docs only say "invalid params" (503 family), so the exact
# status and text are our choice (unconfirmed upstream).
INVALID_CODE = (503, "Invalid Params: invalid code")
INVALID_CLIENT = (503, "Invalid Params: invalid_client: invalid client_id or client_secret")
INVALID_REDIRECT = (503, "Invalid Params: redirect_uri does not match the authorization request")
INVALID_GRANT_TYPE = (503, "Invalid Params: unsupported grant_type")
INVALID_GRANT = (401, "invalid_grant")


class OAuthError(Exception):
    def __init__(self, problem: tuple[int, str]):
        super().__init__(problem[1])
        self.status, self.error = problem


@dataclass
class App:
    client_id: str
    client_secret: str
    redirect_uris: list[str]


@dataclass
class AuthCode:
    code: str
    client_id: str
    userid: int
    scope: str
    redirect_uri: str
    issued_at: float
    used: bool = False


@dataclass
class AccessToken:
    token: str
    client_id: str
    userid: int
    scope: str
    expires_at: float
    parent_refresh: str | None = None  # the refresh token spent to obtain this one
    used: bool = False


@dataclass
class RefreshToken:
    token: str
    client_id: str
    userid: int
    scope: str
    expires_at: float
    replaced_at: float | None = None
    dead: bool = False


def parse_scope(scope: str) -> list[str] | None:
    """The scopes of a comma-separated `scope` parameter; None if empty or any is unknown."""
    scopes = [s.strip() for s in scope.split(",") if s.strip()]
    if not scopes or any(s not in KNOWN_SCOPES for s in scopes):
        return None
    return scopes


def _token() -> str:
    return secrets.token_hex(20)  # 40 hex characters, like Withings' tokens and codes


class TokenStore:
    """Codes and tokens, all timed by `clock` (the fake's replaceable `now`)."""

    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.lock = threading.RLock()
        self.apps: dict[str, App] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}

    # --- codes ---------------------------------------------------------------------------------
    def issue_code(self, client_id: str, userid: int, scope: str, redirect_uri: str) -> str:
        code = _token()
        with self.lock:
            self.codes[code] = AuthCode(code, client_id, userid, scope, redirect_uri, self.clock())
        return code

    def exchange_code(self, client_id: str, secret: str, code: str, redirect_uri: str) -> dict:
        """The token body for a fresh code; the code is spent even when the exchange fails later."""
        with self.lock:
            self._check_client(client_id, secret)
            grant = self.codes.get(code)
            if grant is None or grant.used or grant.client_id != client_id:
                raise OAuthError(INVALID_CODE)
            grant.used = True
            if self.clock() - grant.issued_at > CODE_TTL:
                raise OAuthError(INVALID_CODE)
            if redirect_uri != grant.redirect_uri:
                raise OAuthError(INVALID_REDIRECT)
            return self.issue_pair(client_id, grant.userid, grant.scope, parent=None)

    # --- refresh -------------------------------------------------------------------------------
    def refresh(self, client_id: str, secret: str, refresh_token: str) -> dict:
        """Rotate: a new pair; the old refresh token lives on until the new access token is used or
        ROTATION_GRACE passes. Refreshing does not revoke earlier access tokens: the docs describe
        only refresh-token rotation, so those live out their 3 h (unconfirmed upstream)."""
        with self.lock:
            self._check_client(client_id, secret)
            old = self.refresh_tokens.get(refresh_token)
            if old is None or old.client_id != client_id or not self._is_alive(old):
                raise OAuthError(INVALID_GRANT)
            old.replaced_at = old.replaced_at or self.clock()
            return self.issue_pair(client_id, old.userid, old.scope, parent=old.token)

    def _is_alive(self, token: RefreshToken) -> bool:
        now = self.clock()
        if token.dead or now >= token.expires_at:
            return False
        return token.replaced_at is None or now < token.replaced_at + ROTATION_GRACE

    # --- access --------------------------------------------------------------------------------
    def authenticate(self, token: str) -> AccessToken | None:
        """The live access token, marked used (which kills the refresh token it replaced)."""
        with self.lock:
            access = self.access_tokens.get(token)
            if access is None or self.clock() >= access.expires_at:
                return None
            if not access.used and access.parent_refresh in self.refresh_tokens:
                self.refresh_tokens[access.parent_refresh].dead = True
            access.used = True
            return access

    def expire_access_tokens(self, match: Callable[[AccessToken], bool]) -> int:
        with self.lock:
            expired = [a for a in self.access_tokens.values() if match(a)]
            for access in expired:
                access.expires_at = min(access.expires_at, self.clock())
            return len(expired)

    def revoke_refresh_tokens(self, userid: int) -> int:
        with self.lock:
            revoked = [r for r in self.refresh_tokens.values() if r.userid == userid]
            for token in revoked:
                token.dead = True
            return len(revoked)

    # --- helpers -------------------------------------------------------------------------------
    def _check_client(self, client_id: str, secret: str) -> None:
        app = self.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret.encode(), secret.encode()):
            raise OAuthError(INVALID_CLIENT)

    def issue_pair(self, client_id: str, userid: int, scope: str, parent: str | None) -> dict:
        now = self.clock()
        access = AccessToken(_token(), client_id, userid, scope, now + ACCESS_TTL, parent)
        refresh = RefreshToken(_token(), client_id, userid, scope, now + REFRESH_TTL)
        self.access_tokens[access.token] = access
        self.refresh_tokens[refresh.token] = refresh
        return {
            "userid": userid,
            "access_token": access.token,
            "refresh_token": refresh.token,
            "expires_in": ACCESS_TTL,
            "scope": scope,
            "csrf_token": secrets.token_hex(16),
            "token_type": "Bearer",
        }
