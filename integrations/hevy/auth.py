"""Connecting a Hevy account: the only code that writes Hevy credentials.

Hevy has no OAuth: the user pastes an API key, which is checked against /v1/user/info before
anything is saved. fitsync then makes its own secret for the webhook's Authorization header.
"""

import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from fitsync import account_meta, crypto
from fitsync.errors import AuthExpired, TransientError, UpstreamError
from fitsync.models import ConnectedAccount, Credential, Provider

from .account_meta import HevyMeta
from .client import HevyClient


class ConnectError(Exception):
    """A message for the connect form; nothing was saved."""


def webhook_url() -> str:
    return settings.SITE_URL + reverse("hevy:webhook")


def check_api_key(api_key: str):
    """The short validation call of the connect form (the one upstream call a page may make)."""
    try:
        return HevyClient(api_key).user_info()
    except AuthExpired:
        raise ConnectError("Hevy rejected this API key. Copy it again from hevy.com/settings?developer.")
    except TransientError as exc:
        raise ConnectError(f"Hevy could not be reached ({exc}). Nothing was saved; please try again shortly.")
    except UpstreamError as exc:
        raise ConnectError(f"Hevy refused the check ({exc}). Nothing was saved.")


def connect(user, api_key: str) -> ConnectedAccount:
    """Check the key, then store it; a new account gets a webhook secret and a fresh events watermark."""
    hevy_user = check_api_key(api_key)
    with transaction.atomic():
        account, created = ConnectedAccount.objects.get_or_create(owner=user, provider=Provider.HEVY)
        account.external_user_id = hevy_user.id
        account.display_name = hevy_user.name
        if not account.cursor:
            # The events feed is for changes from now on; older history is the backfill's job.
            account.cursor = timezone.now().isoformat()
        account.save()
        account_meta.write(account, HevyMeta, webhook_url=webhook_url())
        credential, _ = Credential.objects.get_or_create(account=account)
        credential.api_key = api_key
        credential.save()
        if not credential.webhook_secret:
            rotate_webhook_secret(account)
    account.mark_connected()
    return account


def rotate_webhook_secret(account: ConnectedAccount) -> str:
    """A new secret for Hevy's Authorization header; the old one stops working at once."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        Credential.objects.filter(account=account).update(webhook_secret=secret)  # the field encrypts
        ConnectedAccount.objects.filter(pk=account.pk).update(webhook_digest=crypto.digest(secret))
        account_meta.write(account, HevyMeta, webhook_url=webhook_url())
    account.webhook_digest = crypto.digest(secret)
    return secret


def api_key_of(account: ConnectedAccount) -> str:
    return Credential.objects.get(account=account).api_key
