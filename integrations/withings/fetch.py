"""Pull measure groups from Withings and hand the weigh-ins to every route from Withings.

Incremental fetches read everything modified after the account's `lastupdate` cursor, which moves
forward only once every page was read and ingested. Window fetches (a notification's startdate/enddate,
the "last 7 days" button, `manage.py sync_withings --days N`, the scheduled reconcile of the recent days)
first do an incremental fetch, then read by measurement date. Both hand the weigh-ins to
`fitsync.feeds.take_in`. A history import reads by measurement date too, as the source's `history`
(`history_pages`), and `fitsync/imports.py` writes it through each route.

Deletions: how Withings shows a deleted group is unconfirmed, so both plausible shapes are handled. A group
that comes back with no measures (`mapping.is_deleted`, in any read) deletes its items; a live item measured
inside a window that was read completely, whose group that read did not return, is deleted too. Both go
through `fitsync.feeds.take_out`, under the destination's cap in bulk runs. A failed read raises before
anything is deleted.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fitsync import account_meta
from fitsync.errors import TransientError
from fitsync.feeds import take_in, take_out
from fitsync.models import ConnectedAccount, SyncItem, SyncRun
from fitsync.records import BodyMeasurement
from fitsync.roles import Page

from . import auth, client, mapping
from .account_meta import WithingsMeta
from .forms import HISTORY_STARTS

log = logging.getLogger("fitsync.withings")
FIRST_LOOKBACK = timedelta(days=1)  # a new account's first incremental fetch starts this far back
CURSOR_OVERLAP = 60  # seconds re-read on the next fetch: stored-while-answering groups are not lost
MAX_PAGES = 200
HISTORY_PAGE_SIZE = 100  # weigh-ins per page handed to an import: how often its progress moves
# A notification's window up to this long is a notification's few changes (not capped, as its uploads);
# a wider one is reconciled as a bulk run, so a mistaken wide window cannot wipe a history uncapped.
NOTIFIED_WINDOW_UNCAPPED = 2 * 86400


@dataclass(frozen=True)
class Window:
    """Measurement dates [start, end] (epoch seconds, both included, as getmeas reads them) read completely,
    and when that read began: an item changed since then was not judged by it."""

    start: int
    end: int
    read_from: datetime


@dataclass
class Fetched:
    groups: list[dict]
    timezone: str
    updatetime: int


def read_all_pages(account: ConnectedAccount, meastypes: list[int] = mapping.MEASTYPES, **window: int) -> Fetched:
    """Every page of getmeas for `window`, following more/offset; a stuck offset is an error."""
    groups, offset = [], 0
    for _ in range(MAX_PAGES):
        page = auth.with_token(account, lambda token: client.get_measures(token, meastypes, offset, **window))
        groups.extend(page.groups)
        if not page.more:
            return Fetched(groups, page.timezone, page.updatetime)
        if page.offset <= offset:
            raise TransientError(f"Withings paging did not advance (offset {page.offset})", provider="withings")
        offset = page.offset
    raise TransientError(f"Withings still had more after {MAX_PAGES} pages", provider="withings")


def measurements_from(account: ConnectedAccount, fetched: Fetched) -> list[BodyMeasurement]:
    """Weigh-ins with BMI from the newest height known (this fetch or an earlier one)."""
    if not account_meta.read(account, WithingsMeta).knows_height and mapping.latest_height(fetched.groups) is None:
        # The height is typed in once at sign-up, long before any window we read: look it up once.
        fetched.groups.extend(read_all_pages(account, [mapping.HEIGHT]).groups)
    height = _remember_height(account, fetched.groups)
    groups = mapping.newest_groups(fetched.groups)
    candidates = (mapping.measurement_from_group(g, fetched.timezone, height) for g in groups)
    return [m for m in candidates if m is not None]


def _remember_height(account: ConnectedAccount, groups: list[dict]) -> Decimal | None:
    stored = account_meta.read(account, WithingsMeta)
    newest = mapping.latest_height(groups)
    if newest and newest[0] >= stored.height_at:
        account_meta.write(account, WithingsMeta, height_m=str(newest[1]), height_at=newest[0], height_asked=True)
        return newest[1]
    if not stored.knows_height:
        account_meta.write(account, WithingsMeta, height_asked=True)  # Withings has none: do not ask again
    return Decimal(stored.height_m) if stored.height_m else None


def fetch_new(account: ConnectedAccount, run: SyncRun) -> dict:
    """Everything modified since the cursor; the cursor moves only after the items are stored."""
    first = not account.cursor.isdigit()  # a new account's first catch-up is bulk; later ones follow notifications
    fetched = read_all_pages(account, lastupdate=_cursor(account))
    counts = _ingest(account, fetched, run, lift_cap=False, bulk=first)
    _advance_cursor(account, fetched.updatetime - CURSOR_OVERLAP)
    return counts


def fetch_window(account: ConnectedAccount, run: SyncRun, days: int, *, lift_cap: bool = False) -> dict:
    """Weigh-ins measured in the last `days` days (a manual sync, the scheduled reconcile)."""
    end = int(time.time())
    return fetch_range(account, run, end - days * 86400, end, lift_cap=lift_cap)


def fetch_notified(account: ConnectedAccount, run: SyncRun, start: int, end: int) -> dict:
    """What a notification announced: the window it named, not capped unless it is wide."""
    return fetch_range(account, run, start, end, bulk=end - start > NOTIFIED_WINDOW_UNCAPPED)


def fetch_range(
    account: ConnectedAccount, run: SyncRun, start: int, end: int, *, lift_cap: bool = False, bulk: bool = True
) -> dict:
    """Weigh-ins measured between two epoch seconds (a window), and the deletions that window shows.

    The incremental fetch comes first: an edit that moved a weigh-in's date out of the window is taken in
    before the window's absentees are judged, so it is not taken for a deletion."""
    counts = fetch_new(account, run)
    read_from = timezone.now()
    fetched = read_all_pages(account, startdate=start, enddate=end)
    window = _ingest(account, fetched, run, lift_cap=lift_cap, bulk=bulk, window=Window(start, end, read_from))
    return {outcome: counts[outcome] + window[outcome] for outcome in counts}


