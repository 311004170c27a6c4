"""One request pacer per upstream, shared by every thread and process of the instance.

Hevy publishes no limit but answers 429; Intervals.icu allows about 10 requests/s per address;
Withings caps each application at a fixed number of requests per minute, all users together (its
pacer starts at that cap, so it never probes above it). The pacer starts at a given rate and adapts
(AIMD): while requests go out it probes upward (doubling quickly until the first 429, then slowly and
linearly, never above its ceiling), and a 429 cuts the rate (to a share of it, and at most just below
what went through lately) and holds every caller for its Retry-After or, without one, for a pause
that doubles with each 429 in a row.

The state lives in Django's cache (the database cache by default, Redis when set), so every worker
and web process paces against one budget. Start times are numbered slots in four-second buckets,
taken with `cache.add`, which is atomic on every backend we use (`incr` is not, on the database
cache): at most `rate x 4` requests start per bucket (rounded, but never above the ceiling), evenly
spaced, whoever sends them. When the rate changes mid-bucket, slots of the two spacings mix, and one
gap can be shorter; a request after a quiet spell starts at once, late in its slot, so any window
holds at most one request more than the rate allows. The rate itself is read-modify-written without
a lock: two callers racing to grow or cut it write about the same value, and the next 429 corrects
either way.
"""

import functools
import logging
import math
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Callable, TypeVar

from django.core.cache import cache
from django.db import DatabaseError

from fitsync.errors import RateLimited, TransientError

log = logging.getLogger("fitsync.throttle")
BUCKET = 4.0  # seconds per bucket of slots: the rate is kept in steps of 1/BUCKET requests/s
DOUBLING = 0.15  # seconds per doubling of the rate before the first 429
PROBE_STEP = 0.05  # requests/s added per second of requests going out after a 429
CUT = 0.75  # the rate after a 429, as a share of the rate it came at
FIRST_CUT = 0.25  # the first 429 ends the fast probe, which overshoots further
ADMITTED_WINDOW = 3.0  # seconds of successes a cut looks back on
CUT_BELOW_ADMITTED = 0.95  # and the rate it cuts to at most, as a share of what went through
BASE_HOLD = 0.5  # seconds of pause after a 429 without Retry-After; doubles per 429 in a row
MAX_WAIT = 60.0  # longer than this, a caller is told to come back later rather than kept waiting
RATE_LIMITED_RETRIES = 10  # 429s in a row an import sends again, each held by the pacer first
MAX_SCAN = 1000  # slots tried per claim before giving up on the cache
STATE_TTL = 24 * 3600
RECHECK = 0.1  # seconds between looks at the shared state while waiting for a slot
T = TypeVar("T")
clock = time.time  # replaced in tests to move time without sleeping
sleep = time.sleep


@dataclass
class PaceState:
    rate: float
    fast: bool = True  # no 429 seen yet: probe by doubling
    grown_at: float = 0.0
    cut_at: float = 0.0
    hold_until: float = 0.0
    hold: float = 0.0  # the last pause, for the next one without Retry-After
    strikes: int = 0  # 429s in a row


