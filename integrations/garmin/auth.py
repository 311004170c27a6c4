"""Connecting Garmin Connect: email + password (+ MFA code) in the browser, the login in a background job.

The password is used for one login and never stored. It cannot travel as a task argument (django-q2
pickles arguments into its table and shows them in the admin), so the view encrypts it into
`Credential.pending_blob` with a 2-minute expiry, queues a job that gets only the account id, and the
job wipes it the moment it starts. If Garmin asks for MFA, garminconnect's JSON login state takes its
place, encrypted, for at most 10 minutes; the code the user types travels the same way, and the state is
deleted once the login succeeds or expires. On success `client.dumps()` becomes `session_blob`.

When Garmin refuses logins from the server (429 for days), the user can instead paste the token file
garminconnect writes on a desktop (`client.dumps()`). It travels the same way as the password (pending
blob, 2 minutes, one job); the job loads it, reads the profile to prove it works, and stores it like a
login's tokens. A file Garmin refuses leaves nothing stored.

Blobs are taken with a compare-and-swap on `Credential.updated_at`, so a task delivered twice runs once.
With `session.py` this is the only code that writes Garmin `Credential` rows.
"""

import json
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from garminconnect import Garmin

from fitsync import account_meta, jobs, sync
from fitsync.errors import AuthExpired, PermanentError, RateLimited, UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Credential, Provider
from fitsync.profiles import zone_of
from fitsync.zones import clock_time

from . import client
from .account_meta import GarminMeta
from .login_state import (
    DONE,
    FAILED,
    NEEDS_MFA,
    RUNNING,
    cooldown_until,
    describe,
    login_state,
    set_login,
    start_cooldown,
)

PASSWORD_TTL = timedelta(minutes=2)
MFA_TTL = timedelta(minutes=10)
PASSWORD, MFA, CODE, TOKENS = "password", "mfa", "code", "tokens"  # what the pending blob holds
WRONG_CREDENTIALS = "Garmin did not accept this email and password. Check them and try again."
WRONG_CODE = "Garmin did not accept that code. Check it (or use the newest one Garmin sent) and try again."
MFA_EXPIRED = "This sign-in expired: Garmin's code is only good for a few minutes. Start again."
RATE_LIMITED = (
    "Garmin is refusing sign-ins from fitsync for now (HTTP 429). Every new attempt makes Garmin's block "
    "longer, so Connect is disabled for {length}."
)
UNREACHABLE = "Could not sign in to Garmin Connect ({reason}). Try again in a few minutes."
TOKENS_REFUSED = (
    "Garmin Connect did not accept the tokens in this file ({reason}). They may have expired or been replaced "
    "by a newer sign-in: make a new token file and paste it again. Nothing was stored."
)
TOKENS_UNCHECKED = "Could not check the token file with Garmin Connect ({reason}). Nothing was stored; try again."


class LoginRefused(Exception):
    """The user cannot start this step now; the message says why."""


# --- the view's half: database only --------------------------------------------------------------
def start_login(owner, email: str, password: str) -> ConnectedAccount:
    """Hand the password to a background login job (encrypted, 2 minutes); no upstream call here."""
    account = _account_for(owner)
    _refuse_if_busy(account)
    with transaction.atomic():
        _put_pending(account, {"step": PASSWORD, "email": email, "password": password}, PASSWORD_TTL)
        account_meta.write(account, GarminMeta, email=email)
        set_login(account, RUNNING, "Signing in to Garmin Connect…")
        _queue("integrations.garmin.tasks.login", account)
    return account


def submit_mfa_code(owner, code: str) -> ConnectedAccount:
    """Hand the MFA code to a job that resumes the pending login; "start again" once it expired."""
    account = ConnectedAccount.objects.get(owner=owner, provider=Provider.GARMIN)
    _refuse_if_busy(account)
    pending = _pending(account, MFA)
    if pending is None:
        _expire_mfa(account)
        raise LoginRefused(MFA_EXPIRED)
    with transaction.atomic():
        _put_pending(account, {**pending, "step": CODE, "code": code}, expires_at=pending["expires_at"])
        set_login(account, RUNNING, "Checking the code with Garmin Connect…")
        _queue("integrations.garmin.tasks.resume_login", account)
    return account


def start_token_import(owner, tokens: str) -> ConnectedAccount:
    """Hand a pasted token file to a background check (encrypted, 2 minutes); allowed during a 429 cooldown."""
    account = _account_for(owner)
    if login_state(account).is_running:
        raise LoginRefused("A sign-in is already running; wait for it to finish.")
    with transaction.atomic():
        _put_pending(account, {"step": TOKENS, "tokens": tokens}, PASSWORD_TTL)
        set_login(account, RUNNING, "Checking the token file with Garmin Connect…")
        _queue("integrations.garmin.tasks.import_tokens", account)
    return account