def history_pages(
    account: ConnectedAccount, since: datetime | None, until: datetime | None, *, max_pages=None, page_size=None
) -> Iterator[Page]:
    """The weigh-ins measured in [since, until) (the whole history without `since`, up to now without
    `until`), oldest first, `page_size` at a time; the newest `max_pages` pages when given. Withings pages
    a range by its own offsets, newest first, so the whole range is read before the first page is handed
    over: a history of years is a few requests and a few thousand small records."""
    start = since or datetime.combine(HISTORY_STARTS, datetime.min.time(), tzinfo=UTC)
    end = min(until, timezone.now()) if until else timezone.now()
    fetched = read_all_pages(account, startdate=int(start.timestamp()), enddate=int(end.timestamp()))
    _remember_timezone(account, fetched)
    found = [m for m in measurements_from(account, fetched) if start <= m.measured_at < end]
    found.sort(key=lambda m: (m.measured_at, m.source_id))
    size = max(1, page_size or HISTORY_PAGE_SIZE)
    pages = [found[at : at + size] for at in range(0, len(found), size)]
    if max_pages is not None:
        pages = pages[len(pages) - max_pages :] if max_pages < len(pages) else pages
    remaining = sum(len(page) for page in pages)
    for page in pages:
        remaining -= len(page)
        yield Page(page, remaining=remaining)


def _remember_timezone(account: ConnectedAccount, fetched: Fetched) -> None:
    if fetched.timezone and account_meta.read(account, WithingsMeta).timezone != fetched.timezone:
        account_meta.write(account, WithingsMeta, timezone=fetched.timezone)


def _ingest(
    account: ConnectedAccount,
    fetched: Fetched,
    run: SyncRun,
    *,
    lift_cap: bool,
    bulk: bool = True,
    window: Window | None = None,
) -> dict:
    _remember_timezone(account, fetched)
    measurements = measurements_from(account, fetched)
    SyncRun.objects.filter(pk=run.pk).update(total=F("total") + len(measurements))
    counts = take_in(account, measurements, run, lift_cap=lift_cap, bulk=bulk)
    removed = take_out(account, deleted_items(account, fetched.groups, window), run, lift_cap=lift_cap, bulk=bulk)
    counts = {outcome: number + removed.get(outcome, 0) for outcome, number in counts.items()}
    log.info("withings account %s: %s groups read, %s", account.pk, len(fetched.groups), counts)
    return counts


def deleted_items(account: ConnectedAccount, groups: list[dict], window: Window | None) -> list[SyncItem]:
    """The live items (on any route) whose group came back empty, and, for a window read completely, those
    measured inside it whose group it did not return."""
    newest = mapping.newest_groups(groups)
    emptied = {str(mapping.group_id(g)) for g in newest if mapping.is_deleted(g)}
    live = SyncItem.objects.filter(account=account, operation=SyncItem.Operation.UPSERT)
    gone = list(live.filter(source_id__in=emptied)) if emptied else []
    if window is None:
        return gone
    returned = {str(mapping.group_id(g)) for g in newest if not mapping.is_deleted(g)}
    inside = live.filter(
        occurred_at__gte=datetime.fromtimestamp(window.start, UTC),
        occurred_at__lte=datetime.fromtimestamp(window.end, UTC),
        updated_at__lt=window.read_from,
    ).exclude(source_id__in=emptied)
    return gone + [item for item in inside if item.source_id not in returned]


def _cursor(account: ConnectedAccount) -> int:
    if account.cursor.isdigit():
        return int(account.cursor)
    return int((timezone.now() - FIRST_LOOKBACK).timestamp())


def _advance_cursor(account: ConnectedAccount, position: int) -> None:
    """Forward only: a slower, older fetch finishing last must not move the cursor back."""
    with transaction.atomic():
        current = ConnectedAccount.objects.select_for_update().values_list("cursor", flat=True).get(pk=account.pk)
        if position > 0 and (not current.isdigit() or position > int(current)):
            ConnectedAccount.objects.filter(pk=account.pk).update(cursor=str(position))
            account.cursor = str(position)
