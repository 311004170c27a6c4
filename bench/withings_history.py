"""Withings history: a year of daily weigh-ins into a Garmin Connect that already holds most of them.

The Withings fake holds 365 daily weigh-ins with full body composition; each Garmin user (fitsync's and
the baseline's) already holds the same history except every 10th day. fitsync runs
`manage.py sync_withings --days 365 --lift-cap`'s code in this process and a qcluster with 2 workers
syncs the items; then two incremental fetches (`fetch_new`, what a notification triggers) show the
cursor at work. The baseline is the seed tools' straightforward loop, run twice: read the whole window,
then for each weigh-in read that day from Garmin and upload when it is missing.

    .venv/bin/python bench/withings_history.py [--days 365] [--latency-ms 50] [--write-results]
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## Withings history"
MISSING_EVERY = 10  # Garmin lacks every 10th day of the history


def seed_history(fakes: dict, days: int) -> int:
    """The year in Withings, and in both Garmin users minus every MISSING_EVERY-th day; returns missing days."""
    import random

    from sandbox.withings_measures import decode

    withings, garmin = fakes["withings"], fakes["garmin"]
    withings.seed_daily_history(
        h.WITHINGS_USER, days=days, rng=random.Random(7), end=datetime.now(UTC) - timedelta(hours=2)
    )
    weigh_ins = sorted((g.date, decode(m)) for g in withings.groups.values() for m in g.measures if m["type"] == 1)
    missing = 0
    for n, (when, kg) in enumerate(weigh_ins):
        if n % MISSING_EVERY == 0:
            missing += 1
            continue
        for email in (h.GARMIN_EMAIL, h.BASELINE_GARMIN_EMAIL):
            garmin.add_weigh_in(email, datetime.fromtimestamp(when, UTC), kg)
    return missing


def calls(fakes: dict) -> dict:
    garmin = fakes["garmin"]
    return {
        "withings": len(fakes["withings"].calls("POST", "^/measure$")),
        "garmin_reads": len(garmin.calls("GET")),
        "garmin_uploads": len(garmin.calls("POST", "upload")),
    }


def clear(fakes: dict) -> None:
    for fake in fakes.values():
        fake.clear_ledger()


def wait_synced(timeout: float) -> bool:
    from fitsync.models import SyncItem

    active = SyncItem.objects.filter(route="withings_garmin", status__in=("pending", "running"))
    return bool(h.wait_until(lambda: not active.exists(), timeout, interval=0.05))


def fitsync_step(fakes: dict, account, label: str, fetch, timeout: float) -> dict:
    """One fetch in this process plus the worker's sync of what it queued: time, counts, upstream calls."""
    from fitsync.models import SyncRun
    from fitsync.sync import start_run

    clear(fakes)
    started = time.perf_counter()
    counts = fetch(account, start_run(SyncRun.Trigger.MANUAL, account=account, route="withings_garmin"))
    done = wait_synced(timeout)
    return {"label": label, "seconds": time.perf_counter() - started, "counts": counts, "done": done, **calls(fakes)}


def run_fitsync(fakes: dict, days: int, timeout: float) -> list[dict]:
    from integrations.withings import fetch

    account = h.seed_withings_accounts(fakes, subscribe=False)
    fetch.fetch_new(account, _run(account))  # what connecting does: the last day, and the cursor set
    wait_synced(timeout)
    history = fitsync_step(
        fakes,
        account,
        f"`sync_withings --days {days} --lift-cap`",
        lambda a, r: fetch.fetch_window(a, r, days, lift_cap=True),
        timeout,
    )
    fakes["withings"].step_on_scale(
        h.WITHINGS_USER, when=datetime.now(UTC) - timedelta(minutes=1), weight_kg=Decimal("79.9")
    )  # no subscription: nothing is sent
    new = fitsync_step(fakes, account, "incremental fetch after one new weigh-in", fetch.fetch_new, timeout)
    again = fitsync_step(fakes, account, "incremental fetch, nothing new", fetch.fetch_new, timeout)
    return [history, new, again]


def _run(account):
    from fitsync.models import SyncRun
    from fitsync.sync import start_run

    return start_run(SyncRun.Trigger.MANUAL, account=account, route="withings_garmin")


