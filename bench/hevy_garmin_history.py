"""History import to Garmin Connect: Hevy workouts through `manage.py import_history hevy` into the Hevy →
Garmin Connect route, with the worker draining the queued items, against a Garmin fake that limits its API.

Only hevy_garmin is on (hevy_intervals is turned off), with the route's default options. The Garmin
destination has no bulk write, so the import stores and queues an item per workout and a qcluster with 2
workers syncs them, every Garmin request through the instance's Garmin pacer. The fakes (Hevy with the
workouts, Garmin answering 429 above a number of API requests within any 1 s) run in a process apart over
real HTTP on 127.0.0.1 with a set latency per request; fitsync gets a fresh SQLite file database. Reports
the wall time (import start to the last item settled), the Garmin requests/s achieved against the pacer's
ceiling, the 429 answers, and checks that the fake holds exactly one activity per workout.

Scenarios, each in a fresh process (fresh database, pacer state and fakes): `within`, Garmin's limit one
above the pacer's ceiling (what the pacer promises to stay within), `--workouts` workouts; `at-ceiling`,
the limit at the ceiling, `--edge-workouts` workouts.

    .venv/bin/python bench/hevy_garmin_history.py [--workouts 1000] [--edge-workouts 50] [--latency-ms 50]
        [--garmin-ceiling R] [--only within|at-ceiling] [--write-results]
"""

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## History import (Hevy → Garmin Connect)"
ROUTE = "hevy_garmin"
# Garmin's API tier (paced by fitsync, limited by the fake); sign-in and the DI token are neither.
API = re.compile(
    r"/(activitylist-service|activity-service|upload-service|download-service|weight-service|userprofile-service)/"
)
KINDS = (("listings", "GET", "/activitylist-service/"), ("uploads", "POST", "/upload-service/"))
KINDS += (("names", "PUT", "/activity-service/activity/"),)
PROGRESS_EVERY = 30  # seconds between progress lines on stderr


# --- the fakes, in a process apart ----------------------------------------------------------------
@contextmanager
def fakes_apart(workouts: int, latency: float):
    """Hevy and Garmin on one sandbox server in a process of their own (as real upstreams are: they do
    not share fitsync's interpreter). Yields (base url, Garmin tokens, ask): ask("ledgers") sums their
    ledgers up, ask("limit", n) sets the Garmin fake's API limit."""
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve_fakes, args=(child, workouts, latency), daemon=True
    )
    process.start()

    def ask(*command):
        parent.send(command)
        return parent.recv()

    try:
        url, tokens = parent.recv()
        yield url, tokens, ask
    finally:
        parent.send(("stop",))
        process.join(10)


def serve_fakes(connection, workouts: int, latency: float) -> None:
    fakes = h.build_fakes(latency, workouts=workouts)
    server = h.start_sandbox({"hevy": fakes["hevy"], "garmin": fakes["garmin"]})
    connection.send((server.url, fakes["garmin"].tokens_for(h.GARMIN_EMAIL)))
    while (command := connection.recv())[0] != "stop":
        if command[0] == "limit":
            fakes["garmin"].api_rate_limit_per_s = command[1]
        connection.send(summary(fakes["hevy"], fakes["garmin"]))
    server.stop()


def summary(hevy, garmin) -> dict:
    api = [call for call in garmin.calls() if API.search(call.path)]
    times = sorted(call.at for call in api)
    kinds = {name: sum(c.method == method and part in c.path for c in api) for name, method, part in KINDS}
    listed = garmin.activities(h.GARMIN_EMAIL) + garmin.activity_processing(h.GARMIN_EMAIL)
    return {
        "garmin_requests": len(api),
        "garmin_429": sum(call.status == 429 for call in api),
        "garmin_first": times[0] if times else None,
        "garmin_last": times[-1] if times else None,
        "garmin_peak_1s": busiest_second(times),
        "garmin_kinds": {**kinds, "other": len(api) - sum(kinds.values())},
        "activities": len(listed),
        "distinct_starts": len({a["start"] for a in listed}),
        "hevy_requests": len(hevy.calls()),
        "hevy_429": sum(call.status == 429 for call in hevy.calls()),
    }