class Throttle:
    """Pace requests to `service` at an adaptive rate between `floor` and `per_second` (<= 0: off).
    A caller that would wait longer than `max_wait` is told to come back later (RateLimited)."""

    def __init__(
        self,
        per_second: float,
        *,
        service: str = "default",
        start: float | None = None,
        floor: float | None = None,
        max_wait: float = MAX_WAIT,
        burst: float = 0.0,
        store=None,
    ):
        self.per_second = per_second
        self.max_wait = max_wait
        self.burst = burst  # seconds of slots left unused that a caller may still take, at once
        self.store = store or cache  # Django's default cache; another client of it in tests
        self.service = service
        self.start = min(start or per_second, per_second)
        self.floor = min(floor or 1 / BUCKET, self.start)
        self._lock = threading.Lock()
        self._taken_until = 0.0  # start time of the last slot this process took
        self._strikes_seen = False  # the state last read here counted 429s in a row
        self._successes: deque[float] = deque(maxlen=1000)  # when requests of this process went through

    # --- callers ---------------------------------------------------------------------------
    def send(self, request: Callable[[], T]) -> T:
        """Make one request under the pacer: wait for a slot; a 429 slows every caller of the instance
        (for its Retry-After, or a doubling pause without one); a success counts for the next cut."""
        self.wait()
        try:
            response = request()
        except RateLimited as exc:
            self.pause(exc.retry_after)
            raise
        self.succeeded()
        return response

    def wait(self) -> None:
        """Block until this caller may send one request."""
        if self.per_second <= 0:
            return
        state = self.state()
        while True:
            start_at = self._claim(state)
            if start_at is None:
                return  # the cache is unavailable: send unpaced (the 429 answer is the backstop)
            if start_at - clock() > self.max_wait:  # a long Retry-After: free the worker, retry later
                raise RateLimited(
                    f"{self.service} asked to wait; trying again later",
                    provider=self.service,
                    status=429,
                    retry_after=start_at - clock(),
                )
            state, ready = self._await(start_at, state.rate)
            if ready:
                self._strikes_seen = state.strikes > 0
                self._grow(state)
                return
            self._taken_until = 0.0  # claim again, from now

    def _await(self, start_at: float, claimed_at_rate: float) -> tuple[PaceState, bool]:
        """Sleep until `start_at`; not ready as soon as a 429's hold covers it or the rate has doubled
        since the slot was taken (a slot taken at a slow rate would hold this caller back needlessly)."""
        while True:
            sleep(max(0.0, min(start_at - clock(), RECHECK)))
            state = self.state()
            if state.hold_until > start_at or state.rate >= 2 * claimed_at_rate:
                return state, False
            if clock() >= start_at:
                return state, True

    def succeeded(self) -> None:
        """A request went through: counted for the next cut; the next 429 starts a new series of pauses."""
        self._successes.append(clock())
        if self.per_second <= 0 or not self._strikes_seen:
            return
        with self._lock:
            state = self.state()
            if state.strikes:
                state.strikes = 0
                self._save(state)
            self._strikes_seen = False

    def pause(self, retry_after: float | None) -> None:
        """A 429 came back: cut the rate and hold every caller (for Retry-After when given)."""
        if self.per_second <= 0:
            return
        with self._lock:
            state, now = self.state(), clock()
            recent = now - state.cut_at < max(state.hold, 1.0)  # in flight before the last cut: same event
            if not recent:
                cut = state.rate * (FIRST_CUT if state.fast else CUT)
                state.rate = max(self.floor, min(cut, self._admitted(now) * CUT_BELOW_ADMITTED))
                state.fast, state.cut_at, state.grown_at = False, now, now
            state.strikes += 1  # until a request goes through (see `succeeded`)
            hold = retry_after if retry_after is not None else BASE_HOLD * 2 ** (state.strikes - 1)
            state.hold = max(0.0, hold)
            state.hold_until = max(state.hold_until, now + state.hold)
            self._save(state)
        log.info("%s answered 429: pacing at %.2f requests/s, holding %.1f s", self.service, state.rate, state.hold)

    def _admitted(self, now: float) -> float:
        """Requests/s that went through here lately: after an overshoot, a far better guess of the
        limit than a fixed share of the rate that overshot (infinite when unknown)."""
        recent = [t for t in self._successes if t > now - ADMITTED_WINDOW]
        if len(recent) < 3:
            return math.inf
        return len(recent) / max(1.0, min(ADMITTED_WINDOW, now - self._successes[0]))

    # --- state -----------------------------------------------------------------------------
    def state(self) -> PaceState:
        try:
            found = self.store.get(self._key("state"))
        except DatabaseError:
            found = None
        # A pacer that starts at its ceiling never probes, so its first 429 is no probe's overshoot.
        return (
            PaceState(**found) if isinstance(found, dict) else PaceState(self.start, fast=self.start < self.per_second)
        )

    def _save(self, state: PaceState) -> None:
        try:
            self.store.set(self._key("state"), asdict(state), timeout=STATE_TTL)
        except DatabaseError:
            log.warning("%s pacer state not saved (cache error)", self.service)

    def _grow(self, state: PaceState) -> None:
        """A request goes out: raise the rate for the time spent sending since the last raise."""
        now = clock()
        if state.grown_at == 0.0:  # the first request ever starts the clock
            state.grown_at = now
            self._save(state)
            return
        # A long gap is idleness, not requests going through: count at most two requests' worth.
        elapsed = min(now - max(state.grown_at, state.cut_at, state.hold_until), max(DOUBLING, 2 / state.rate), 1.0)
        if elapsed < DOUBLING or state.rate >= self.per_second:
            return
        with self._lock:
            grown = state.rate * 2 ** (elapsed / DOUBLING) if state.fast else state.rate + PROBE_STEP * elapsed
            state.rate, state.grown_at = min(self.per_second, grown), now
            self._save(state)

    # --- slots -----------------------------------------------------------------------------
    def _claim(self, state: PaceState) -> float | None:
        """Take the first free slot not before now (nor the hold); its start time. The slot whose
        interval `earliest` falls in counts too (started at `earliest`): a request after a quiet spell
        goes at once instead of waiting for the next mark, and no bucket gets more than its slots. With
        a `burst`, slots of the last `burst` seconds that nobody took are taken too, starting now: a
        service that allows short bursts gets a few requests at once after a lull."""
        ceiling = math.floor(self.per_second * BUCKET + 1e-9)  # rounding the rate must not go above it
        per_bucket = max(1, min(round(state.rate * BUCKET), ceiling))
        now = clock()
        earliest = max(now - self.burst, state.hold_until, self._taken_until + 1e-6)  # earlier ones were taken
        bucket = int(earliest // BUCKET)
        slot = math.floor((earliest - bucket * BUCKET) * per_bucket / BUCKET)
        try:
            for _ in range(MAX_SCAN):
                if slot >= per_bucket:
                    bucket, slot = bucket + 1, 0
                    continue
                mark = max(earliest, bucket * BUCKET + slot * BUCKET / per_bucket)
                start_at = max(mark, now, state.hold_until)
                if self.store.add(self._key(f"{bucket}:{slot}"), 1, timeout=int(start_at - clock() + 2 * BUCKET) + 1):
                    self._taken_until = mark
                    return start_at
                slot += 1
        except DatabaseError:
            pass
        log.warning("%s pacer unavailable (cache error or no free slot); sending without it", self.service)
        return None

    def _key(self, name: str) -> str:
        return f"pace:{self.service}:{name}"


@functools.cache
def pacer(
    service: str, per_second: float, start: float | None = None, max_wait: float = MAX_WAIT, burst: float = 0.0
) -> Throttle:
    """This process's pacer for `service` at the configured rate (a changed setting gets a new one)."""
    return Throttle(per_second, service=service, start=start, max_wait=max_wait, burst=burst)


def retried(call: Callable[..., T], *args, attempts: int = 5) -> T:
    """`call(*args)` for a caller that cannot come back later (an import): retried on a 429 and on
    other transient failures. A 429 is sent again at once: the pacer the call went through already
    holds it (and every caller) for the Retry-After or its own doubling pause, so there is no second
    backoff (with pacing off, as in unit tests, it goes again at once). Another transient failure waits
    the pacer's doubling pause."""
    rate_limited = transient = 0
    while True:
        try:
            return call(*args)
        except RateLimited:
            rate_limited += 1
            if rate_limited >= max(attempts, RATE_LIMITED_RETRIES):
                raise
        except TransientError:
            transient += 1
            if transient >= attempts:
                raise
            sleep(BASE_HOLD * 2 ** (transient - 1))
