"""Read a whole Hevy history fast: /v1/workouts pages fetched in parallel (bounded), oldest first.

Hevy pages newest first and has no date filter, so the pages are read in windows of `concurrency`
and reading stops after a window that reaches back past `since`. Every request still goes through
the client's per-process pacing; 429 and transient failures are retried here, since a backfill is
not an engine job.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from fitsync.errors import RateLimited, TransientError
from fitsync.records import Workout

from .client import MAX_PAGE_SIZE, HevyClient, WorkoutPage

RETRIES = 5
BASE_PAUSE = 1.0  # seconds; doubles per retry


def fetch_history(client: HevyClient, *, page_size: int = MAX_PAGE_SIZE, max_pages: int | None = None,
                  since: datetime | None = None, until: datetime | None = None,
                  concurrency: int = 4) -> list[Workout]:
    """Every workout in [since, until), oldest first, from at most `max_pages` pages (newest pages first)."""
    first = with_retries(client.workouts_page, 1, page_size)
    last_page = first.page_count if max_pages is None else min(first.page_count, max_pages)
    pages = [first]
    numbers = list(range(2, last_page + 1))
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        while numbers and not (since and _reaches_before(pages[-1], since)):
            window, numbers = numbers[:concurrency], numbers[concurrency:]
            pages.extend(pool.map(lambda n: with_retries(client.workouts_page, n, page_size), window))
    return select(pages, since, until)


def select(pages: list[WorkoutPage], since: datetime | None, until: datetime | None) -> list[Workout]:
    # A workout saved during the read shifts the pages by one, so the same workout can appear twice.
    unique = {w.source_id: w for page in pages for w in page.workouts}
    chosen = [w for w in unique.values() if (not since or w.start >= since) and (not until or w.start < until)]
    return sorted(chosen, key=lambda w: (w.start, w.source_id))


def _reaches_before(page: WorkoutPage, since: datetime) -> bool:
    return bool(page.workouts) and min(w.start for w in page.workouts) < since


def with_retries(call, *args, attempts: int = RETRIES):
    """Retry 429s (not before Retry-After) and transient failures with a doubling pause."""
    for attempt in range(1, attempts + 1):
        try:
            return call(*args)
        except TransientError as exc:  # RateLimited is a TransientError
            if attempt == attempts:
                raise
            pause = BASE_PAUSE * 2 ** (attempt - 1)
            time.sleep(max(pause, exc.retry_after or 0) if isinstance(exc, RateLimited) else pause)
