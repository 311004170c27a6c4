"""One budget of Withings requests for the whole app (120/minute per application, all users).

The budget lives in the cache, so every thread, worker and web process draws from it. A request
takes one numbered slot in the current 10-second bucket with `cache.add`, which is atomic on every
backend we use (Redis SET NX, the database cache's primary key, locmem's lock); `incr` is not atomic
on the database cache. Any 60-second window overlaps at most 7 buckets, so `per_minute // 7` slots
per bucket keep every sliding minute below the limit.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from fitsync.errors import RateLimited

log = logging.getLogger("fitsync.withings")
BUCKET_SECONDS = 10
BUCKETS_PER_WINDOW = 60 // BUCKET_SECONDS + 1
clock = time.time  # replaced in tests to move time without sleeping
sleep = time.sleep


def slots_per_bucket() -> int:
    return max(1, settings.WITHINGS_REQUESTS_PER_MINUTE // BUCKETS_PER_WINDOW)


def acquire(max_wait: float = BUCKET_SECONDS) -> None:
    """Take one request slot, waiting for the next bucket if this one is full (at most `max_wait` s)."""
    deadline = clock() + max_wait
    while True:
        now = clock()
        bucket = int(now // BUCKET_SECONDS)
        if _take_slot(bucket):
            return
        wait = (bucket + 1) * BUCKET_SECONDS - now
        if now + wait > deadline:
            raise RateLimited(
                "Withings request budget used up; trying again shortly",
                provider="withings",
                status=429,
                retry_after=wait,
            )
        sleep(wait)


def _take_slot(bucket: int) -> bool:
    try:
        for slot in range(slots_per_bucket()):
            if cache.add(f"withings:rate:{bucket}:{slot}", 1, timeout=BUCKET_SECONDS * BUCKETS_PER_WINDOW):
                return True
    except DatabaseError:
        # A missing cache table must not stop syncing; Withings' own 601 answer is the backstop.
        log.warning("Withings rate limiter unavailable (cache error); sending without it")
        return True
    return False
