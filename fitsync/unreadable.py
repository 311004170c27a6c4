"""Stored secrets that no key in FIELD_ENCRYPTION_KEYS opens any more (the keys changed, or the rows came
from another install): the account is marked "reconnect this service", never a 500.

Found three ways: a job or page that loads the secret (the field raises `UnreadableSecret`, see
`reported`); the service pages and the overview, which check the seals without decrypting anything
(`check_accounts`); and a reconnect, which drops the unreadable values it is about to replace (`forget`).
"""

import logging

from django.db.models import F, TextField
from django.db.models.functions import Cast

from .crypto import UNREADABLE, EncryptedTextField, UnreadableSecret, is_readable
from .errors import provider_label
from .models import AccountStatus, ConnectedAccount, Credential

log = logging.getLogger("fitsync.crypto")
MESSAGE = (
    "fitsync cannot read the {label} secrets it stored: they were encrypted with a key that is not in "
    "FIELD_ENCRYPTION_KEYS (any more). Reconnect {label}."
)


def as_stored(credentials, *names: str):
    """The rows' secret columns as stored (ciphertext): cast to plain text, the field does not decrypt them."""
    columns = {f"stored_{name}": Cast(F(name), TextField()) for name in Credential.SECRET_FIELDS}
    return credentials.annotate(**columns).values(*names, *columns)


def unreadable_fields(row: dict) -> list[str]:
    stored = {name: row[f"stored_{name}"] for name in Credential.SECRET_FIELDS}
    return [name for name, value in stored.items() if value and not is_readable(value)]


def mark(account_ids) -> None:
    """Connected accounts among these need reconnecting (an account already marked keeps its message)."""
    accounts = ConnectedAccount.objects.filter(pk__in=list(account_ids), status=AccountStatus.CONNECTED)
    for account in accounts:
        log.warning("account %s: a stored secret does not decrypt with FIELD_ENCRYPTION_KEYS", account.pk)
        account.mark_needs_reauth(MESSAGE.format(label=account.get_provider_display()))


def check_accounts(accounts) -> set[int]:
    """The ids of these accounts with an unreadable secret, marked for reconnecting. Nothing is decrypted."""
    rows = as_stored(Credential.objects.filter(account__in=accounts), "account_id")
    found = {row["account_id"] for row in rows if unreadable_fields(row)}
    mark(found)
    return found


def check(account: ConnectedAccount | None) -> None:
    """The service page's check: its account's status is current when the page renders."""
    if account is not None and check_accounts([account.pk]):
        account.refresh_from_db(fields=["status", "status_message", "last_error", "last_error_at"])


def forget(account: ConnectedAccount | None) -> None:
    """Before a reconnect: blank the unreadable values (the connect flow writes new ones), so loading the
    credential works again. Readable secrets stay."""
    if account is None:
        return
    for row in as_stored(Credential.objects.filter(account=account), "pk"):
        names = unreadable_fields(row)
        if names:
            Credential.objects.filter(pk=row["pk"]).update(**dict.fromkeys(names, ""))


def reported(field, stored: str) -> UnreadableSecret:
    """The error for a value that did not decrypt, naming the account's service; the account is marked."""
    column = Cast(F(field.name), TextField())
    owners = field.model.objects.annotate(stored=column).filter(stored=stored).values_list("account_id", flat=True)
    account = ConnectedAccount.objects.filter(pk__in=list(owners[:1])).first()
    if account is None:
        return UnreadableSecret(UNREADABLE)
    mark([account.pk])
    label = provider_label(account.provider)
    return UnreadableSecret(MESSAGE.format(label=label), provider=account.provider)


EncryptedTextField.report_unreadable = staticmethod(reported)
