"""The shared pacer: one budget for every caller of the instance, cut by 429s, probing upward slowly.

Time is virtual (the module's `clock` and `sleep`), the state real: it goes through Django's cache
(the database cache here, Redis when REDIS_URL is set), each pacer on a client of its own, as two
processes would have.
"""

import pytest
from django.core.cache import caches

from fitsync import throttle
from fitsync.throttle import Throttle

pytestmark = pytest.mark.django_db


@pytest.fixture
def now(monkeypatch):
    """A virtual clock: sleeping moves it forward at once."""
    moment = {"t": 1_800_000_000.0}
    monkeypatch.setattr(throttle, "clock", lambda: moment["t"])
    monkeypatch.setattr(throttle, "sleep", lambda seconds: moment.update(t=moment["t"] + max(0.0, seconds)))
    return moment


def pacer(per_second=2.0, start=None, **options):
    """A pacer of the same service on a cache client of its own (another process, as far as it knows)."""
    return Throttle(per_second, service="upstream", start=start, store=caches.create_connection("default"), **options)


def starts(now, pacers, count):
    """Start times of `count` requests, the pacers taking turns."""
    times = []
    for n in range(count):
        pacers[n % len(pacers)].wait()
        times.append(now["t"])
    return times


def test_two_processes_share_one_budget(now):
    first, second = pacer(2.0), pacer(2.0)
    times = starts(now, [first, second], 8)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= 0.5 - 1e-6  # 2 requests/s between them, not 2 each


@pytest.mark.parametrize("retry_after, hold", [(5.0, 5.0), (None, throttle.BASE_HOLD)])
def test_a_429_holds_and_slows_every_caller(now, retry_after, hold):
    first, second = pacer(10.0), pacer(10.0)
    before = starts(now, [first, second], 6)
    rate_before = second.state().rate
    first.pause(retry_after)
    held_from = now["t"]
    second.wait()
    assert now["t"] >= held_from + hold - 1e-6
    assert second.state().rate < rate_before
    later = starts(now, [first, second], 6)
    assert later[-1] - later[0] >= (before[-1] - before[0]) / throttle.CUT  # as many requests, spaced wider


def test_a_pacer_that_starts_at_its_ceiling_cuts_its_first_429_like_any_other(now):
    """Only a probe's first 429 is its overshoot (cut to a quarter); a fixed pace is cut by the usual share."""
    fixed, probing = (
        pacer(8.0, start=8.0),
        Throttle(8.0, service="probing", start=2.0, store=caches.create_connection("default")),
    )
    fixed.wait(), probing.wait()
    fixed.pause(None), probing.pause(None)
    assert fixed.state().rate == 8.0 * throttle.CUT
    assert probing.state().rate == 2.0 * throttle.FIRST_CUT


def test_without_retry_after_the_pause_doubles_until_a_request_goes_through(now):
    first, second = pacer(10.0), pacer(10.0)
    first.wait()
    holds = []
    for _ in range(3):
        first.pause(None)
        holds.append(second.state().hold)
    assert holds == [throttle.BASE_HOLD, 2 * throttle.BASE_HOLD, 4 * throttle.BASE_HOLD]
    second.wait()
    second.succeeded()
    first.pause(None)
    assert first.state().hold == throttle.BASE_HOLD


def test_it_doubles_before_the_first_429_then_probes_upward_slowly(now):
    fast = pacer(50.0, start=2.0)
    starts(now, [fast], 20)
    assert fast.state().rate >= 8.0  # doubling while nothing was refused

    fast.pause(1.0)
    after_cut = fast.state().rate
    began = now["t"]
    starts(now, [fast], 30)
    probed = fast.state().rate - after_cut
    assert 0 < probed <= throttle.PROBE_STEP * (now["t"] - began) + 1e-6


def test_the_rate_never_exceeds_the_ceiling_nor_falls_below_the_floor(now):
    capped = pacer(4.0, start=4.0)
    starts(now, [capped], 40)
    assert capped.state().rate == 4.0
    for _ in range(30):
        capped.pause(0.0)
        now["t"] += 2.0  # each 429 a separate event
    assert capped.state().rate == capped.floor


def test_a_ceiling_between_two_steps_of_the_rate_is_never_rounded_up(now):
    """A fixed cap such as Withings' 119/minute: paced at the step below it, never the one above."""
    capped = pacer(119 / 60, start=119 / 60)
    times = starts(now, [capped], 30)
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert min(gaps) >= throttle.BUCKET / 7 - 1e-6


def test_an_idle_gap_is_not_counted_as_requests_going_through(now):
    idle = pacer(50.0, start=2.0)
    idle.pause(0.0)  # probing slowly from here
    rate = idle.state().rate
    idle.wait()
    now["t"] += 3600
    idle.wait()
    assert idle.state().rate <= rate + throttle.PROBE_STEP


def test_a_rate_of_zero_turns_pacing_off(now):
    off = pacer(0)
    started = now["t"]
    starts(now, [off], 100)
    off.pause(60)
    off.wait()
    assert now["t"] == started


def test_a_long_retry_after_frees_the_caller_instead_of_keeping_it_waiting(now):
    from fitsync.errors import RateLimited

    first, second = pacer(10.0), pacer(10.0)
    first.wait()
    first.pause(3600)
    with pytest.raises(RateLimited) as limited:
        second.wait()
    assert limited.value.retry_after == pytest.approx(3600, abs=1)


def test_a_caller_that_can_come_back_later_waits_less(now):
    """A job that is retried later anyway (Withings') is freed from a hold the import would wait out."""
    from fitsync.errors import RateLimited

    first, second = pacer(2.0, max_wait=10), pacer(2.0, max_wait=10)
    first.wait()
    first.pause(60)
    with pytest.raises(RateLimited) as limited:
        second.wait()
    assert limited.value.retry_after == pytest.approx(60)


def test_a_429_after_an_overshoot_cuts_to_just_below_what_went_through(now):
    """GIVEN a pacer that doubled far past an upstream that lets 3 requests/s through
    WHEN the 429 comes THEN the rate drops to just under 3/s, not to a quarter of the overshoot."""
    overshot = pacer(100.0, start=64.0)
    for _ in range(9):  # 3 requests/s went through over the last 3 seconds
        overshot.succeeded()
        now["t"] += 1 / 3
    overshot.pause(1.0)
    assert overshot.state().rate == pytest.approx(3 * throttle.CUT_BELOW_ADMITTED, rel=0.01)


def test_a_request_after_a_quiet_spell_goes_at_once(now):
    """One webhook's calls: no waiting for the next mark of the rate's grid when nothing else was sent."""
    single = pacer(4.0)
    single.wait()
    now["t"] += 10.37  # quiet; now between two marks of the 0.25 s grid
    asked_at = now["t"]
    single.wait()
    assert now["t"] == asked_at
    single.wait()  # the next one in the same interval waits for the next mark
    assert 0 < now["t"] - asked_at <= 0.25 + 1e-6


def test_a_burst_takes_the_slots_nobody_used_at_once_and_no_second_holds_more_than_a_quarter_more(now):
    bursty, other = pacer(8.0, start=8.0, burst=0.25), pacer(8.0, start=8.0, burst=0.25)
    now["t"] += 10.0  # a lull
    times = starts(now, [bursty, other], 40)
    assert times[1] == times[0]  # the quarter second's two unused slots go together, whoever takes them
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 10  # 8/s x 1.25
    plain = starts(now, [pacer(8.0, start=8.0)], 2)
    assert plain[1] > plain[0]  # without a burst, one slot at a time
