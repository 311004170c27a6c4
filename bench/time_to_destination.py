"""Time to destination: from a webhook sent to fitsync to the write at the sandbox, on a warm worker.

Hevy -> Intervals.icu: a Hevy webhook POSTed to gunicorn, until the Intervals.icu fake has stored the
activity. Withings -> Garmin Connect: the Withings fake records a weigh-in and POSTs its notification,
until the Garmin fake has stored the uploaded weigh-in. One delivery at a time (each waits for its
write, bounded by a timeout), embedded default (SQLite file, ORM broker), qcluster with 2 workers.
Withings deliveries are paced to stay inside its 120 requests/minute application budget.
The reference is the seeds' inline handler (bench/baseline_app: Hevy GET and Intervals.icu POST inside the
request) measured the same way; the worker's idle CPU is read from /proc over a quiet spell afterwards.

    .venv/bin/python bench/time_to_destination.py [--deliveries 200] [--latency-ms 50] [--poll Q_POLL]
        [--idle-seconds 30] [--write-results]
"""

import argparse
import itertools
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## Time to destination"
INLINE_PATH = "/bench/inline/hevy/"
WITHINGS_SPACING = (
    1.0  # s between notifications: 60/minute, under Withings' 120 requests/minute; and each in its own second
)
TIMEOUT = 30
QUIET_SECONDS = 0.5  # between Hevy deliveries
TARGET_RATIO = 1.3  # fitsync's p50 against the inline handler's, Hevy -> Intervals.icu


def hevy_run(port: int, ids: list[str], clock: h.WriteClock, path: str = "/webhooks/hevy/") -> list[float]:
    """Seconds from sending each webhook to its activity being stored at Intervals.icu (None: timed out)."""
    session, url, out = requests.Session(), f"http://127.0.0.1:{port}{path}", []
    for n, workout_id in enumerate(ids):
        body = {"id": f"bench-event-{n}-{workout_id[:8]}", "payload": {"workoutId": workout_id}}
        started = time.time()
        response = session.post(url, json=body, headers={"Authorization": h.WEBHOOK_SECRET}, timeout=10)
        response.raise_for_status()
        done = clock.wait(workout_id, TIMEOUT)
        out.append(done - started if done else None)
        # One delivery at a time with the worker idle, as a person's workouts arrive: past the pacers'
        # spacing (Hevy starts at 4 requests/s), so a delivery never waits for its predecessor's slot;
        # at random points of the broker's poll cycle.
        time.sleep(QUIET_SECONDS + random.uniform(0, 0.1))
    return out


def withings_run(withings, count: int, clock: h.WriteClock, first: int) -> list[float]:
    out = []
    for n in range(first, first + count):
        started = time.time()
        # Every weight different (0.25 kg steps), so Garmin's de-duplication never takes one for another.
        weight = Decimal("50") + Decimal(n % 400) / 4
        withings.step_on_scale(h.WITHINGS_USER, when=datetime.now(UTC) - timedelta(seconds=5), weight_kg=weight)
        done = clock.wait(str(n), TIMEOUT)
        out.append(done - started if done else None)
        print(f"withings {n}: {out[-1] if done else 'timed out'}", file=sys.stderr, flush=True)
        time.sleep(max(0.0, WITHINGS_SPACING - (time.time() - started)) + random.uniform(0, 0.1))
    return out


def garmin_clock(garmin) -> h.WriteClock:
    counter = itertools.count(1)
    return h.WriteClock(garmin, "POST", "/upload-service/upload", lambda request: [str(next(counter))])


def stats(samples: list[float | None], calls: int, latency_ms: float) -> dict:
    done = [s * 1000 for s in samples if s is not None]
    return {
        "n": len(samples),
        "timed_out": len(samples) - len(done),
        "p50": h.percentile(done, 50),
        "p95": h.percentile(done, 95),
        "max": max(done, default=float("nan")),
        "calls": calls,
        "target": 1000 + calls * latency_ms,
    }