def _refuse_if_busy(account: ConnectedAccount) -> None:
    until = cooldown_until(account)
    if until:
        when = clock_time(until, zone_of(account.owner_id))
        raise LoginRefused(f"Garmin is blocking sign-ins; try again after {when}.")
    if login_state(account).is_running:
        raise LoginRefused("A sign-in is already running; wait for it to finish.")


def _account_for(owner) -> ConnectedAccount:
    account, _ = ConnectedAccount.objects.get_or_create(
        owner=owner,
        provider=Provider.GARMIN,
        defaults={"status": AccountStatus.NEEDS_REAUTH, "status_message": "Finish connecting Garmin Connect."},
    )
    Credential.objects.get_or_create(account=account)
    return account


def _queue(task: str, account: ConnectedAccount) -> None:
    jobs.send(task, account.pk, name=f"garmin login {account.pk}", group="garmin")


# --- the job's half ---------------------------------------------------------------------------------
def run_login(account_id: int) -> str:
    """Log in with the handed-over password (wiped first); ends connected, waiting for MFA, or failed."""
    account = ConnectedAccount.objects.get(pk=account_id)
    pending = _take_pending(account, PASSWORD, then=None)
    if pending is None:
        return _give_up_if_running(account, "The sign-in waited too long for a worker. Start again.")
    garmin = client.new_garmin(pending["email"], pending.pop("password"), return_on_mfa=True)
    try:
        with client.calling("signing in"):
            status, state = garmin.login()
            if status != "needs_mfa":
                garmin._load_profile_and_settings()  # login(return_on_mfa=True) returns before loading it
    except UpstreamError as error:
        return _login_failed(account, error, WRONG_CREDENTIALS)
    if status == "needs_mfa":
        expires_at = timezone.now() + MFA_TTL
        deadline = clock_time(expires_at, zone_of(account.owner_id))  # read in the user's zone, not the worker's
        _put_pending(account, {"step": MFA, "email": pending["email"], "state": state}, expires_at=expires_at)
        set_login(
            account,
            NEEDS_MFA,
            f"Garmin sent a security code (by e-mail or app). Enter it before {deadline}.",
        )
        return f"garmin account {account_id}: waiting for the MFA code"
    return _finish(account, garmin)


def run_mfa(account_id: int) -> str:
    """Resume the pending login with the code the user typed; a wrong code leaves it open for another try."""
    account = ConnectedAccount.objects.get(pk=account_id)
    pending = _take_pending(account, CODE, then=MFA)
    if pending is None:
        return _give_up_if_running(account, MFA_EXPIRED)
    garmin = client.new_garmin()
    try:
        with client.calling("checking the security code"):
            garmin.resume_login(pending["state"], pending["code"])
    except UpstreamError as error:
        if isinstance(error, AuthExpired) and "client_state" in error.message:
            _expire_mfa(account)
            return _fail(account, MFA_EXPIRED)
        if isinstance(error, RateLimited):
            _clear_pending(account)
        else:  # a wrong code, or Garmin unreachable: the pending login stays usable until it expires
            message = WRONG_CODE if isinstance(error, AuthExpired) else UNREACHABLE.format(reason=error.message)
            set_login(account, NEEDS_MFA, message)
            return f"garmin account {account_id}: code refused"
        return _login_failed(account, error, WRONG_CODE)
    return _finish(account, garmin)


def run_token_import(account_id: int) -> str:
    """Load the pasted tokens (wiped first) and read the profile with them; store them only if that works."""
    account = ConnectedAccount.objects.get(pk=account_id)
    pending = _take_pending(account, TOKENS, then=None)
    if pending is None:
        return _give_up_if_running(account, "The token file waited too long for a worker. Paste it again.")
    garmin = client.new_garmin()
    try:
        with client.calling("loading the token file"):
            garmin.client.loads(pending.pop("tokens"))
        client.load_profile(garmin)
    except UpstreamError as error:
        refused = isinstance(error, AuthExpired | PermanentError)
        return _fail(account, (TOKENS_REFUSED if refused else TOKENS_UNCHECKED).format(reason=error.message))
    return _finish(account, garmin, via="token file")