def busiest_second(times: list[float]) -> int:
    """The most requests that arrived within any 1 s (the window the fake's limit counts in)."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


# --- fitsync --------------------------------------------------------------------------------------
def seed(tokens: str) -> None:
    """Hevy and Garmin connected (and Intervals.icu, which the harness seeds with Hevy); only the Hevy →
    Garmin Connect route on, with its default options."""
    from fitsync import route_settings
    from fitsync.routes import ROUTES

    user = h.seed_hevy_accounts()
    h.seed_garmin_account(user, tokens)
    route_settings.turn(user, ROUTES["hevy_intervals"], on=False)
    route_settings.turn(user, ROUTES[ROUTE], on=True)


def run_import(env: dict) -> tuple[float, str]:
    """`manage.py import_history hevy --lift-cap` (the safety cap would hold all but a few uploads)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "import_history", "hevy", "--lift-cap"],
        cwd=h.ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"import_history exited {done.returncode}: {done.stderr[-2000:]}{done.stdout[-2000:]}")
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def wait_settled(workouts: int, timeout: float, ask) -> bool:
    """Until every item of the route is settled (none pending or running), with a progress line now and then."""
    from fitsync.item_states import ACTIVE
    from fitsync.models import SyncItem

    items = SyncItem.objects.filter(route=ROUTE)
    deadline, next_note = time.monotonic() + timeout, time.monotonic() + PROGRESS_EVERY
    while time.monotonic() < deadline:
        if items.count() >= workouts and not items.filter(status__in=ACTIVE).exists():
            return True
        if time.monotonic() >= next_note:
            seen = ask("ledgers")
            statuses = dict(Counter(items.values_list("status", flat=True)))
            print(f"items {statuses}; Garmin {seen['garmin_requests']} requests", file=sys.stderr, flush=True)
            next_note += PROGRESS_EVERY
        time.sleep(0.5)
    return False


def item_outcomes() -> dict:
    from fitsync.models import SyncAttempt, SyncItem

    items = SyncItem.objects.filter(route=ROUTE)
    attempts = SyncAttempt.objects.filter(item__route=ROUTE)
    return {
        "statuses": dict(Counter(items.values_list("status", flat=True))),
        "retried": attempts.filter(outcome="retrying").values("item_id").distinct().count(),
        "attempt_outcomes": dict(Counter(attempts.values_list("outcome", flat=True))),
    }


def measure(workouts: int, limit_of, args) -> dict:
    """One import of `workouts` against a Garmin fake limited at `limit_of(the pacer's ceiling)`."""
    with fakes_apart(workouts, args.latency_ms / 1000) as (url, tokens, ask):
        with tempfile.TemporaryDirectory(prefix="fitsync-bench-") as tmp:
            extra = {"GARMIN_REQUESTS_PER_SECOND": str(args.garmin_ceiling)} if args.garmin_ceiling else {}
            env = h.configure(h.sqlite_url(Path(tmp)), url, h.free_port(), **extra)
            limit = limit_of(ceiling())
            ask("limit", limit)
            h.migrate()
            seed(tokens)
            worker = h.start_worker(env)
            try:
                started = time.time()
                import_seconds, import_summary = run_import(env)
                settled = wait_settled(workouts, timeout_for(workouts, args), ask)
                wall = time.time() - started
            finally:
                h.stop(worker)
            return {
                "workouts": workouts,
                "limit": limit,
                "ceiling": ceiling(),
                "wall": wall,
                "settled": settled,
                "import_seconds": import_seconds,
                "import_summary": import_summary,
                **item_outcomes(),
                **ask("ledgers"),
                "settings": settings_line(),
            }


def timeout_for(workouts: int, args) -> float:
    return args.timeout or max(600.0, 10.0 * workouts)


def ceiling() -> float:
    from django.conf import settings

    return settings.GARMIN_REQUESTS_PER_SECOND


