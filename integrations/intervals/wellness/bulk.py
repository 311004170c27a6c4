"""Many weigh-ins at once, for a history import: the days of a batch read in one call and written in one
`PUT /wellness-bulk`.

The import hands its records over oldest first, in batches, from a few threads; the writer touches only
the network. It starts from the weigh-ins fitsync already holds (read from the route's items when it is
made, in the import's own thread) and adds each record of the import as its batch comes: a day whose
weigh-ins fall in two batches is written again with both, and a weigh-in the import leaves out as
unchanged still counts for its day. Batches go one at a time, so the later write of a split day is the
complete one. Each batch reads its days first (`GET /wellness?oldest=&newest=`) and sends whole records
(`writes.py`); a locked day is left alone and its weigh-ins skipped with the reason.
"""

import threading
from datetime import date

from fitsync.errors import AuthExpired, UpstreamError
from fitsync.item_states import ItemStatus
from fitsync.roles import Failed, PlannedWrite, SyncResult
from fitsync.throttle import retried

from ..client import IntervalsClient
from .days import KnownWeighIns
from .mapping import Reading, day_values
from .writes import day_change, is_locked, locked_note, sent_record

Outcomes = dict[str, SyncResult | Failed]


class DayBulkWriter:
    def __init__(self, client: IntervalsClient, known: KnownWeighIns):
        self.client, self.known = client, known
        self._lock = threading.Lock()
        self._seen: dict[str, dict[str, Reading]] = {}  # day -> source id -> reading, this import's records
        self._passed: dict[str, str] = {}  # source id -> its day, for every record of this import so far

    def __call__(self, writes: list[PlannedWrite]) -> Outcomes:
        """source id -> SyncResult or Failed for every write. Raises AuthExpired."""
        with self._lock:
            try:
                return retried(self._write, writes)
            except AuthExpired:
                raise
            except UpstreamError as exc:
                return {write.source_id: Failed(str(exc)) for write in writes}

    def _write(self, writes: list[PlannedWrite]) -> Outcomes:
        outcomes = self._take(writes)
        days = {write.payload.day for write in writes if write.source_id not in outcomes}
        days = sorted(days | {write.known_id for write in writes if write.known_id})  # a weigh-in's former day too
        if not days:
            return outcomes
        target = writes[0].payload.target
        current = self.client.wellness_days(date.fromisoformat(days[0]), date.fromisoformat(days[-1]))
        settled, records = {}, []
        for day in days:
            record = current.get(day, {"id": day})
            if is_locked(record):
                continue
            values = day_values(self.readings_of(day, target), target.pick)
            change = day_change(record, values, self.known.sent.get(day, {}))
            if change.record is not None:
                records.append({**change.record, "id": day})
            settled[day] = sent_record(day, values, change.cleared)
        if records:
            self.client.put_wellness_days(records)
        for day, sent in settled.items():
            self.known.remember_sent(day, sent["values"])
        for write in writes:
            if write.source_id not in outcomes:
                outcomes[write.source_id] = outcome(write, settled.get(write.payload.day))
        return outcomes

    def _take(self, writes: list[PlannedWrite]) -> Outcomes:
        """Add the batch's weigh-ins to their days; those the source sets aside are skipped, with its reason."""
        skipped = {}
        for write in writes:
            self._seen.get(self._passed.get(write.source_id, ""), {}).pop(write.source_id, None)
            self._passed[write.source_id] = write.payload.day
            reason = self.known.skip_reason(write.record)
            if reason:
                skipped[write.source_id] = SyncResult(status=ItemStatus.SKIPPED, action="skipped", note=reason)
            else:
                self._seen.setdefault(write.payload.day, {})[write.source_id] = write.payload
        return skipped

    def readings_of(self, day: str, target) -> list[Reading]:
        known = [r for r in self.known.readings_of(day, target) if r.source_id not in self._passed]
        return known + list(self._seen.get(day, {}).values())


def outcome(write: PlannedWrite, sent: dict | None) -> SyncResult:
    day = write.payload.day
    if sent is None:
        return SyncResult(
            status=ItemStatus.SKIPPED, action="skipped", destination_id=write.known_id, note=locked_note(day)
        )
    action = "updated" if write.known_id else "created"
    return SyncResult(action=action, destination_id=day, content_hash=write.payload.digest(), sent=sent)
