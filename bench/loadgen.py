"""Webhook sender for the benchmarks: N concurrent keep-alive connections, one delivery per workout id.

Each delivery is a Hevy webhook body with a fresh event id. Bounded twice: every id is sent once, and
sending stops after --max-seconds. Prints JSON: per-request latencies (ms), status counts, wall time.

    python bench/loadgen.py http://127.0.0.1:8000/webhooks/hevy/ ids.json --concurrency 20 --authorization S
"""

import argparse
import http.client
import json
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit


def sender(url, ids, lock, results, deadline, authorization):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    while time.monotonic() < deadline:
        with lock:
            if not ids:
                return
            workout_id = ids.pop()
        body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": workout_id}}).encode()
        headers = {"Content-Type": "application/json", "Authorization": authorization}
        started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            results.append((time.time(), elapsed, status))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("ids_file")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--max-seconds", type=float, default=300)
    parser.add_argument("--authorization", default="")
    args = parser.parse_args()
    ids = list(reversed(json.load(open(args.ids_file))))
    lock, results = threading.Lock(), []
    deadline = time.monotonic() + args.max_seconds
    threads = [threading.Thread(target=sender, args=(args.url, ids, lock, results, deadline, args.authorization))
               for _ in range(args.concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for _, _, status in results:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    json.dump({"wall_s": wall, "latencies_ms": [r[1] for r in results], "statuses": statuses,
               "finished_at": [r[0] for r in results], "unsent": len(ids)}, sys.stdout)


if __name__ == "__main__":
    main()