def measure(env: dict, port: int, fakes: dict, args, warm: int = 3) -> tuple[dict, dict]:
    """Both routes on a running web server and worker; returns (hevy stats, withings stats)."""
    ids = h.workout_ids(fakes["hevy"])
    intervals, garmin = h.intervals_clock(fakes["intervals"]), garmin_clock(fakes["garmin"])
    hevy_run(port, ids[:warm], intervals)  # warm-up: imports, connections, first queries
    withings_run(fakes["withings"], warm, garmin, 1)
    for fake in fakes.values():
        fake.clear_ledger()
    hevy = hevy_run(port, ids[warm : warm + args.deliveries], intervals)
    hevy_calls = round((len(fakes["hevy"].calls()) + len(fakes["intervals"].calls())) / args.deliveries)
    withings = withings_run(fakes["withings"], args.deliveries, garmin, warm + 1)
    withings_calls = round((len(fakes["withings"].calls()) + len(fakes["garmin"].calls())) / args.deliveries)
    return stats(hevy, hevy_calls, args.latency_ms), stats(withings, withings_calls, args.latency_ms)


def inline_reference(env: dict, port: int, fakes: dict, args) -> dict:
    """The seeds' inline handler, one delivery at a time, on workouts fitsync has not seen."""
    ids = h.workout_ids(fakes["hevy"])[-(args.deliveries + 3) :]
    clock = h.intervals_clock(fakes["intervals"])
    web = h.start_web(port, env, app="bench.baseline_app.wsgi")
    try:
        h.wait_http(f"http://127.0.0.1:{port}/health")
        hevy_run(port, ids[:3], clock, INLINE_PATH)
        return stats(hevy_run(port, ids[3:], clock, INLINE_PATH), 2, args.latency_ms)
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
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--poll", type=float, default=None, help="Q_POLL for the worker (default: the setting)")
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    extra = {"Q_POLL": str(args.poll)} if args.poll is not None else {}
    with h.embedded_default(args.latency_ms, workouts=2 * args.deliveries + 20) as (fakes, env, port):
        env = {**env, **extra}
        web, worker = h.start_web(port, env), h.start_worker(env)
        try:
            h.wait_http(f"http://127.0.0.1:{port}/health")
            h.seed_withings_accounts(fakes)
            hevy, withings = measure(env, port, fakes, args)
            idle = idle_cpu_percent(worker, args.idle_seconds)
        finally:
            h.stop(web)
            h.stop(worker)
        inline = inline_reference(env, port, fakes, args)
    from django.conf import settings

    poll = args.poll if args.poll is not None else settings.Q_CLUSTER["poll"]
    report = render(hevy, withings, inline, idle, args, poll)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def render(hevy: dict, withings: dict, inline: dict, idle: float, args, poll: float) -> str:
    row = "| {name} | {n} | {calls} | {p50:.0f} | {p95:.0f} | {max:.0f} | {timed_out} | {goal} |"
    verdict = {True: "met", False: "**not met**"}
    ratio = hevy["p50"] / inline["p50"]
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python bench/time_to_destination.py --deliveries {args.deliveries} "
            f"--latency-ms {args.latency_ms:g} --poll {poll:g} --write-results`",
            f"Machine: {h.machine()}",
            "",
            f"From the webhook sent to the write stored at the sandbox, one delivery at a time on a warm worker "
            f"(3 warm-up deliveries per route not counted; Hevy deliveries {QUIET_SECONDS:g} s apart, past the "
            "pacers' spacing). gunicorn 2x4, SQLite file, django-q2's ORM broker "
            f"polled every {poll:g} s (`Q_POLL`), qcluster with 2 workers, {args.latency_ms:g} ms per upstream "
            "request. The inline reference is the seeds' handler (both upstream calls inside the request).",
            "",
            "| route | deliveries | upstream calls each | p50 ms | p95 ms | max ms | timed out | target |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
            row.format(name="inline reference (seeds), Hevy → Intervals.icu", goal="-", **inline),
            row.format(
                name="Hevy → Intervals.icu",
                goal=f"p50 <= {TARGET_RATIO}x inline ({ratio:.2f}x): {verdict[ratio <= TARGET_RATIO]}",
                **hevy,
            ),
            row.format(
                name="Withings → Garmin Connect",
                goal=f"p50 < {withings['target']:.0f} ms: {verdict[withings['p50'] < withings['target']]}",
                **withings,
            ),
            "",
            f"Idle worker (qcluster, all its processes, nothing queued, {args.idle_seconds:g} s): "
            f"{idle:.1f}% of one core.",
            "",
            "The Withings target is 1 s plus the upstream latency of the calls on the path. That route makes two "
            "queue hops (the notification's fetch job, then the item's upload job) and reads Garmin before and "
            f"after the upload. Withings notifications are sent at most every {WITHINGS_SPACING} s to stay inside "
            "the 120 requests/minute budget fitsync shares across the app.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
