"""A per-process request pacer shared by every thread, for upstreams with a per-second budget.

Hevy publishes no limit but answers 429; Intervals.icu allows about 10 requests/s per IP.
"""

import threading
import time


class Throttle:
    """Space request starts at least 1/per_second apart; `pause` holds everyone after a 429."""

    def __init__(self, per_second: float):
        self.per_second = per_second
        self._next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if self.per_second <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_at)
            self._next_at = start + 1.0 / self.per_second
        if start > now:
            time.sleep(start - now)

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._next_at = max(self._next_at, time.monotonic() + seconds)
