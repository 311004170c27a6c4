"""The webhook delivery log: every service's inbound view reports each delivery here, accepted or refused.

Like healthchecks' event log, it answers "do the deliveries arrive, and why are some refused?". Nothing
the sender presented is stored (no header, no URL token, no body): the reason is our own words.

Refusals that match no account come from anyone on the internet, so a process records at most one such
refusal per service a second: a flood cannot turn into a flood of database writes, and the log still
shows that refused deliveries arrive. Each (service, account) keeps its newest `Delivery.KEEP` rows.
"""

import threading
import time

from django.db.models import Q

from .models import ConnectedAccount, Delivery

Outcome = Delivery.Outcome
UNMATCHED_EVERY_SECONDS = 1.0
SHOWN = 50
PRUNE_EVERY = 20  # deliveries between trims of the log: each webhook's transaction stays short
_last_unmatched: dict[str, float] = {}
_lock = threading.Lock()


def record(
    provider: str,
    outcome: str,
    status_code: int,
    *,
    account_id: int | None = None,
    reason: str = "",
    item_id: int | None = None,
) -> None:
    """Log one delivery; when the account received data, say so on the account too."""
    if account_id is None and not _unmatched_slot_free(provider):
        return
    delivery = Delivery.objects.create(
        provider=provider,
        account_id=account_id,
        outcome=outcome,
        status_code=status_code,
        reason=reason[:200],
        item_id=item_id,
    )
    if delivery.pk % PRUNE_EVERY == 0:  # the log may run a few rows over its size between prunes
        _prune(provider, account_id)
    if outcome == Outcome.ACCEPTED and account_id is not None:
        ConnectedAccount(pk=account_id).mark_received()


def _unmatched_slot_free(provider: str) -> bool:
    now = time.monotonic()
    with _lock:
        if now - _last_unmatched.get(provider, -UNMATCHED_EVERY_SECONDS) < UNMATCHED_EVERY_SECONDS:
            return False
        _last_unmatched[provider] = now
    return True


def _prune(provider: str, account_id: int | None) -> None:
    rows = Delivery.objects.filter(provider=provider, account_id=account_id)
    beyond = list(rows.order_by("-pk").values_list("pk", flat=True)[Delivery.KEEP : Delivery.KEEP + 1])
    if beyond:
        rows.filter(pk__lte=beyond[0]).delete()


def recent(user, provider: str, limit: int = SHOWN) -> list[Delivery]:
    """The newest deliveries to `provider`'s webhook for the user's account, and the refused ones that
    matched no account (they are the ones that tell a wrong URL or secret)."""
    mine_or_unmatched = Q(account__owner=user) | Q(account__isnull=True)
    rows = Delivery.objects.filter(mine_or_unmatched, provider=provider).select_related("item")
    return list(rows.order_by("-received_at", "-pk")[:limit])
