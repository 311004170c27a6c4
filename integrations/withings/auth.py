"""Connecting Withings (OAuth2 in the browser) and keeping its rotating tokens fresh.

This is the only module that writes Withings `Credential` rows. Refreshes are single-flight across
threads and processes (`fitsync.tokens.fresh_credential`): the new refresh token is stored before
the new access token is ever used, because using it kills the old refresh token at Withings.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fitsync.crypto import digest
from fitsync.errors import AuthExpired
from fitsync.models import AccountStatus, ConnectedAccount, Credential, Provider
from fitsync.tokens import fresh_credential

from . import client

SCOPE = "user.metrics,user.info"  # comma-separated, as Withings wants it
STATE_SESSION_KEY = "withings_oauth_state"
STATE_TTL = timedelta(minutes=15)
REFRESH_MARGIN = timedelta(minutes=10)
REAUTH_MESSAGE = "Withings no longer accepts fitsync's access ({reason}). Reconnect Withings to resume syncing."


def is_configured() -> bool:
    return bool(settings.WITHINGS_CLIENT_ID and settings.WITHINGS_CLIENT_SECRET)


def callback_url() -> str:
    """The redirect URI to register in the Withings developer dashboard."""
    return settings.SITE_URL + reverse("withings:callback")


# --- the browser flow ---------------------------------------------------------------------------
def authorize_url(session) -> str:
    """Withings' consent page, with a fresh single-use `state` bound to this session."""
    state = secrets.token_urlsafe(24)
    session[STATE_SESSION_KEY] = {"state": state, "issued": timezone.now().timestamp()}
    query = {
        "response_type": "code",
        "client_id": settings.WITHINGS_CLIENT_ID,
        "state": state,
        "scope": SCOPE,
        "redirect_uri": callback_url(),
    }
    return f"{settings.WITHINGS_ACCOUNT_URL}/oauth2_user/authorize2?{urlencode(query)}"


def take_state(session, presented: str) -> bool:
    """True if `presented` is this session's pending state; the state is spent either way."""
    pending = session.pop(STATE_SESSION_KEY, None) or {}
    expected, issued = str(pending.get("state", "")), float(pending.get("issued", 0))
    fresh = timezone.now().timestamp() - issued < STATE_TTL.total_seconds()
    return bool(expected and presented) and fresh and secrets.compare_digest(expected, presented)


@dataclass(frozen=True)
class Connection:
    account: ConnectedAccount
    created: bool


def connect(owner, code: str) -> Connection:
    """Exchange the code at once (it lives 30 s) and store the tokens; raises fitsync.errors."""
    tokens = client.request_token(code, callback_url())
    return save_tokens(owner, tokens)


@transaction.atomic
def save_tokens(owner, tokens: client.TokenSet) -> Connection:
    """Create or update the owner's Withings account and credential together (never half of it)."""
    account, created = ConnectedAccount.objects.get_or_create(owner=owner, provider=Provider.WITHINGS)
    if not created and account.external_user_id != tokens.userid:
        # Another Withings user: their feed starts afresh, the old subscription belongs to the old user.
        account.cursor, account.meta = "", {}
    account.external_user_id = tokens.userid
    account.display_name = f"Withings user {tokens.userid}"
    account.status, account.status_message, account.last_error = AccountStatus.CONNECTED, "", ""
    account.save()
    credential, _ = Credential.objects.get_or_create(account=account)
    credential.access_token, credential.refresh_token = tokens.access_token, tokens.refresh_token
    credential.expires_at = timezone.now() + timedelta(seconds=tokens.expires_in)
    credential.scope = tokens.scope
    # A refresh still in flight for the old tokens must not overwrite these: take its lease away.
    credential.lease_owner, credential.lease_expires_at = "", None
    credential.version += 1
    credential.save()
    ensure_webhook_token(account)
    return Connection(account, created)


# --- tokens -------------------------------------------------------------------------------------
def _needs_refresh(rejected: str) -> Callable[[Credential], bool]:
    def needs_refresh(credential: Credential) -> bool:
        near_expiry = credential.expires_at is None or credential.expires_at - REFRESH_MARGIN <= timezone.now()
        return near_expiry or (bool(rejected) and credential.access_token == rejected)

    return needs_refresh


def _refresh(credential: Credential) -> dict:
    tokens = client.refresh_token(credential.refresh_token)
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_at": timezone.now() + timedelta(seconds=tokens.expires_in),
        "scope": tokens.scope or credential.scope,
    }


def access_token(account: ConnectedAccount, rejected: str = "") -> str:
    """A usable access token: refreshed ~10 minutes before expiry, or when `rejected` by Withings."""
    try:
        return fresh_credential(account, _needs_refresh(rejected), _refresh).access_token
    except AuthExpired as exc:
        account.mark_needs_reauth(REAUTH_MESSAGE.format(reason=exc.message))
        raise


def with_token(account: ConnectedAccount, call: Callable[[str], object]):
    """Run `call(access_token)`; on a 401 refresh once and retry, a second 401 needs the user."""
    if account.status == AccountStatus.NEEDS_REAUTH:
        raise AuthExpired(account.status_message or "Reconnect Withings", provider=Provider.WITHINGS)
    token = access_token(account)
    try:
        return call(token)
    except AuthExpired:
        token = access_token(account, rejected=token)
    try:
        return call(token)
    except AuthExpired as exc:
        account.mark_needs_reauth(REAUTH_MESSAGE.format(reason=exc.message))
        raise


# --- the webhook URL token ----------------------------------------------------------------------
def ensure_webhook_token(account: ConnectedAccount) -> str:
    """The account's unguessable notification URL token, created once and kept across reconnects."""
    token = secrets.token_urlsafe(32)
    # Conditional: two callers racing keep the first token (an empty encrypted field stays "").
    if Credential.objects.filter(account=account, webhook_secret="").update(webhook_secret=token):
        ConnectedAccount.objects.filter(pk=account.pk).update(webhook_digest=digest(token))
        account.webhook_digest = digest(token)
        return token
    return Credential.objects.get(account=account).webhook_secret
