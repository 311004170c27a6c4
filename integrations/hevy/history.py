"""Read a Hevy history a page at a time, oldest first, with a few pages in flight.

Hevy pages newest first and has no date filter. Without `since`, the first page tells how many there
are and the rest are read from the last (oldest) one back, so an import can write the oldest workouts
while newer pages are still being read. With `since`, pages are read newest first until one reaches
back before it (no page is started past that one), then handed over oldest first. Up to `concurrency`
pages are in flight at any time, and a slow one holds up no other; pages are handed over in order,
and at most a few are read ahead of the consumer.

A workout saved (or deleted) during the read shifts every older one by a place, so the one at the edge
of a page already read could be missed: when the count of workouts at the end differs from the one the
pages showed, the pages are read once more, and only workouts not handed over yet come out.

Every request goes through the client's pacer; `fitsync.throttle.retried` sends a 429 or a transient
failure again, so there is no other retry here.
"""

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime

from fitsync.records import Workout
from fitsync.roles import Page
from fitsync.throttle import retried

from .client import MAX_PAGE_SIZE, HevyClient, WorkoutPage

READ_AHEAD = 2  # pages read ahead per reader, beyond the one each is reading
SLOW_START = 2  # pages in flight at first
PASSES = 3  # reads of the whole history at most, while workouts keep arriving during the read


def read_history(
    client: HevyClient,
    *,
    page_size: int = MAX_PAGE_SIZE,
    max_pages: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    concurrency: int = 4,
) -> Iterator[Page]:
    """The workouts in [since, until) from at most `max_pages` pages (the newest ones), oldest first."""
    window = Window(since, until, page_size)
    with ThreadPoolExecutor(max_workers=1) as counter:
        for _ in range(PASSES):
            held, count = yield from read_pass(client, window, page_size, max_pages, concurrency, counter)
            if held is None or count.result() == held:
                return


def read_pass(client: HevyClient, window: "Window", page_size: int, max_pages: int | None, concurrency: int, counter):
    """One read of the pages: (how many workouts they held, or None when this read cannot tell; the count
    Hevy gave once every page was read, asked for while the last pages are still being handed over)."""
    first = retried(client.workouts_page, 1, page_size)
    last = first.page_count if max_pages is None else min(first.page_count, max_pages)
    if window.since:
        yield from window.pages_oldest_first(
            newest_first_until(client, first, last, window.since, page_size, concurrency)
        )
        return None, None
    held = [len(first.workouts) if first.page_count <= 1 else None]
    count: list[Future] = []

    def counted(pages: Iterable[WorkoutPage]) -> Iterator[WorkoutPage]:
        for page in pages:
            if page.page == first.page_count:  # the oldest page: the total follows from it
                held[0] = (page.page - 1) * page_size + len(page.workouts)
            yield page
        count.append(counter.submit(retried, client.workout_count))  # every page is read by now

    older = in_order(lambda number: retried(client.workouts_page, number, page_size), range(last, 1, -1), concurrency)
    yield from window.pages_oldest_first([first], counted(older), last)
    if last != first.page_count:
        return None, None
    return held[0], count[0] if count else counter.submit(retried, client.workout_count)


def newest_first_until(
    client: HevyClient, first: WorkoutPage, last: int, since: datetime, page_size: int, concurrency: int
):
    """Pages 1.. until one reaches back before `since` (all of them read before any is handed over)."""
    if reaches_before(first, since):
        return [first]
    stop_after = [last]  # the first page found reaching back before `since`: no later one is needed
    lock = threading.Lock()

    def read(number: int) -> WorkoutPage | None:
        if number > stop_after[0]:
            return None
        page = retried(client.workouts_page, number, page_size)
        if reaches_before(page, since):
            with lock:
                stop_after[0] = min(stop_after[0], number)
        return page

    pages = [first]
    for page in in_order(read, range(2, last + 1), concurrency):
        if page is None:
            break
        pages.append(page)
        if reaches_before(page, since):
            break
    return pages


class Window:
    """Keeps the workouts in [since, until), each once, in pages handed over oldest first."""

    def __init__(self, since: datetime | None, until: datetime | None, page_size: int):
        self.since, self.until, self.page_size = since, until, page_size
        # A workout saved during the read shifts the pages by one, so the same one can come twice.
        self.seen: set[str] = set()

    def pages_oldest_first(self, newest_first: list[WorkoutPage], older: Iterable[WorkoutPage] = (), last: int = 0):
        """`older` (read from page `last` back) first, then `newest_first` reversed."""
        for page in older:
            yield self.page(page, remaining=(page.page - 1) * self.page_size)
        pages = list(reversed(newest_first))
        ahead = sum(len(page.workouts) for page in pages)
        for page in pages:
            ahead -= len(page.workouts)
            yield self.page(page, remaining=ahead)

    def page(self, page: WorkoutPage, remaining: int) -> Page:
        chosen = [w for w in sorted(page.workouts, key=lambda w: (w.start, w.source_id)) if self.wanted(w)]
        self.seen.update(w.source_id for w in chosen)
        return Page(chosen, remaining=remaining)

    def wanted(self, workout: Workout) -> bool:
        in_window = (not self.since or workout.start >= self.since) and (not self.until or workout.start < self.until)
        return in_window and workout.source_id not in self.seen


def in_order(read: Callable, numbers: Iterable[int], concurrency: int) -> Iterator:
    """read(n) for each n, yielded in order. Pages in flight start at a few and grow by one for every
    two pages read, up to `concurrency` (more would only claim the pacer's slots far ahead while it
    is still probing, and burst when it speeds up); at most a few are read ahead of the consumer.
    A page that comes back starts the next one at once, whatever the consumer is busy with."""
    workers = max(1, concurrency)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reader = Reader(pool, read, iter(numbers), workers)
        try:
            yield from reader.results()
        finally:
            reader.stop()


class Reader:
    """The pages in flight of `in_order`, topped up from each finished read (under a lock: reads
    finish in the pool's threads) and from the consumer taking a page."""

    def __init__(self, pool: ThreadPoolExecutor, read: Callable, numbers: Iterator[int], workers: int):
        self.pool, self.read, self.numbers, self.workers = pool, read, numbers, workers
        self.most = workers * (1 + READ_AHEAD)
        self.lock = threading.Lock()
        self.pending: deque[Future] = deque()
        self.running = self.finished = 0
        self.stopped = False

    def results(self) -> Iterator:
        self.top_up()
        while True:
            with self.lock:
                if not self.pending:
                    return
                first = self.pending[0]
            result = first.result()
            with self.lock:
                self.pending.popleft()
            self.top_up()
            yield result

    def top_up(self) -> None:
        with self.lock:
            allowed = min(self.workers, SLOW_START + self.finished // 2)
            room = 0 if self.stopped else min(self.most - len(self.pending), allowed - self.running)
            started = [self.pool.submit(self.read, number) for number in _take(self.numbers, room)]
            self.running += len(started)
            self.pending.extend(started)
        for future in started:  # outside the lock: a read already done calls back at once, in this thread
            future.add_done_callback(self.done)

    def done(self, future: Future) -> None:
        with self.lock:
            self.running -= 1
            self.finished += 1
        self.top_up()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            for future in self.pending:
                future.cancel()


def _take(numbers: Iterator[int], count: int) -> list[int]:
    return [n for _, n in zip(range(count), numbers)]


def reaches_before(page: WorkoutPage, since: datetime) -> bool:
    return bool(page.workouts) and min(w.start for w in page.workouts) < since
