"""Finding what an upload made: Garmin answers an upload 202 and lists the result a little later.

Both Garmin destinations (weigh-ins in `weights.py`, strength activities in `strength_destination.py`)
read back the same way: a few looks with short waits (READBACK_WAITS, a few seconds in all). What one of
them still does not find, the caller has noted on its item (`remember_upload`), so a retry's look counts
the find as its own upload rather than as something Garmin already had.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from django.utils import timezone

from fitsync.models import SyncItem

# Seconds to wait before each look after an upload: looks at 0, 0.25, 1 and 3 s.
READBACK_WAITS = (0.0, 0.25, 0.75, 2.0)
T = TypeVar("T")


def read_back(look: Callable[[], T | None], *, looked: bool = False) -> T | None:
    """`look()` after each of READBACK_WAITS until it finds something; None when it never did. `looked`:
    the caller has just looked itself, so the look at once is left out."""
    for wait in READBACK_WAITS[1:] if looked else READBACK_WAITS:
        time.sleep(wait)
        found = look()
        if found:
            return found
    return None


def remember_upload(item: SyncItem, content_hash: str, **details) -> None:
    """Note on the item that our file of this content went to Garmin (kept until the outcome is recorded),
    with `details` the retry needs (the watch activity a merged upload replaces, say). Weigh-ins note it
    once Garmin accepted the file; strength activities just before the upload (`strength_destination.py`)."""
    uploaded = {"hash": content_hash, "at": timezone.now().isoformat(), **details}
    sent = {**(item.sent or {}), "uploaded": uploaded}
    SyncItem.objects.filter(pk=item.pk, lease_owner=item.lease_owner).update(sent=sent)
    item.sent = sent


def uploaded_hash(item: SyncItem) -> str:
    """The content hash of the file an earlier attempt uploaded for this item, "" when none did."""
    return ((item.sent or {}).get("uploaded") or {}).get("hash") or ""