def run_baseline(fakes: dict, days: int) -> dict:
    """Read the whole window, then per weigh-in: read its day from Garmin, upload if it is not there."""
    from integrations.garmin import client as garmin_client
    from integrations.garmin.fit import encode_weight_file
    from integrations.garmin.mapping import matching_weigh_in, weight_record_from_measurement
    from integrations.withings import client as withings_client
    from integrations.withings import mapping

    clear(fakes)
    started = time.perf_counter()
    token = fakes["withings"].issue_tokens(h.WITHINGS_CLIENT, h.WITHINGS_USER)["access_token"]
    end = int(time.time())
    groups, offset, more = [], 0, True
    while more:
        page = withings_client.get_measures(
            token, mapping.MEASTYPES + [mapping.HEIGHT], offset, startdate=end - days * 86400 - 86400, enddate=end
        )
        groups, offset, more = groups + page.groups, page.offset, page.more
    height = (mapping.latest_height(groups) or (0, None))[1]
    garmin = garmin_client.new_garmin()
    garmin.client.loads(fakes["garmin"].tokens_for(h.BASELINE_GARMIN_EMAIL))
    garmin.display_name = h.BASELINE_GARMIN_EMAIL.split("@")[0]
    uploads = 0
    for group in groups:
        measurement = mapping.measurement_from_group(group, page.timezone, height)
        if measurement is None:
            continue
        record = weight_record_from_measurement(measurement)
        day = measurement.measured_at.astimezone(__import__("zoneinfo").ZoneInfo(h.TIMEZONE)).date()
        if not matching_weigh_in(record, garmin_client.weigh_ins_between(garmin, day, day), 120, Decimal("0.1")):
            garmin_client.upload_fit(garmin, encode_weight_file([record], time_created=datetime.now(UTC)))
            uploads += 1
    return {"seconds": time.perf_counter() - started, "uploads": uploads, **calls(fakes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--timeout", type=float, default=600, help="longest wait for the worker, per step")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    fakes = h.build_fakes(args.latency_ms / 1000)
    missing = seed_history(fakes, args.days)
    server = h.start_sandbox(fakes)
    with tempfile.TemporaryDirectory(prefix="fitsync-bench-") as tmp:
        env = h.configure(h.sqlite_url(Path(tmp)), server.url, h.free_port(), WITHINGS_REQUESTS_PER_MINUTE="120")
        h.migrate()
        worker = h.start_worker(env)
        try:
            steps = run_fitsync(fakes, args.days, args.timeout)
        finally:
            h.stop(worker)
        baseline = [run_baseline(fakes, args.days), run_baseline(fakes, args.days)]
        garmin_counts = {e: len(fakes["garmin"].weigh_ins(e)) for e in (h.GARMIN_EMAIL, h.BASELINE_GARMIN_EMAIL)}
    server.stop()
    report = render(steps, baseline, missing, garmin_counts, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def render(steps: list[dict], baseline: list[dict], missing: int, garmin_counts: dict, args) -> str:
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/python bench/withings_history.py --days {args.days} --latency-ms {args.latency_ms:g} "
        "--write-results`",
        f"Machine: {h.machine()}",
        "",
        f"{args.days} daily weigh-ins in Withings; Garmin already holds the same history except {missing} days. "
        f"{args.latency_ms:g} ms per upstream request; SQLite file, ORM broker, qcluster with 2 workers; "
        "Withings budget 120 requests/minute.",
        "",
        "| run | wall time | Withings getmeas calls | Garmin reads | Garmin uploads | result |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        result = ", ".join(f"{k} {v}" for k, v in s["counts"].items() if v) or "nothing new"
        lines.append(
            f"| fitsync: {s['label']} | {s['seconds']:.1f} s | {s['withings']} | {s['garmin_reads']} | "
            f"{s['garmin_uploads']} | {result}{'' if s['done'] else ' (**worker timed out**)'} |"
        )
    for n, b in enumerate(baseline, 1):
        label = "first run" if n == 1 else "second run (the seeds keep no cursor)"
        lines.append(
            f"| baseline loop, {label} | {b['seconds']:.1f} s | {b['withings']} | {b['garmin_reads']} | "
            f"{b['uploads']} | {b['uploads']} uploaded |"
        )
    incremental = steps[-1]
    ok = incremental["withings"] <= 1 and incremental["garmin_reads"] == 0 and incremental["garmin_uploads"] == 0
    lines += [
        "",
        f"- Garmin afterwards: fitsync's user {garmin_counts[h.GARMIN_EMAIL]} weigh-ins, the baseline's "
        f"{garmin_counts[h.BASELINE_GARMIN_EMAIL]} (both should hold the {args.days + 1} days once each, "
        "the history plus the new one for fitsync's).",
        f"- The incremental fetch reads only what changed since the cursor: {incremental['withings']} getmeas call, "
        f"{incremental['garmin_reads']} Garmin calls when nothing is new: {'met' if ok else '**not met**'}.",
        "- fitsync reads Garmin once per weigh-in (the three days around it, which also finds the weigh-in again "
        "after an upload) and twice for an upload; items sync in parallel on the worker's 2 processes.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
