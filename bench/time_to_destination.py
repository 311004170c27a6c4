"""Time to destination: from a webhook sent to fitsync to the write at the sandbox, on a warm worker.

Hevy -> Intervals.icu: a Hevy webhook POSTed to gunicorn, until the Intervals.icu fake has stored the
activity. Withings -> Garmin Connect: the Withings fake records a weigh-in and POSTs its notification,
until the Garmin fake has stored the uploaded weigh-in. The optional routes, each measured with only it on
from its source: Hevy -> Garmin Connect (watch option "alongside", so no grace period is waited), until
the Garmin fake holds the uploaded activity and until the PUT naming it, once with Garmin processing
uploads at once and once with the fake's default (listed after one read, so fitsync reads back); and
Withings -> Intervals.icu (pick "last", so every weigh-in changes its day), until the wellness PUT.
One delivery at a time (each waits for its write, bounded by a timeout), embedded default (SQLite file,
ORM broker), qcluster with 2 workers. The upstream calls of each delivery are counted from the fakes'
ledgers between its send and its write, so each target (1 s plus the latency of the calls on the path)
is exact. Withings deliveries are paced to stay inside its 120 requests/minute application budget.
The reference is the seeds' inline handler (bench/baseline_app: Hevy GET and Intervals.icu POST inside the
request) measured the same way; the worker's idle CPU is read from /proc over a quiet spell afterwards.

    .venv/bin/python bench/time_to_destination.py [--deliveries 200] [--latency-ms 50] [--poll Q_POLL]
        [--idle-seconds 30] [--write-results]
"""

import argparse
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import clocks  # noqa: E402
import harness as h  # noqa: E402

HEADING = "## Time to destination"
INLINE_PATH = "/bench/inline/hevy/"
WITHINGS_SPACING = (
    1.0  # s between notifications: 60/minute, under Withings' 120 requests/minute; and each in its own second
)
TIMEOUT = 30
QUIET_SECONDS = 0.5  # between Hevy deliveries
TARGET_RATIO = 1.3  # fitsync's p50 against the inline handler's, Hevy -> Intervals.icu
WARM = 3  # warm-up deliveries per route (and per Garmin processing setting), not counted
# The worker's periodic poll of Hevy's events: on no delivery's path, so never counted as one of its calls.
BACKGROUND = re.compile(r"/v1/workouts/events")


@dataclass(frozen=True)
class Sample:
    seconds: float | None  # None: timed out
    calls: int  # upstream requests fitsync made between the send and the write


def hevy_run(
    port: int,
    ids: list[str],
    waits: list[h.WriteClock],
    counted=(),
    path: str = "/webhooks/hevy/",
    route: str = "",
    spacing: float = 0.0,
) -> list[tuple[Sample, ...]]:
    """Per webhook, a sample per clock in `waits`: seconds from sending it to that write of its workout,
    with the requests the `counted` fakes received meanwhile. The next webhook goes once `route`'s items
    are settled (none pending or running), after a quiet spell."""
    session, url, out = requests.Session(), f"http://127.0.0.1:{port}{path}", []
    for n, workout_id in enumerate(ids):
        body = {"id": f"bench-event-{n}-{workout_id[:8]}", "payload": {"workoutId": workout_id}}
        started = time.time()
        response = session.post(url, json=body, headers={"Authorization": h.WEBHOOK_SECRET}, timeout=10)
        response.raise_for_status()
        out.append(tuple(timed(clock.wait(workout_id, TIMEOUT), started, counted) for clock in waits))
        print(f"{route or path} {n}: {out[-1]}", file=sys.stderr, flush=True)
        settle(route, started, spacing)
    return out


def settle(route: str, started: float, spacing: float = 0.0) -> None:
    """One delivery at a time with the worker idle, as a person's workouts and weigh-ins arrive: the route's
    items done (a Garmin item still reads back after its upload), then past the pacers' spacing, so a
    delivery never waits for its predecessor's slot; at least `spacing` s after the last delivery started
    (a Garmin delivery finds the pacer's burst refilled, as workouts hours apart do); at random points of
    the broker's poll cycle."""
    if route:
        drain(route, TIMEOUT)
    time.sleep(max(QUIET_SECONDS, spacing - (time.time() - started)) + random.uniform(0, 0.1))