def settings_line() -> str:
    from django.conf import settings

    import fitsync.throttle as throttle
    from integrations.garmin.client import BURST_SECONDS, START_PER_SECOND

    return (
        f"Settings: GARMIN_REQUESTS_PER_SECOND={settings.GARMIN_REQUESTS_PER_SECOND:g} (the pacer's ceiling; it "
        f"starts at {START_PER_SECOND:g}/s, sends the slots of the last {BURST_SECONDS:g} s nobody used at once, "
        f"doubles every {throttle.DOUBLING:g} s until the first 429, then is cut "
        f"x{throttle.CUT:g} per 429 and grows +{throttle.PROBE_STEP:g}/s per second; a 429 without Retry-After "
        f"holds every caller {throttle.BASE_HOLD:g} s, doubling per 429 in a row), Q_WORKERS="
        f"{settings.Q_CLUSTER['workers']}, SYNC_BACKOFF_BASE={settings.SYNC_BACKOFF_BASE:g} s (an item answered "
        "429 comes back after it, through the dispatcher)."
    )


# --- scenarios and report ---------------------------------------------------------------------------
# name -> (the fake's limit: API requests admitted within any 1 s, from the pacer's ceiling; the workouts' option)
SCENARIOS = {
    # After a lull the pacer sends the slots of its burst at once, and a request after a quiet spell starts
    # late in its slot, so a 1 s window may hold the burst's slots and one request more than the rate: this
    # limit is what it promises to stay within.
    "within": (lambda ceiling: within_limit(ceiling), "workouts"),
    # Garmin's limit exactly at the ceiling: the extra request, and network jitter, get 429s.
    "at-ceiling": (lambda ceiling: int(ceiling), "edge_workouts"),
}


def within_limit(ceiling: float) -> int:
    from integrations.garmin.client import BURST_SECONDS

    return int(ceiling * (1 + BURST_SECONDS)) + 1


def scenario(name: str, args) -> dict:
    """One scenario in this (fresh) process: its own fakes, database and pacer state."""
    limit_of, count_option = SCENARIOS[name]
    return {"scenario": name, **measure(getattr(args, count_option), limit_of, args)}


