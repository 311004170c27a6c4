"""Slow clients against the embedded default: how long /health and a Hevy webhook take while clients
that sent half a request stay connected, with fitsync's worker and with stock gthread.

gunicorn as `fitsync.sh run` starts it (gunicorn.conf.py: 2 workers x 4 threads) on a fresh SQLite file.
50 clients send a webhook's headers (Content-Length: 100000) and 8 bytes of body, 10 more half their
headers; then 20 sequential /health requests and 20 webhook deliveries, each with a 5 s timeout.

    python bench/slow_clients.py          (prints a Markdown table; the figures are in docs/reliability.md)
"""

import json
import socket
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

STALLED_BODIES, STALLED_HEADERS, PROBES, TIMEOUT = 50, 10, 20, 5.0


def timed(request: urllib.request.Request) -> float | None:
    started = time.monotonic()
    try:
        urllib.request.urlopen(request, timeout=TIMEOUT).read()
    except urllib.error.HTTPError:
        pass
    except OSError:
        return None
    return (time.monotonic() - started) * 1000


def webhook(port: int) -> urllib.request.Request:
    body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": str(uuid.uuid4())}}).encode()
    headers = {"Authorization": harness.WEBHOOK_SECRET, "Content-Type": "application/json"}
    return urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/hevy/", data=body, headers=headers)


def stall(port: int) -> list[socket.socket]:
    head = (
        "POST /webhooks/hevy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {harness.WEBHOOK_SECRET}\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    clients = []
    for data in [head + b'{"id": "'] * STALLED_BODIES + [b"GET /health HTTP/1.1\r\nX-Slow: "] * STALLED_HEADERS:
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(data)
        clients.append(sock)
    time.sleep(1)  # the server has read them all
    return clients


def summary(samples: list[float | None]) -> str:
    answered = [s for s in samples if s is not None]
    if not answered:
        return f"none of {len(samples)} answered within {TIMEOUT:g} s"
    return (
        f"{len(answered)}/{len(samples)} answered; median {statistics.median(answered):.1f} ms, "
        f"max {max(answered):.1f} ms"
    )


def measure(env: dict, extra: list[str]) -> dict:
    port = harness.free_port()
    command = [str(harness.VENV_BIN / "gunicorn"), "fitsync.wsgi", "--bind", f"127.0.0.1:{port}", *extra]
    web = harness._spawn(command, {**env, "SITE_URL": f"http://127.0.0.1:{port}"})
    try:
        harness.wait_http(f"http://127.0.0.1:{port}/health")
        for _ in range(6):
            timed(urllib.request.Request(f"http://127.0.0.1:{port}/health"))
        clients = stall(port)
        health = [timed(urllib.request.Request(f"http://127.0.0.1:{port}/health")) for _ in range(PROBES)]
        hooks = [timed(webhook(port)) for _ in range(PROBES)]
        for sock in clients:
            sock.close()
        return {"health": summary(health), "webhook": summary(hooks)}
    finally:
        harness.stop(web)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = harness.configure(harness.sqlite_url(Path(tmp)), "http://127.0.0.1:9", 8000)
        harness.migrate()
        harness.seed_hevy_accounts()
        rows = {
            "fitsync (whole-request worker)": measure(env, []),
            "stock gthread, same 2 x 4": measure(env, ["--worker-class", "gthread"]),
        }
    print(f"{STALLED_BODIES} clients stalled mid-body and {STALLED_HEADERS} mid-headers; {harness.machine()}\n")
    print("| server | /health | Hevy webhook |\n|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['health']} | {row['webhook']} |")


if __name__ == "__main__":
    main()
