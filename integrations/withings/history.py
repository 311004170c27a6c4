"""A Withings account's weigh-ins as a history for imports through a route (`fitsync/imports.py`): the
range read at once (getmeas pages through it), then handed over a page at a time, oldest first."""

from collections.abc import Iterator
from datetime import datetime, time

from django.utils import timezone

from fitsync.models import ConnectedAccount
from fitsync.roles import Page

from . import fetch
from .forms import HISTORY_STARTS

PAGE_SIZE = 100


def read_history(
    account: ConnectedAccount, since: datetime | None, until: datetime | None, *, max_pages=None, page_size=None
) -> Iterator[Page]:
    """The weigh-ins measured in [since, until) (all of them, to now, without bounds), oldest first."""
    start = since or timezone.make_aware(datetime.combine(HISTORY_STARTS, time.min))
    end = until or timezone.now()
    fetched = fetch.read_all_pages(account, startdate=int(start.timestamp()), enddate=int(end.timestamp()))
    fetch.remember_timezone(account, fetched)
    measurements = [m for m in fetch.measurements_from(account, fetched) if start <= m.measured_at < end]
    size = max(1, page_size or PAGE_SIZE)
    pages = [measurements[at : at + size] for at in range(0, len(measurements), size)]
    pages = pages[-max_pages:] if max_pages else pages
    for number, records in enumerate(pages, 1):
        yield Page(records, remaining=sum(len(page) for page in pages[number:]))
