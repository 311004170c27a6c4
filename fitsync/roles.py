"""The two roles a service plays in a route: a source of records, and a destination for them.

A route (`fitsync/routes.py`) names one of each and a mapping between them. The engine syncs every item
of every route the same way (`fitsync.sync.sync_step`):

    record = source.fetch(context)                              # NotFound: gone from the source
    payload = mapping(record, destination.target(context))      # pure
    result = destination.write(context, payload)                # or destination.delete(context)

Records are the neutral ones of `fitsync/records.py`. Both roles raise only `fitsync.errors`; the engine
retries, fails or marks the account. A destination that must not decide yet (a watch may still be syncing
the same workout, say) raises `NotYet`: the item waits until then and spends no attempt. A service
implements the methods its routes need: a source that cannot list its history, or a destination that
cannot write in bulk, leaves those out.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .item_states import ItemStatus


@dataclass
class SyncContext:
    item: Any  # the SyncItem, leased by this job
    source: Any  # the ConnectedAccount the item came from
    destination: Any  # the ConnectedAccount the route writes to
    route: str = ""  # the route's name: its per-user options are `route_settings.options_of(owner, route)`


@dataclass
class SyncResult:
    """What a destination did with one item."""

    status: str = ItemStatus.SYNCED  # synced, skipped or held
    action: str = "unchanged"  # created, updated, deleted, unchanged, skipped, held
    destination_id: str = ""
    content_hash: str = ""
    sent: dict = field(default_factory=dict)
    note: str = ""  # the reason for a skip or a hold, shown on the dashboard


@dataclass
class SentSummary:
    """What the item page says an item's last write sent, in words: facts ({label: text}; a text that is an
    ISO instant is shown on the reader's clock), and a table (`caption`, `headers`, `rows`) when the write
    sent a list, such as a workout's exercises or a day's values."""

    facts: dict[str, str] = field(default_factory=dict)
    caption: str = ""
    headers: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)


class NotYet(Exception):
    """Not a failure: the destination asks to be called again at `until` (aware), not before. The engine
    releases the item, pending, due at `until`, with `note` shown on the dashboard; no attempt is spent."""

    def __init__(self, until: datetime, note: str):
        super().__init__(note)
        self.until = until
        self.note = note


@dataclass
class Failed:
    """A write that did not happen, and why (shown on the dashboard and by the import)."""

    message: str


@dataclass
class Page:
    """A page of a source's history: its records, oldest first, and how many may still come after it
    (an upper bound for a progress bar; None when the source cannot tell)."""

    records: list
    remaining: int | None = None


@dataclass
class PlannedWrite:
    """One record an import writes: the mapped payload and the destination id its item names, if any."""

    source_id: str
    record: Any
    payload: Any
    described: "Described"
    known_id: str = ""


@dataclass
class Described:
    """What the dashboard shows of a record before it is written: its title, time and snapshot."""

    title: str
    occurred_at: datetime | None
    snapshot: dict


class ServiceRole:
    """What both roles share: the dashboard's "Disconnect" asks each role of the service to let go."""

    provider: str = ""
    disconnect_note: str = ""  # what else disconnecting undoes, for the confirmation page

    def disconnect(self, account) -> None:
        """Undo at the service what connecting set up (a notification subscription, say), before fitsync
        wipes the account's tokens; raise only `fitsync.errors` (the wipe goes ahead anyway)."""


class Source(ServiceRole):
    noun: str = "item"  # what one record is called on the dashboard: "workout", "measurement"
    heading: str = "Items"  # the dashboard's list of a route's items: "Workouts", "Weights"
    title_label: str = "Item"  # the list's first column, the item's title: "Workout", "Measured"
    charts: tuple[str, ...] = ()  # the dashboard charts its snapshots feed (`fitsync.dashboard.chart_views.CHARTS`)
    max_page_size: int | None = None  # the largest page `history` can read (None: no limit)

    def fetch(self, context) -> Any:
        """The record behind `context.item.source_id`, as it is now; NotFound when the source has none."""
        raise NotImplementedError

    def describe(self, record) -> Described:
        raise NotImplementedError

    def facts(self, snapshot: dict, unit: str = "kg") -> dict[str, str]:
        """What the dashboard shows of an item, read from its snapshot: {label: text}, the same labels for
        every item (an empty snapshot gives them too), an en dash where a value is unknown. Weights are
        written in `unit`, the reader's kg or lb (`fitsync.profiles.weight_text`)."""
        return {}

    def title_in(self, title: str, snapshot: dict, unit: str) -> str:
        """The item's title for a reader of weights in `unit`: as described, unless it states a weight."""
        return title

    def skip_reason(self, record) -> str:
        """Why this record must not be synced (an ambiguous weigh-in, say), or "" to sync it."""
        return ""

    def history(
        self, account, since: datetime | None, until: datetime | None, *, max_pages=None, page_size=None
    ) -> Iterator[Page]:
        """The account's records in [since, until), a `Page` at a time, oldest first, for imports
        (`fitsync/imports.py`); from the newest `max_pages` pages of `page_size` records when given."""
        raise NotImplementedError

    def webhook_is_set(self, account) -> bool:
        """Whether the service delivers changes to fitsync on its own (the overview's first-run checklist).
        By default: a delivery has arrived, which proves the webhook is configured. (Read through the
        account's reverse relation: the models import the route table, which imports the roles.)"""
        return account.inboundevent_set.exists()


class Destination(ServiceRole):
    # Safety cap: at most this many uploads per run of new data (None: no cap). The rest wait, held.
    max_uploads_per_run: int | None = None

    def target(self, context) -> Any:
        """What the mapping needs to know of the destination (the athlete's timezone, say)."""
        return None

    def link(self, item) -> str:
        """Where people can see the copy this item made, for the dashboard; "" when there is no such page."""
        return ""

    def sent_summary(self, item) -> SentSummary | None:
        """What the item's last write sent (`item.sent`), in words, for its page; read from the item alone.
        None: the page lists the fields sent as they are stored."""
        return None

    def fields_written(self, account) -> list[str]:
        """What a write sets at the destination for this user, in words, for the route's options page; may
        ask the destination (raising only `fitsync.errors`). Empty: nothing worth listing."""
        return []

    def unchanged(self, item, payload) -> bool:
        """True when the item's copy at the destination already holds this payload (nothing to write)."""
        return False

    def write(self, context, payload):
        """Create or update the destination's copy of the item: a `fitsync.sync.SyncResult`. Idempotent:
        a retry, a replay or a lost database never makes a second copy."""
        raise NotImplementedError

    def delete(self, context):
        """Remove the copy this item made, if any: a `SyncResult` (skipped when there was none)."""
        raise NotImplementedError

    # Optional, for imports in bulk: bulk_writer(account) -> write_many, a function taking a list of
    # `PlannedWrite`s (`batch_size` at most) and returning {source_id: SyncResult | Failed}. It is made in
    # the caller's thread and called from a few threads at once, so it touches the network only, never the
    # database. It raises AuthExpired; every other error is a Failed value. A SyncResult skipped or held wrote
    # nothing: the item keeps what it knew of its copy, and shows the note. With it, discard_copy(account,
    # destination_id, keep) removes a copy a batch created while a job wrote the same record.
    bulk_writer = None
    batch_size = 100
