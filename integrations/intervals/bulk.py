"""Many workouts at once, for an import: a listing of the batch's days, a PUT per known or found
activity, and one bulk create for the rest (`writes.py` has the one-at-a-time rules this follows).

An activity Intervals.icu refuses (422) refuses the whole call: the batch is split until the bad one
is found, and the rest are written.
"""

from fitsync.errors import AuthExpired, PermanentError, UpstreamError
from fitsync.roles import Failed, PlannedWrite, SyncResult
from fitsync.throttle import retried

from .client import IntervalsClient
from .mapping import content_hash
from .writes import copies_of, update_existing

Outcomes = dict[str, SyncResult | Failed]


def write_many(client: IntervalsClient, writes: list[PlannedWrite]) -> Outcomes:
    """source id -> SyncResult or Failed for every write. Raises AuthExpired."""
    try:
        return retried(write_batch, client, writes)
    except PermanentError as exc:
        if len(writes) > 1:  # one bad activity refuses the whole call: find it, keep the rest
            middle = len(writes) // 2
            return {**write_many(client, writes[:middle]), **write_many(client, writes[middle:])}
        return {writes[0].source_id: Failed(str(exc))}
    except AuthExpired:
        raise
    except UpstreamError as exc:
        return {write.source_id: Failed(str(exc)) for write in writes}


def write_batch(client: IntervalsClient, writes: list[PlannedWrite]) -> Outcomes:
    copies = copies_of(client, [write.payload for write in writes])
    outcomes, fresh = {}, []
    for write in writes:
        kept = update_existing(client, write.payload, write.known_id, copies.get(write.source_id, []))
        if kept:
            outcomes[write.source_id] = written(write, kept, "updated")
        else:
            fresh.append(write)
    if fresh:
        saved = client.create_activities([write.payload for write in fresh])
        by_external_id = {str(a.get("external_id")): str(a.get("id")) for a in saved if a.get("id")}
        for write in fresh:
            created = by_external_id.get(write.source_id)
            outcomes[write.source_id] = (
                written(write, created, "created") if created else Failed("no activity returned")
            )
    return outcomes


def written(write: PlannedWrite, activity_id: str, action: str) -> SyncResult:
    return SyncResult(
        action=action, destination_id=activity_id, content_hash=content_hash(write.payload), sent=write.payload
    )
