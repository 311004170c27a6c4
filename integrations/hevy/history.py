"""Read a whole Hevy history fast: /v1/workouts pages fetched in parallel (bounded), oldest first.

Hevy pages newest first and has no date filter, so up to `concurrency` pages are in flight at any
time (a slow page holds up no other), and no page is started past one that reaches back before
`since`. Every request goes through the client's pacer, which spaces them for the whole instance and
holds everyone after a 429 (for Retry-After, or its own pause without one); so a 429 is retried after
its Retry-After alone, never a backoff on top, and other transient failures wait here with a doubling
pause, since a backfill is not an engine job.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from fitsync.errors import RateLimited, TransientError
from fitsync.records import Workout

from .client import MAX_PAGE_SIZE, HevyClient, WorkoutPage

RETRIES = 5
RATE_LIMITED_RETRIES = 10  # 429s, each held by the pacer first
BASE_PAUSE = 1.0  # seconds; doubles per retry


def fetch_history(
    client: HevyClient,
    *,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    concurrency: int = 4,
) -> list[Workout]:
    """Every workout in [since, until), oldest first, from at most `max_pages` pages (newest pages first)."""
    first = with_retries(client.workouts_page, 1, page_size)
    last_page = first.page_count if max_pages is None else min(first.page_count, max_pages)
    reader = PageReader(client, page_size, since)
    if since and _reaches_before(first, since):
        return select([first], since, until)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        pages = [first, *(page for page in pool.map(reader.read, range(2, last_page + 1)) if page)]
    return select(pages, since, until)


class PageReader:
    """Reads one page per call, or nothing once an earlier page reached back before `since`."""

    def __init__(self, client: HevyClient, page_size: int, since: datetime | None):
        self.client, self.page_size, self.since = client, page_size, since
        self.stop_after: int | None = None
        self._lock = threading.Lock()

    def read(self, number: int) -> WorkoutPage | None:
        if self.stop_after is not None and number > self.stop_after:
            return None
        page = with_retries(self.client.workouts_page, number, self.page_size)
        if self.since and _reaches_before(page, self.since):
            with self._lock:
                self.stop_after = min(number, self.stop_after or number)
        return page


def select(pages: list[WorkoutPage], since: datetime | None, until: datetime | None) -> list[Workout]:
    # A workout saved during the read shifts the pages by one, so the same workout can appear twice.
    unique = {w.source_id: w for page in pages for w in page.workouts}
    chosen = [w for w in unique.values() if (not since or w.start >= since) and (not until or w.start < until)]
    return sorted(chosen, key=lambda w: (w.start, w.source_id))


def _reaches_before(page: WorkoutPage, since: datetime) -> bool:
    return bool(page.workouts) and min(w.start for w in page.workouts) < since


def with_retries(call, *args, attempts: int = RETRIES):
    """Retry a 429 at once (the pacer holds it) and other transient failures with a doubling pause."""
    failures = {"rate_limited": 0, "transient": 0}
    while True:
        try:
            return call(*args)
        except RateLimited as exc:
            failures["rate_limited"] += 1
            if failures["rate_limited"] >= max(attempts, RATE_LIMITED_RETRIES):
                raise
            time.sleep(exc.retry_after or 0)  # the pacer holds everyone as long; without it, its pause
        except TransientError:
            failures["transient"] += 1
            if failures["transient"] >= attempts:
                raise
            time.sleep(BASE_PAUSE * 2 ** (failures["transient"] - 1))
