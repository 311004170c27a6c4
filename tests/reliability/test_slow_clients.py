"""R17: slow clients and large bodies, against gunicorn as `./fitsync.sh run` starts it.

GIVEN `./fitsync.sh run` (2 web workers x 4 threads and a queue worker) on the test database,
WHEN 50 clients send a webhook's headers and part of its body and then stall, and 10 more stall halfway
through their headers, all of them staying connected,
THEN `/health` answers within 1 s, the Hevy webhook is acknowledged, a 200 MB upload is refused 413
without its body being sent, and the stalled connections are still open (nobody was simply cut off).
"""

import json
import re
import socket
import urllib.error
import urllib.request
import uuid

import pytest

from tests.fitsync_run import fitsync_sh, free_port, require_fitsync_venv, wait_for_port

from .conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]
STALLED_BODIES, STALLED_HEADERS = 50, 10


@pytest.fixture
def running(tmp_path, worker_env, hevy_accounts):
    """`./fitsync.sh run` on the test database; yields (port, log path)."""
    require_fitsync_venv()
    from tests.live import database_url

    port, log = free_port(), tmp_path / "fitsync-run.log"
    env = {
        **worker_env,
        "DATABASE_URL": database_url(),
        "FITSYNC_ENV_FILE": tmp_path / ".env",
        "FITSYNC_DATA_DIR": tmp_path / "data",
        "FITSYNC_BIND": f"127.0.0.1:{port}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "FITSYNC_ADMIN_PASSWORD": "a-long-admin-password-for-this-test-only",
        "LOG_LEVEL": "INFO",
    }
    with fitsync_sh("run", log_path=log, **env) as process:
        wait_for_port(port, process, log)
        for _ in range(6):  # each web worker answers once, its first-request work done
            get(port, "/health", timeout=30)
        yield port, log


def get(port: int, path: str, timeout: float, headers: dict | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as answer:  # an answer all the same (503 while no worker heartbeat yet)
        return answer.code


def stalled(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(data)
    return sock


def still_open(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""  # anything sent back would be a (wrong) answer
    except BlockingIOError:
        return True
    except OSError:
        return False


def hevy_delivery(port: int, timeout: float) -> tuple[int, dict]:
    body = json.dumps({"id": str(uuid.uuid4()), "payload": {"workoutId": str(uuid.uuid4())}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/hevy/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, json.loads(response.read())


def test_stalled_clients_hold_no_thread(running):
    port, _log = running
    webhook_head = (
        "POST /webhooks/hevy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {WEBHOOK_SECRET}\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    clients = [stalled(port, webhook_head + b'{"id": "') for _ in range(STALLED_BODIES)]
    clients += [stalled(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") for _ in range(STALLED_HEADERS)]
    try:
        get(port, "/", timeout=30)  # every stalled connection has been accepted and read by now (FIFO backlog)

        assert get(port, "/health", timeout=1) in (200, 503)
        status, answer = hevy_delivery(port, timeout=1)
        assert status == 200 and answer["ok"] is True

        upload = stalled(
            port,
            (
                "POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 200000000\r\n\r\n"
            ).encode(),
        )
        with upload:
            answer = upload.recv(4096)
            assert answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer  # 200 MB unsent

        assert all(still_open(sock) for sock in clients)
    finally:
        for sock in clients:
            sock.close()


def test_the_access_log_masks_oauth_code_and_state(running):
    port, log = running
    secret_code, secret_state = "c0de-" + uuid.uuid4().hex, "st4te-" + uuid.uuid4().hex
    path = f"/withings/callback/?state={secret_state}&code={secret_code}"
    get(port, path, timeout=10, headers={"Referer": f"http://127.0.0.1:{port}{path}"})
    get(port, "/health", timeout=10)  # the access line of the callback is written before this one's

    from tests.live import wait_for

    wait_for(lambda: "/withings/callback/?state=********&code=********" in log.read_text(errors="replace"))
    logged = log.read_text(errors="replace")
    assert secret_code not in logged and secret_state not in logged


def exchange(port: int, *parts: bytes) -> bytes:
    """Send `parts` on one connection (the last request asks to close), return all that came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for part in parts:
            sock.sendall(part)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def statuses(answer: bytes) -> list[bytes]:
    return re.findall(rb"HTTP/1\.1 (\d{3}) ", answer)


def test_reading_requests_whole_keeps_http_working(running):
    """Pipelined requests, Expect: 100-continue, and the refusals the main loop or the app gives unread."""
    port, _log = running
    get_health = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    pipelined = exchange(port, get_health + b"\r\n" + get_health + b"Connection: close\r\n\r\n")
    assert len(statuses(pipelined)) == 2

    hevy = b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(hevy + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert sock.recv(64) == b"HTTP/1.1 100 Continue\r\n\r\n"  # asked for before the body is sent
        sock.sendall(b"{}")
        rest = b""
        while chunk := sock.recv(65536):
            rest += chunk
    assert statuses(rest) == [b"401"]  # one final answer, no second 100

    assert statuses(exchange(port, hevy + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")) == [b"411"]
    assert statuses(exchange(port, b"GET / HTTP/1.1\r\nX-Endless: " + b"y" * 70_000)) == [b"431"]