def withings_run(
    withings, numbers: range, waits: list[h.WriteClock], key, counted=(), route: str = ""
) -> list[tuple[Sample, ...]]:
    """Per weigh-in `n` (weight `weight_of(n)`), a sample per clock in `waits`, waiting for `key(n)`."""
    out = []
    for n in numbers:
        started = time.time()
        withings.step_on_scale(h.WITHINGS_USER, when=datetime.now(UTC) - timedelta(seconds=5), weight_kg=weight_of(n))
        out.append(tuple(timed(clock.wait(key(n), TIMEOUT), started, counted) for clock in waits))
        print(f"{route} {n}: {out[-1]}", file=sys.stderr, flush=True)
        settle(route, started, WITHINGS_SPACING)
    return out


def weight_of(n: int) -> Decimal:
    """Every weight different (0.25 kg steps), so Garmin's de-duplication never takes one for another, and
    each weigh-in changes its day's wellness record."""
    return Decimal("50") + Decimal(n % 400) / 4


def timed(done: float | None, started: float, counted) -> Sample:
    if done is None:
        return Sample(None, 0)
    return Sample(done - started, calls_between(counted, started, done))


def calls_between(fakes, start: float, end: float) -> int:
    return sum(
        1 for fake in fakes for call in fake.calls() if start <= call.at <= end and not BACKGROUND.search(call.path)
    )


def column(samples: list[tuple[Sample, ...]], index: int = 0) -> list[Sample]:
    return [sample[index] for sample in samples]


def stats(samples: list[Sample], latency_ms: float) -> dict:
    done = [s for s in samples if s.seconds is not None]
    ms = [s.seconds * 1000 for s in done]
    calls = sorted({s.calls for s in done})
    # What fitsync adds to the upstream calls' own latency: the target's "1 s", delivery by delivery.
    over = [s.seconds * 1000 - s.calls * latency_ms for s in done]
    return {
        "n": len(samples),
        "timed_out": len(samples) - len(done),
        "p50": h.percentile(ms, 50),
        "p95": h.percentile(ms, 95),
        "max": max(ms, default=float("nan")),
        "calls": f"{calls[0]}-{calls[-1]}" if len(calls) > 1 else str(calls[0]) if calls else "-",
        "over": h.percentile(over, 50),
    }


def measure(port: int, fakes: dict, ids: list[str], args) -> tuple[dict, dict]:
    """Both default routes on a running web server and worker; returns (hevy stats, withings stats)."""
    intervals, garmin = h.intervals_clock(fakes["intervals"]), clocks.weigh_in_clock(fakes["garmin"])
    hevy_run(port, ids[:WARM], [intervals], route="hevy_intervals")  # warm-up: imports, connections, queries
    withings_run(fakes["withings"], range(1, WARM + 1), [garmin], str, route="withings_garmin")
    counted = [fakes["hevy"], fakes["intervals"]]
    hevy = column(hevy_run(port, ids[WARM:], [intervals], counted, route="hevy_intervals"))
    numbers = range(WARM + 1, WARM + 1 + args.deliveries)
    counted = [fakes["withings"], fakes["garmin"]]
    withings = column(withings_run(fakes["withings"], numbers, [garmin], str, counted, route="withings_garmin"))
    return stats(hevy, args.latency_ms), stats(withings, args.latency_ms)


def measure_strength(port: int, fakes: dict, at_once_ids: list[str], default_ids: list[str], args) -> dict:
    """Hevy -> Garmin Connect alone from Hevy, watch option "alongside": with Garmin processing uploads at
    once and with the fake's default, [stats until the upload is held, stats until it is named] each."""
    from integrations.garmin.client import BURST_SECONDS

    garmin, spacing = fakes["garmin"], BURST_SECONDS + 1.0
    uploaded, named = clocks.strength_clocks(garmin)
    switch_routes(on="hevy_garmin", off="hevy_intervals", options={"watch": "alongside", "grace_minutes": 30})
    out = {"hidden_reads": garmin.upload_hidden_reads, "spacing": spacing}
    try:
        for setting, hidden_reads, ids in (("at_once", 0, at_once_ids), ("default", out["hidden_reads"], default_ids)):
            garmin.upload_hidden_reads = hidden_reads
            hevy_run(port, ids[:WARM], [uploaded, named], route="hevy_garmin", spacing=spacing)
            counted = [fakes["hevy"], garmin]
            samples = hevy_run(port, ids[WARM:], [uploaded, named], counted, route="hevy_garmin", spacing=spacing)
            out[setting] = [stats(column(samples, i), args.latency_ms) for i in (0, 1)]
    finally:
        garmin.upload_hidden_reads = out["hidden_reads"]
    return out