def _finish(account: ConnectedAccount, garmin: Garmin, via: str = "password") -> str:
    """Store the tokens and show who is connected; items waiting for Garmin are queued again."""
    tokens = garmin.client.dumps()
    try:
        zone = client.user_timezone(garmin)
    except UpstreamError:
        zone = "UTC"  # only used to pick the days to read around a weigh-in; a day either side covers it
    with transaction.atomic():
        Credential.objects.filter(account=account).update(
            session_blob=tokens,
            version=F("version") + 1,
            expires_at=client.token_expiry(tokens),
            pending_blob="",
            pending_expires_at=None,
            lease_owner="",
            lease_expires_at=None,
            updated_at=timezone.now(),
        )
        name = garmin.display_name or account_meta.read(account, GarminMeta).email
        ConnectedAccount.objects.filter(pk=account.pk).update(
            display_name=name[:200],
            external_user_id=str(garmin.profile_id or ""),
            status=AccountStatus.CONNECTED,
            status_message="",
            last_error="",
        )
        now = timezone.now()
        signed_in = dict(signed_in_at=now, signed_in_via=via, tokens_refreshed_at=now, keep_alive=None)
        account_meta.write(account, GarminMeta, display_name=name, timezone=zone, cooldown_seconds=0, **signed_in)
        set_login(account, DONE, f"Connected to Garmin Connect as {name}.")
        transaction.on_commit(sync.dispatch_due)
    return f"garmin account {account.pk}: connected as {name}"


def _login_failed(account: ConnectedAccount, error: UpstreamError, auth_message: str) -> str:
    if isinstance(error, RateLimited):
        return _fail(account, RATE_LIMITED.format(length=describe(start_cooldown(account))))
    if isinstance(error, AuthExpired):
        return _fail(account, auth_message)
    return _fail(account, UNREACHABLE.format(reason=error.message))


def _fail(account: ConnectedAccount, message: str) -> str:
    set_login(account, FAILED, message)
    return f"garmin account {account.pk}: {message}"


def _give_up_if_running(account: ConnectedAccount, message: str) -> str:
    """Nothing to take: another delivery of this task did the work, or the hand-over expired."""
    if login_state(account).is_running:
        return _fail(account, message)
    return f"garmin account {account.pk}: nothing to do"


# --- the pending blob -------------------------------------------------------------------------------
def _put_pending(account: ConnectedAccount, data: dict, ttl: timedelta | None = None, *, expires_at=None) -> None:
    data = {k: v for k, v in data.items() if k != "expires_at"}
    expires_at = expires_at or timezone.now() + ttl
    Credential.objects.filter(account=account).update(
        pending_blob=json.dumps(data), pending_expires_at=expires_at, updated_at=timezone.now()
    )


def _pending(account: ConnectedAccount, step: str) -> dict | None:
    """The pending blob if it holds `step` and has not expired (with its expiry under "expires_at")."""
    credential = Credential.objects.filter(account=account).first()
    return _read(credential, step)


def _read(credential: Credential | None, step: str) -> dict | None:
    if credential is None or not credential.pending_blob or not credential.pending_expires_at:
        return None
    if credential.pending_expires_at <= timezone.now():
        return None
    data = json.loads(credential.pending_blob)
    return {**data, "expires_at": credential.pending_expires_at} if data.get("step") == step else None


def _take_pending(account: ConnectedAccount, step: str, *, then: str | None) -> dict | None:
    """Take the blob for `step` exactly once: wipe it (or keep it as step `then`, minus secrets)."""
    for _ in range(3):  # the compare-and-swap loses only to a concurrent write; look again
        credential = Credential.objects.filter(account=account).first()
        data = _read(credential, step)
        if data is None:
            _expire_if_stale(credential)
            return None
        kept = {"step": then, "email": data["email"], "state": data.get("state")} if then else None
        swapped = Credential.objects.filter(pk=credential.pk, updated_at=credential.updated_at).update(
            pending_blob=json.dumps(kept) if kept else "",
            pending_expires_at=data["expires_at"] if kept else None,
            updated_at=timezone.now(),
        )
        if swapped:
            return data
    return None


def _expire_if_stale(credential: Credential | None) -> None:
    if credential and credential.pending_expires_at and credential.pending_expires_at <= timezone.now():
        _clear_pending(credential.account)


def _expire_mfa(account: ConnectedAccount) -> None:
    _clear_pending(account)
    if login_state(account).needs_mfa:
        set_login(account, FAILED, MFA_EXPIRED)


def _clear_pending(account: ConnectedAccount) -> None:
    Credential.objects.filter(account=account).update(
        pending_blob="", pending_expires_at=None, updated_at=timezone.now()
    )
