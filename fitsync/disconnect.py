"""Disconnecting a service: let go at the service, wipe what fitsync stores to reach it, keep the history.

The account row stays (its items, runs and attempts hang off it), marked disconnected: the engine and the
dispatcher leave it alone, its items wait, and connecting again picks up where it stopped.
"""

import logging

from django.db import transaction
from django.utils import timezone

from .errors import UpstreamError, provider_label
from .models import AccountStatus, ConnectedAccount, Credential
from .roles import ServiceRole
from .routes import ROUTES

log = logging.getLogger("fitsync.disconnect")


def roles_of(provider: str) -> list[ServiceRole]:
    """Every role the service plays in the route table, each once."""
    found: list[ServiceRole] = []
    for route in ROUTES.values():
        for role in (route.source_role, route.destination_role):
            if role.provider == provider and all(role is not other for other in found):
                found.append(role)
    return found


def disconnect_note(provider: str) -> str:
    return " ".join(role.disconnect_note for role in roles_of(provider) if role.disconnect_note)


def disconnect(account: ConnectedAccount) -> None:
    """Ask the service's roles to let go (best effort: a refusal must not keep the tokens), then wipe."""
    for role in roles_of(account.provider):
        try:
            role.disconnect(account)
        except UpstreamError as exc:
            log.warning("account %s: %s did not let go: %s", account.pk, account.provider, exc.message)
    wipe(account)


def wipe(account: ConnectedAccount) -> None:
    """Blank every stored secret and the webhook digest; the account says it is disconnected."""
    label = provider_label(account.provider)
    secrets = dict.fromkeys(Credential.SECRET_FIELDS, "")
    with transaction.atomic():
        Credential.objects.filter(account=account).update(
            **secrets, expires_at=None, pending_expires_at=None, lease_owner="", lease_expires_at=None
        )
        ConnectedAccount.objects.filter(pk=account.pk).update(
            status=AccountStatus.DISABLED,
            status_message=f"{label} is disconnected; its history is kept. Connect it again to resume syncing.",
            webhook_digest="",
            updated_at=timezone.now(),
        )
    log.info("account %s: %s disconnected, secrets wiped", account.pk, account.provider)
