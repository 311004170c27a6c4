"""A Garmin client for a job, built from the stored tokens only, and the token lifecycle around it.

garminconnect refreshes its DI token on its own: before any request once the token is within 15
minutes of expiry, and once after a 401. Garmin may rotate the refresh token on refresh, so two
workers refreshing with the same one would log one of them out. Each client we build therefore has
its `_refresh_session` replaced by `SingleFlightRefresh`, which takes the credential's lease
(`fitsync.tokens.fresh_credential`): one caller across threads and processes refreshes and stores
the new `client.dumps()` at once; the others load what it stored. On leaving the job, tokens that
still differ from the stored ones are written back, even when the job failed. Each refresh notes in
`ConnectedAccount.meta` when it happened and whether Garmin handed out a new refresh token, for the
Garmin page and the daily keep-alive (keepalive.py).

With `auth.py` this is the only code that writes Garmin `Credential` rows.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import F
from django.utils import timezone
from garminconnect import Garmin
from garminconnect.client import Client

from fitsync import account_meta
from fitsync.errors import AuthExpired
from fitsync.models import AccountStatus, ConnectedAccount, Credential
from fitsync.tokens import fresh_credential

from . import client
from .account_meta import GarminMeta

REAUTH_MESSAGE = (
    "Garmin Connect no longer accepts fitsync's sign-in ({reason}). Reconnect Garmin to resume uploading "
    "weights; they wait as pending until then."
)


class SingleFlightRefresh:
    """Stands in for `Client._refresh_session`: one refresh per token across all workers."""

    def __init__(self, account: ConnectedAccount, credential: Credential, garmin_client: Client):
        self.account = account
        self.client = garmin_client
        self.stored_blob = credential.session_blob  # what the database holds, as far as we know
        self.stored_version = credential.version

    def __call__(self, only_if_version: int | None = None) -> None:
        held = self.client.di_token

        def needs_refresh(credential: Credential) -> bool:
            if only_if_version is not None and credential.version != only_if_version:
                return False  # stored anew since the caller looked: somebody refreshed already
            return _di_token(credential.session_blob) == held  # nobody refreshed this token yet

        credential = fresh_credential(self.account, needs_refresh, self._refresh)
        if not credential.session_blob:
            raise AuthExpired("the sign-in was removed", provider=client.PROVIDER)
        self.client.loads(credential.session_blob)
        self.stored_blob, self.stored_version = credential.session_blob, credential.version

    def _refresh(self, credential: Credential) -> dict:
        self.client.loads(credential.session_blob)
        old_refresh_token = self.client.di_refresh_token
        with client.calling("refreshing the sign-in"):
            Client._refresh_di_token(self.client)  # the library's own refresh call, now under our lease
        tokens = self.client.dumps()
        rotated = self.client.di_refresh_token != old_refresh_token
        account_meta.write(self.account, GarminMeta, tokens_refreshed_at=timezone.now(), refresh_token_rotates=rotated)
        return {"session_blob": tokens, "expires_at": client.token_expiry(tokens)}

    def write_back(self) -> bool:
        """Store tokens the library changed outside a refresh we saw; only over the version we read."""
        tokens = self.client.dumps() if self.client.di_token else ""
        if not tokens or tokens == self.stored_blob:
            return False
        updated = Credential.objects.filter(account=self.account, version=self.stored_version).update(
            session_blob=tokens,
            expires_at=client.token_expiry(tokens),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        return updated == 1


@contextmanager
def garmin_session(account: ConnectedAccount) -> Iterator[Garmin]:
    """A logged-in `Garmin` for one job; raises AuthExpired (and marks the account) if the tokens are refused."""
    credential = Credential.objects.filter(account=account).first()
    if account.status == AccountStatus.NEEDS_REAUTH or credential is None or not credential.session_blob:
        raise AuthExpired("no usable sign-in is stored. Reconnect Garmin", provider=client.PROVIDER)
    garmin = client.new_garmin()
    with client.calling("loading the stored sign-in"):
        garmin.client.loads(credential.session_blob)
    meta = account_meta.read(account, GarminMeta)
    garmin.display_name = meta.display_name or account.display_name
    garmin.time_zone = meta.timezone or None
    refresh = SingleFlightRefresh(account, credential, garmin.client)
    garmin.client._refresh_session = refresh
    try:
        yield garmin
    except AuthExpired as exc:
        reason = exc.message.removeprefix("Garmin Connect ")
        account.mark_needs_reauth(REAUTH_MESSAGE.format(reason=reason))
        raise AuthExpired(f"{reason}. Reconnect Garmin", provider=client.PROVIDER, status=exc.status) from exc
    finally:
        refresh.write_back()


def _di_token(tokens_json: str) -> str | None:
    try:
        return json.loads(tokens_json).get("di_token")
    except (ValueError, AttributeError):
        return None