def run_in_subprocess(name: str, args) -> dict:
    command = [sys.executable, __file__, "--scenario", name, *passed_options(args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr[-5000:])
    if done.returncode != 0:
        sys.exit(f"scenario {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def passed_options(args) -> list[str]:
    options = ["--workouts", str(args.workouts), "--edge-workouts", str(args.edge_workouts)]
    options += ["--latency-ms", str(args.latency_ms), "--timeout", str(args.timeout)]
    return options + (["--garmin-ceiling", str(args.garmin_ceiling)] if args.garmin_ceiling else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workouts", type=int, default=1000, help="workouts in the `within` scenario")
    parser.add_argument("--edge-workouts", type=int, default=50, help="workouts in the `at-ceiling` scenario")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument(
        "--garmin-ceiling", type=float, default=0, help="GARMIN_REQUESTS_PER_SECOND for fitsync (default: the setting)"
    )
    parser.add_argument(
        "--timeout", type=float, default=0, help="longest wait for the worker (default: 10 s a workout)"
    )
    parser.add_argument("--scenario", choices=SCENARIOS, help="run one scenario in this process (JSON out)")
    parser.add_argument("--only", choices=SCENARIOS, action="append", help="run only these scenarios")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(scenario(args.scenario, args)))
        return
    results = [run_in_subprocess(name, args) for name in args.only or SCENARIOS]
    report = render(results, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)
    missed = [miss for r in results for miss in verdicts(r)]
    if missed:
        sys.exit("; ".join(missed))


def verdicts(r: dict) -> list[str]:
    missed = []
    if not r["settled"]:
        missed.append(f"{r['scenario']}: items still active at the end")
    if r["activities"] != r["workouts"] or r["distinct_starts"] != r["workouts"]:
        missed.append(
            f"{r['scenario']}: {r['activities']} activities at the fake ({r['distinct_starts']} distinct), "
            f"not {r['workouts']}"
        )
    return missed


def achieved_rate(r: dict) -> float:
    span = (r["garmin_last"] or 0) - (r["garmin_first"] or 0)
    return (r["garmin_requests"] - 1) / span if span > 0 else float("nan")


def rows(r: dict) -> list[tuple[str, str]]:
    n, rate, ceiling = r["workouts"], achieved_rate(r), r["ceiling"]
    floor = r["garmin_requests"] / ceiling
    kinds = ", ".join(f"{name} {count}" for name, count in r["garmin_kinds"].items())
    exact = r["activities"] == n and r["distinct_starts"] == n
    return [
        ("workouts; the fake's limit", f"{n:,}; 429 above {r['limit']} Garmin API requests within any 1 s"),
        ("wall time, import start → last item settled", f"{r['wall']:.0f} s ({r['wall'] / n:.2f} s per workout)"),
        ("of which the import command (read Hevy, store and queue the items)", f"{r['import_seconds']:.1f} s"),
        ("Garmin API requests", f"{r['garmin_requests']} ({r['garmin_requests'] / n:.2f} per workout: {kinds})"),
        (
            "Garmin requests/s achieved (first to last Garmin request)",
            f"{rate:.2f}/s, {100 * rate / ceiling:.0f}% of the pacer's ceiling of {ceiling:g}/s",
        ),
        ("wall time against the Garmin requests at the ceiling", f"{r['wall'] / floor:.2f}x {floor:.0f} s"),
        ("most Garmin requests within any 1 s", str(r["garmin_peak_1s"])),
        ("Garmin answers 429", str(r["garmin_429"])),
        (
            "activities at the Garmin fake",
            f"{r['activities']} ({r['distinct_starts']} distinct workouts): exactly one per workout "
            f"{'met' if exact else '**not met**'}",
        ),
        ("items", f"{r['statuses']}; {r['retried']} retried after an error"),
        ("sync attempts by outcome", str(r["attempt_outcomes"])),
        ("Hevy requests", f"{r['hevy_requests']} ({r['hevy_429']} answered 429)"),
        ("the import command said", r["import_summary"]),
    ]


def render(results: list[dict], args) -> str:
    table = [[name for name, _ in rows(results[0])]] + [[value for _, value in rows(r)] for r in results]
    command = " ".join(["bench/hevy_garmin_history.py", *sys.argv[1:]])
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python {command}`",
            f"Machine: {h.machine()}",
            "",
            "Hevy workouts imported by `manage.py import_history hevy --lift-cap` (without `--lift-cap` the "
            "destination's safety cap holds all but the first few uploads) with only Hevy → Garmin Connect on "
            '(hevy_intervals turned off) and its default options (watch "skip", grace 30 minutes: every workout '
            "ended long ago and the fake holds no watch recordings). The import stores and queues an item per "
            "workout; `manage.py qcluster` with 2 workers syncs them (each item reads its workout from Hevy, lists "
            "Garmin's activities around it, uploads, reads the new activity back and names it). The fakes run in "
            f"a process apart over real HTTP on 127.0.0.1, {args.latency_ms:g} ms added to every request; fresh "
            "SQLite file, ORM broker, per scenario. The Garmin fake answers 429 above its limit (sign-in not "
            "counted) and lists a new activity after one listing (its default). Scenarios: `within`, the limit "
            "the pacer promises to stay within at its ceiling (a 1 s window may hold the slots of its burst, sent "
            "at once after a lull, and one request more than the rate, a request after a quiet spell starting "
            "late in its slot); `at-ceiling`, Garmin's limit exactly at the ceiling.",
            "",
            "| measure | " + " | ".join(r["scenario"] for r in results) + " |",
            "|---|" + "---|" * len(results),
            *["| " + " | ".join(cells) + " |" for cells in zip(*table)],
            "",
            results[0]["settings"],
            "",
        ]
    )


if __name__ == "__main__":
    main()