def measure_wellness(fakes: dict, first: int, args) -> dict:
    """Withings -> Intervals.icu alone from Withings, pick "last"; until the wellness day's PUT."""
    wellness = clocks.wellness_clock(fakes["intervals"])
    switch_routes(on="withings_intervals", off="withings_garmin", options={"pick": "last"})
    key = lambda n: clocks.weight_key(weight_of(n))  # noqa: E731
    # The first fetch with the route on re-reads the cursor's overlap: items for the minute's weigh-ins.
    withings_run(fakes["withings"], range(first, first + WARM), [wellness], key, route="withings_intervals")
    numbers = range(first + WARM, first + WARM + args.deliveries)
    counted = [fakes["withings"], fakes["intervals"]]
    samples = withings_run(fakes["withings"], numbers, [wellness], key, counted, route="withings_intervals")
    return stats(column(samples), args.latency_ms)


def switch_routes(on: str, off: str, options: dict) -> None:
    from django.contrib.auth import get_user_model

    from fitsync import route_settings
    from fitsync.routes import ROUTES

    owner = get_user_model().objects.get(username="bench")
    route_settings.turn(owner, ROUTES[off], on=False)
    route_settings.turn(owner, ROUTES[on], on=True)
    route_settings.save_options(owner, ROUTES[on], options)


def drain(route: str, timeout: float) -> None:
    from fitsync.item_states import ACTIVE
    from fitsync.models import SyncItem

    active = SyncItem.objects.filter(route=route, status__in=ACTIVE)
    if not h.wait_until(lambda: not active.exists(), timeout, interval=0.02):
        print(f"{route}: items still active after {timeout} s", file=sys.stderr, flush=True)


def inline_reference(env: dict, port: int, fakes: dict, ids: list[str], args) -> dict:
    """The seeds' inline handler, one delivery at a time, on workouts fitsync has not seen."""
    clock = h.intervals_clock(fakes["intervals"])
    web = h.start_web(port, env, app="bench.baseline_app.wsgi")
    try:
        h.wait_http(f"http://127.0.0.1:{port}/health")
        hevy_run(port, ids[:WARM], [clock], path=INLINE_PATH)
        samples = hevy_run(port, ids[WARM:], [clock], [fakes["hevy"], fakes["intervals"]], INLINE_PATH)
        return stats(column(samples), args.latency_ms)
    finally:
        h.stop(web)


def idle_cpu_percent(worker, seconds: float) -> float:
    """The worker's CPU use (all its processes) while nothing is queued, in percent of one core."""
    time.sleep(5)  # let the last jobs' bookkeeping finish
    before = h.tree_cpu_seconds(worker.pid)
    time.sleep(seconds)
    return 100 * (h.tree_cpu_seconds(worker.pid) - before) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200, help="per route (and per Garmin processing setting)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--poll", type=float, default=None, help="Q_POLL for the worker (default: the setting)")
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    extra = {"Q_POLL": str(args.poll)} if args.poll is not None else {}
    batch = WARM + args.deliveries
    with h.embedded_default(args.latency_ms, workouts=4 * batch) as (fakes, env, port):
        env = {**env, **extra}
        ids = h.workout_ids(fakes["hevy"])
        intervals_ids, at_once_ids, default_ids, inline_ids = (ids[i * batch : (i + 1) * batch] for i in range(4))
        web, worker = h.start_web(port, env), h.start_worker(env)
        try:
            h.wait_http(f"http://127.0.0.1:{port}/health")
            h.seed_withings_accounts(fakes)
            results = dict(zip(("hevy", "withings"), measure(port, fakes, intervals_ids, args)))
            results["strength"] = measure_strength(port, fakes, at_once_ids, default_ids, args)
            results["wellness"] = measure_wellness(fakes, WARM + 1 + args.deliveries, args)
            idle = idle_cpu_percent(worker, args.idle_seconds)
        finally:
            h.stop(web)
            h.stop(worker)
        results["inline"] = inline_reference(env, port, fakes, inline_ids, args)
    from django.conf import settings

    poll = args.poll if args.poll is not None else settings.Q_CLUSTER["poll"]
    report = render(results, idle, args, poll, settings.GARMIN_REQUESTS_PER_SECOND)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


ROW = "| {name} | {n} | {calls} | {p50:.0f} | {p95:.0f} | {max:.0f} | {over:.0f} | {timed_out} | {goal} |"
VERDICT = {True: "met", False: "**not met**"}


def target_row(name: str, result: dict) -> str:
    """The target: p50 below 1 s plus the calls' latency, i.e. fitsync's own part below 1 s."""
    goal = f"p50 < 1 s + the calls' latency: {VERDICT[result['over'] < 1000]}"
    return ROW.format(name=name, goal=goal, **result)


