"""Many workouts at once, for an import: a PUT per known or found activity, and one bulk create for the
rest (`writes.py` has the one-at-a-time rules this follows).

Known copies are found in a listing by `external_id`. An import writes oldest first, so one listing from
the first batch's first day to today covers the batches after it; it is listed again when a batch falls
outside it, and after any failed call (a create that timed out may have happened: the next look finds it).
An activity Intervals.icu refuses (422) refuses the whole call: the batch is split until the bad one
is found, and the rest are written.
"""

import threading
from datetime import date

from django.utils import timezone

from fitsync.errors import AuthExpired, PermanentError, UpstreamError
from fitsync.roles import Failed, PlannedWrite, SyncResult
from fitsync.throttle import retried

from .client import IntervalsClient
from .mapping import content_hash
from .writes import copies_near, start_day, update_existing

Outcomes = dict[str, SyncResult | Failed]


class BulkWriter:
    """Writes batches of one import; called from a few threads at once (the listing is shared)."""

    def __init__(self, client: IntervalsClient):
        self.client = client
        self._lock = threading.Lock()
        self._listed: tuple[date, date, dict[str, list[str]]] | None = None  # first day, last day, copies

    def __call__(self, writes: list[PlannedWrite]) -> Outcomes:
        """source id -> SyncResult or Failed for every write. Raises AuthExpired."""
        try:
            return retried(self.write_batch, writes)
        except PermanentError as exc:
            if len(writes) > 1:  # one bad activity refuses the whole call: find it, keep the rest
                middle = len(writes) // 2
                return {**self(writes[:middle]), **self(writes[middle:])}
            return {writes[0].source_id: Failed(str(exc))}
        except AuthExpired:
            raise
        except UpstreamError as exc:
            return {write.source_id: Failed(str(exc)) for write in writes}

    def write_batch(self, writes: list[PlannedWrite]) -> Outcomes:
        try:
            return self._write(writes, self.copies_for([start_day(w.payload) for w in writes]))
        except Exception:
            with self._lock:
                self._listed = None
            raise

    def copies_for(self, days: list[date]) -> dict[str, list[str]]:
        """external_id -> ids of the activities carrying it, from a listing covering `days`."""
        with self._lock:
            listed = self._listed
            if listed is None or min(days) < listed[0] or max(days) > listed[1]:
                first, last = min(days), max(max(days), timezone.localdate())
                listed = self._listed = (first, last, copies_near(self.client, first, last))
            return listed[2]

    def _write(self, writes: list[PlannedWrite], copies: dict[str, list[str]]) -> Outcomes:
        outcomes, fresh = {}, []
        for write in writes:
            kept = update_existing(self.client, write.payload, write.known_id, copies.get(write.source_id, []))
            if kept:
                outcomes[write.source_id] = written(write, kept, "updated")
            else:
                fresh.append(write)
        if fresh:
            saved = self.client.create_activities([write.payload for write in fresh])
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
