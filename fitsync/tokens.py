"""Single-flight token refresh across threads and processes, on SQLite and PostgreSQL alike.

`select_for_update()` does nothing on SQLite, so the credential row carries a lease: the caller that
wins the conditional UPDATE refreshes (outside any transaction) and writes the new secrets back only
while it still owns the lease; everyone else waits for the version to move and reads the result.
"""

import os
import random
import socket
import time
import uuid
from collections.abc import Callable

from .errors import TransientError
from .models import ConnectedAccount, Credential

WORKER_ID = f"{socket.gethostname()[:30]}:{os.getpid()}"


def lease_owner() -> str:
    return f"{WORKER_ID}:{uuid.uuid4().hex[:8]}"


def fresh_credential(
    account: ConnectedAccount,
    needs_refresh: Callable[[Credential], bool],
    refresh: Callable[[Credential], dict],
    *,
    wait_seconds: float = 30.0,
) -> Credential:
    """Return the account's credential, refreshed by exactly one caller if `needs_refresh` says so.

    `refresh(credential)` performs the upstream call and returns the fields to store; it may raise
    `AuthExpired` (the caller marks the account) or a transient error.
    """
    owner = lease_owner()
    deadline = time.monotonic() + wait_seconds
    while True:
        credential = Credential.objects.get(account=account)
        if not needs_refresh(credential):
            return credential
        if credential.claim_lease(owner):
            return _refresh_as_owner(credential, owner, needs_refresh, refresh)
        if time.monotonic() > deadline:
            raise TransientError("Another worker is still refreshing the token", provider=account.provider)
        time.sleep(random.uniform(0.05, 0.15))


def _refresh_as_owner(credential, owner, needs_refresh, refresh) -> Credential:
    try:
        credential.refresh_from_db()  # another caller may have finished between our read and the claim
        if not needs_refresh(credential):
            return credential
        fields = refresh(credential)
        if not credential.save_as_lease_owner(owner, **fields):
            raise TransientError("Lost the token refresh lease", provider=credential.account.provider)
        credential.refresh_from_db()
        return credential
    finally:
        credential.release_lease(owner)