def render(results: dict, idle: float, args, poll: float, garmin_rate: float) -> str:
    from integrations.garmin.client import BURST_SECONDS as burst

    hevy, inline, strength = results["hevy"], results["inline"], results["strength"]
    ratio = hevy["p50"] / inline["p50"]
    at_once, default, hidden = strength["at_once"], strength["default"], strength["hidden_reads"]
    readback = default[1]["p50"] - at_once[1]["p50"]
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python bench/time_to_destination.py --deliveries {args.deliveries} "
            f"--latency-ms {args.latency_ms:g} --poll {poll:g} --write-results`",
            f"Machine: {h.machine()}",
            "",
            f"From the webhook (or Withings notification) sent to the write stored at the sandbox, one delivery "
            f"at a time on a warm, idle worker ({WARM} warm-up deliveries per route not counted; the next "
            f"delivery goes once the route's items are done, {QUIET_SECONDS:g} s later, past the pacers' "
            "spacing; Withings notifications at least "
            f"{WITHINGS_SPACING:g} s apart). gunicorn 2x4, SQLite file, django-q2's ORM "
            f"broker polled every {poll:g} s (`Q_POLL`), qcluster with 2 workers, {args.latency_ms:g} ms per "
            "upstream request. The inline reference is the seeds' handler (both upstream calls inside the "
            "request). Upstream calls are counted per delivery from the fakes' ledgers between the send and "
            "the write; \"over\" is the p50 of each delivery's time less its calls' latency, what fitsync adds.",
            "",
            "| route | deliveries | upstream calls each | p50 ms | p95 ms | max ms | over ms | timed out | target |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
            ROW.format(name="inline reference (seeds), Hevy → Intervals.icu", goal="-", **inline),
            ROW.format(
                name="Hevy → Intervals.icu",
                goal=f"p50 <= {TARGET_RATIO}x inline ({ratio:.2f}x): {VERDICT[ratio <= TARGET_RATIO]}",
                **hevy,
            ),
            target_row("Withings → Garmin Connect (weigh-in upload)", results["withings"]),
            target_row(f"Hevy → Garmin Connect, upload held (fake default: listed after {hidden} read)", default[0]),
            target_row("Hevy → Garmin Connect, activity named (fake default)", default[1]),
            target_row("Hevy → Garmin Connect, upload held (Garmin processing at once)", at_once[0]),
            target_row("Hevy → Garmin Connect, activity named (Garmin processing at once)", at_once[1]),
            target_row("Withings → Intervals.icu wellness (day's PUT)", results["wellness"]),
            "",
            f"Idle worker (qcluster, all its processes, nothing queued, {args.idle_seconds:g} s): "
            f"{idle:.1f}% of one core.",
            "",
            "- Each optional route was measured with only it on from its source (hevy_intervals off during "
            "Hevy → Garmin Connect, withings_garmin off during Withings → Intervals.icu). Hevy → Garmin Connect "
            'ran with the watch option "alongside", so no grace period is waited (with "skip" or "merge" '
            "a new workout waits until its end plus `grace_minutes`, 30 by default, before anything is "
            'uploaded); Withings → Intervals.icu with the pick "last", so every weigh-in changes its day.',
            '- Hevy → Garmin Connect: "upload held" stops the clock when the Garmin fake has accepted the '
            "activity's file (the Hevy read, the listing of the days around the workout, the upload); \"activity "
            "named\" at the PUT that gives it its title and description, the route's last write. Every Garmin "
            f"request goes through the Garmin pacer (`GARMIN_REQUESTS_PER_SECOND` {garmin_rate:g}, slots "
            f"{1 / garmin_rate:g} s apart; after a lull the slots of the last {burst:g} s nobody used go at once), "
            f"and Hevy → Garmin Connect deliveries were sent at least {strength['spacing']:g} s apart, so each "
            "finds that burst refilled, as workouts hours apart do.",
            f"- Garmin's asynchronous processing: with the fake's default (a new activity is missing from the first "
            f"{hidden} listing after its upload) fitsync reads the activity back ({at_once[1]['calls']} calls to "
            f'"named" processed at once, {default[1]["calls"]} with the read-back), which adds '
            f"{readback:.0f} ms at p50.",
            "- Withings → Garmin Connect counts the calls until the weigh-in's upload (the read-back after it is "
            "not on the clock's path). Withings notifications are sent at most every "
            f"{WITHINGS_SPACING:g} s to stay inside the 120 requests/minute budget fitsync shares across the app.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
