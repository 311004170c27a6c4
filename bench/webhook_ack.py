"""Webhook acknowledgement: fitsync's /webhooks/hevy/ against an inline-processing baseline, in one run.

gunicorn as `fitsync.sh run` starts it (2 workers x 4 threads, gthread) on the embedded default (a
SQLite file with the production options, the ORM broker), a warm qcluster with 2 workers kept busy by
the deliveries themselves, 20 concurrent keep-alive senders (bench/loadgen.py, its own process), one
delivery per distinct workout. Two kinds of load:

- closed loop: every sender posts again as soon as it is answered. The server's throughput sets the
  pace, so this measures the most deliveries per second; latency there is concurrency / throughput.
- open loop at set rates: deliveries due at Poisson arrival times, latency counted from when each was
  due. This is how webhook senders behave (they post when something happens, not when we answer), and
  where the target is read: at 50 deliveries/s, p99 <= 100 ms and none lost.

The baseline is bench/baseline_app: the same Django project and server flags with a view that fetches
the workout from Hevy and writes it to Intervals.icu before answering, as the seed Lambda does.
Afterwards every acknowledged delivery must have its event, its item and its queued job committed (R1).

    .venv/bin/python bench/webhook_ack.py [--deliveries 2000] [--concurrency 20] [--latency-ms 50]
        [--rates 50,100] [--write-results]
"""

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

HEADING = "## Webhook acknowledgement"
TARGET_P99_MS, TARGET_RATE = 100, 50
WARM_UP = 20


def summarize(load: dict) -> dict:
    ok = [ms for ms in load["latencies_ms"]]
    return {
        "sent": len(ok),
        "statuses": load["statuses"],
        "wall_s": load["wall_s"],
        "p50": h.percentile(ok, 50),
        "p99": h.percentile(ok, 99),
        "max": max(ok) if ok else float("nan"),
        "per_s": load["statuses"].get("200", 0) / load["wall_s"],
    }


def committed_check(accepted: int) -> dict:
    """Every acknowledged delivery: its event, its item, and a job queued (or already run) for the item."""
    from django_q.models import OrmQ

    from fitsync.models import InboundEvent, SyncItem

    events = InboundEvent.objects.filter(source="hevy").count()
    items = SyncItem.objects.filter(route="hevy_intervals")
    queued_names = {task.name() for task in OrmQ.objects.all()}
    waiting = items.filter(status="pending")
    unqueued = [pk for pk in waiting.values_list("pk", flat=True) if f"sync item {pk}" not in queued_names]
    return {
        "events": events,
        "items": items.count(),
        "synced": items.filter(status="synced").count(),
        "queued_jobs": len(queued_names),
        "pending_without_job": len(unqueued),
        "accepted": accepted,
    }


@contextmanager
def serving(app: str, env: dict, port: int, warm_ids: list[str]):
    """gunicorn serving `app`, every thread warmed by one delivery each; yields the webhook URL."""
    path = "/webhooks/hevy/" if app == "fitsync.wsgi" else "/bench/inline/hevy/"
    web = h.start_web(port, env, app=app)
    try:
        h.wait_http(f"http://127.0.0.1:{port}/health")
        url = f"http://127.0.0.1:{port}{path}"
        h.send_load(url, warm_ids, len(warm_ids), 60)
        yield url
    finally:
        h.stop(web)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000, help="per load run")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rates", default="50,100", help="open-loop rates, deliveries per second")
    parser.add_argument("--max-seconds", type=float, default=300, help="each load stops after this long")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",") if rate]
    n = args.deliveries
    with h.embedded_default(args.latency_ms, workouts=WARM_UP + n * (1 + len(rates))) as (fakes, env, port):
        ids = h.workout_ids(fakes["hevy"])
        warm, batches = ids[:WARM_UP], [ids[WARM_UP + i * n : WARM_UP + (i + 1) * n] for i in range(1 + len(rates))]
        worker = h.start_worker(env)
        try:
            with serving("fitsync.wsgi", env, port, warm) as url:
                closed = summarize(h.send_load(url, batches[0], args.concurrency, args.max_seconds))
                opened = [
                    summarize(h.send_load(url, batch, args.concurrency, args.max_seconds, rate=rate)) | {"rate": rate}
                    for rate, batch in zip(rates, batches[1:])
                ]
            accepted = WARM_UP + sum(run["statuses"].get("200", 0) for run in [closed, *opened])
            commit = committed_check(accepted)
            with serving("bench.baseline_app.wsgi", env, port, warm) as url:
                baseline = summarize(h.send_load(url, batches[0], args.concurrency, args.max_seconds))
            commit["synced_by_end"] = h_synced()
        finally:
            h.stop(worker)
    baseline["written"] = len(fakes["intervals"].activities(h.BASELINE_ATHLETE))
    report = render(closed, opened, baseline, commit, args)
    print(report)
    if args.write_results:
        h.write_section(HEADING, report)


def h_synced() -> int:
    from fitsync.models import SyncItem

    return SyncItem.objects.filter(route="hevy_intervals", status="synced").count()


def verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def meets_target(run: dict) -> bool:
    return run["p99"] <= TARGET_P99_MS and run["statuses"].get("200", 0) == run["sent"]


def render(closed: dict, opened: list[dict], baseline: dict, c: dict, args) -> str:
    committed = c["events"] == c["items"] == c["accepted"] and c["pending_without_job"] == 0
    row = "| {name} | {sent} | {statuses} | {p50:.1f} | {p99:.1f} | {max:.1f} | {per_s:.0f} |"
    return "\n".join(
        [
            HEADING,
            "",
            f"Command: `.venv/bin/python bench/webhook_ack.py --deliveries {args.deliveries} --concurrency "
            f"{args.concurrency} --latency-ms {args.latency_ms:g} --rates {args.rates} --write-results`",
            f"Machine: {h.machine()}",
            "",
            "gunicorn as `fitsync.sh run` starts it, SQLite file (WAL, IMMEDIATE, Django's own backend), django-q2's "
            f"ORM broker, qcluster with 2 workers busy throughout; {args.concurrency} concurrent keep-alive senders in "
            f"their own process, one delivery per distinct workout, {args.latency_ms:g} ms added to every upstream "
            f"request; {WARM_UP} warm-up deliveries first, not counted. All of it shares the 2 cores. Open loop: "
            "Poisson arrivals at the rate shown, latency counted from when each delivery was due. The closed loop "
            "(saturation) is for information, not a target.",
            "",
            "| load | deliveries | answers | p50 ms | p99 ms | max ms | deliveries/s |",
            "|---|---:|---|---:|---:|---:|---:|",
            *[row.format(name=f"fitsync, open loop at {run['rate']:g}/s", **run) for run in opened],
            row.format(name="fitsync, closed loop (saturation)", **closed),
            row.format(name="inline baseline, closed loop (Hevy GET + Intervals.icu POST in the request)", **baseline),
            "",
            f"- target (open loop at {TARGET_RATE}/s: p99 <= {TARGET_P99_MS} ms, every delivery answered 200): "
            + "; ".join(f"{run['rate']:g}/s {verdict(meets_target(run))}" for run in opened),
            f"- none lost: {c['accepted']} acknowledged, {c['events']} events, {c['items']} items, "
            f"{c['pending_without_job']} pending items without a queued job: {verdict(committed)}",
            f"- worker busy: {c['synced']} items synced while fitsync's loads ran, {c['synced_by_end']} by the end of "
            f"the baseline run; the baseline wrote {baseline['written']} activities",
            "",
            "",
        ]
    )


if __name__ == "__main__":
    main()
