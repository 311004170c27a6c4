"""R8: hostile requests at the webhook endpoints -> never a 5xx, never a write without authentication;
hostile query strings at the pages -> never a 5xx.

GIVEN a connected Hevy account (webhook secret) and Withings account (URL token), WHEN 10,000 generated
requests per endpoint arrive through the Django test client (and a smaller run over real sockets at
gunicorn), THEN no answer is 5xx, and the unauthenticated ones leave InboundEvent, SyncItem and the
django-q task tables untouched and queue nothing. The seed is fixed (HOSTILE_SEED overrides it).
"""

import logging
import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.test import Client
from django_q.models import OrmQ, Schedule, Task

from fitsync import crypto
from fitsync.models import ConnectedAccount, InboundEvent, SyncItem, SyncRun
from tests.live import database_url, process_env, wait_for
from tests.seed import WEIGHTS, WORKOUTS, make_items

from . import hostile

SEED = int(os.environ.get("HOSTILE_SEED", "20261121"))
COUNT = 10_000
SLOW_COUNT = 100_000
HEVY_SECRET = "hevy-webhook-secret-hostile-0123456789"
WITHINGS_TOKEN = "withings-url-token-hostile-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def endpoints(make_account):
    hevy = make_account("hevy", api_key="hevy-api-key-hostile", webhook_secret=HEVY_SECRET)
    hevy.webhook_digest = crypto.digest(HEVY_SECRET)
    hevy.save()
    withings = make_account("withings", access_token="a", refresh_token="r", webhook_secret=WITHINGS_TOKEN)
    withings.webhook_digest, withings.external_user_id = crypto.digest(WITHINGS_TOKEN), "31400001"
    withings.save()
    make_account("intervals", api_key="k")
    make_account("garmin", session_blob="{}")
    return {
        "hevy": "/webhooks/hevy/",
        "withings": f"/webhooks/withings/{WITHINGS_TOKEN}/",
        "withings_bad_token": "/webhooks/withings/not-the-token/",
    }


def rows() -> dict[str, int]:
    models = (InboundEvent, SyncItem, Task, OrmQ, Schedule)
    return {model.__name__: model.objects.count() for model in models}


def fire(path: str, count: int, secret: str | None, seed: int) -> Counter:
    """Send `count` generated requests through the test client; the statuses seen. Only errors are
    logged meanwhile: 30,000 refusals at INFO would double the run time."""
    client, rng, statuses = Client(raise_request_exception=False), random.Random(seed), Counter()
    with quiet_logs():
        for _ in range(count):
            send(client, path, hostile.generate(rng, secret), statuses)
    return statuses


@contextmanager
def quiet_logs():
    loggers = [logging.getLogger(name) for name in ("django.request", "fitsync", "integrations", "axes")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def send(client: Client, path: str, request: hostile.HostileRequest, statuses: Counter) -> None:
    response = client.generic(request.method, path, request.body, request.content_type, **hostile.django_extra(request))
    statuses[response.status_code] += 1


def assert_no_5xx(statuses: Counter, path: str) -> None:
    errors = {status: n for status, n in statuses.items() if status >= 500}
    assert not errors, f"{path}: {errors} (seed {SEED})"


@pytest.mark.django_db
@pytest.mark.parametrize("count", [COUNT, pytest.param(SLOW_COUNT, marks=pytest.mark.slow)])
@pytest.mark.parametrize("endpoint", ["hevy", "withings_bad_token"])
def test_unauthenticated_hostile_requests_get_no_5xx_and_write_nothing(
    endpoint, count, endpoints, sent_jobs, django_capture_on_commit_callbacks
):
    before = rows()
    with django_capture_on_commit_callbacks() as callbacks:
        statuses = fire(endpoints[endpoint], count, None, SEED)
    assert_no_5xx(statuses, endpoint)
    assert rows() == before and callbacks == [] and sent_jobs == []
    assert sum(statuses.values()) == count


@pytest.mark.django_db
@pytest.mark.parametrize("count", [COUNT, pytest.param(SLOW_COUNT, marks=pytest.mark.slow)])
def test_hostile_requests_with_a_valid_withings_token_get_no_5xx(endpoints, count, monkeypatch):
    """The URL token is the only auth Withings has: any POST to the right URL gets a 200 and may queue
    one fetch (Withings drops subscriptions that see 4xx), recorded for the token's own account only."""
    monkeypatch.setattr("integrations.withings.jobs._send", lambda task, *args: None)
    statuses = fire(endpoints["withings"], count, None, SEED + 1)
    assert_no_5xx(statuses, "withings")
    assert set(InboundEvent.objects.values_list("account__provider", flat=True)) <= {"withings"}


@pytest.mark.django_db
def test_hostile_requests_with_the_hevy_secret_mixed_in_get_no_5xx(endpoints, sent_jobs):
    statuses = fire(endpoints["hevy"], COUNT // 10, HEVY_SECRET, SEED + 2)
    assert_no_5xx(statuses, "hevy")
    assert statuses[401] and statuses[400]  # both kinds of refusal were exercised
    assert all(len(source_id) <= 100 for source_id in SyncItem.objects.values_list("source_id", flat=True))


@pytest.mark.django_db
def test_json_nested_past_the_recursion_limit_gets_a_400_and_writes_nothing(endpoints, sent_jobs):
    """A 60 KB body of `[[[...]]]` made json.loads raise RecursionError: a 500 for the sender."""
    body = b"[" * 30_000 + b"]" * 30_000
    response = Client().post(endpoints["hevy"], body, "application/json", HTTP_AUTHORIZATION=HEVY_SECRET)
    assert response.status_code == 400
    assert InboundEvent.objects.count() == SyncItem.objects.count() == 0 and sent_jobs == []


# --- query strings at the pages -------------------------------------------------------------------------
PAGES = ("/", "/workouts/", "/weights/", "/runs/", "/charts/", "/hevy/", "/intervals/", "/withings/", "/garmin/")
PAGE_COUNT = 1_000


@pytest.fixture
def pages(endpoints, client, user):
    """The pages of a user with items on both routes and a run, so every filter has rows to work on."""
    for provider, route in (("hevy", WORKOUTS), ("withings", WEIGHTS)):
        make_items(ConnectedAccount.objects.get(provider=provider), route, 40)
    run = SyncRun.objects.create(trigger=SyncRun.Trigger.MANUAL, owner=user)
    client.force_login(user)
    huge = "9" * 25  # past every integer column: a 404, not an overflow
    return client, (
        *PAGES,
        f"/runs/{run.pk}/",
        f"/items/{SyncItem.objects.first().pk}/",
        f"/items/{huge}/",
        f"/runs/{huge}/progress/",
    )


@pytest.mark.django_db
def test_a_date_past_the_calendar_gets_a_400_with_the_reason(pages):
    """until=9999-12-31 made the day after it overflow: an OverflowError, a 500."""
    client, _ = pages
    response = client.get("/weights/", {"until": "9999-12-31"})
    assert response.status_code == 400 and "Pick a date between 1900-01-01 and 2999-12-31." in response.content.decode()
    for query in ({"since": "0001-01-01"}, {"since": "10000-01-01"}, {"until": "2024-02-30"}):
        assert client.get("/workouts/", query).status_code == 400, query
    assert client.get("/weights/", {"until": "2999-12-31", "since": "1900-01-01"}).status_code == 200


@pytest.mark.django_db
def test_hostile_query_strings_at_the_pages_get_no_5xx(pages):
    client, paths = pages
    client.raise_request_exception = False
    rng, statuses = random.Random(SEED + 4), Counter()
    with quiet_logs():
        for _ in range(PAGE_COUNT):
            statuses[client.get(rng.choice(paths), hostile.query(rng)).status_code] += 1
    assert_no_5xx(statuses, "pages")
    assert statuses[200] and statuses[400]  # both sane and refused queries were exercised


# --- over real sockets, at gunicorn -------------------------------------------------------------------
LIVE_COUNT = 400
RAW_GARBAGE = [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),  # a TLS ClientHello on the plain port
    b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nshort",  # body shorter than declared
    b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /webhooks/hevy/ HTTP/1.1\r\nHost: x\r\nX: " + b"y" * 20000 + b"\r\n\r\n",
    b"\xff\xfe\x00garbage\r\n\r\n",
]


def raw_request(port: int, path: str, request: hostile.HostileRequest) -> bytes:
    head = [
        f"{request.method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: close",
        f"Content-Type: {request.content_type}",
    ]
    if "Content-Length" not in request.headers:
        head.append(f"Content-Length: {len(request.body)}")
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("utf-8", "surrogatepass") + request.body


def send_raw(port: int, data: bytes) -> int | None:
    """The status gunicorn answered, or None when it closed the connection without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for step in (lambda: sock.sendall(data), lambda: sock.shutdown(socket.SHUT_WR)):
            try:
                step()
            except OSError:
                break  # gunicorn may answer and close before reading everything
        try:
            answer = sock.recv(64)
        except OSError:
            return None
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@pytest.fixture
def gunicorn(endpoints, tmp_path):
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    env = process_env(DATABASE_URL=database_url(), SITE_URL=f"http://127.0.0.1:{port}", LOG_LEVEL="INFO")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "fitsync.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "30",
            "--access-logfile",
            "-",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, process)
    yield port, tmp_path / "gunicorn.log"
    from tests.live import stop

    stop(process)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_hostile_requests_over_real_sockets_get_no_5xx_and_write_nothing(endpoints, gunicorn):
    port, log = gunicorn
    before, rng, statuses = rows(), random.Random(SEED + 3), Counter()
    for path in (endpoints["hevy"], endpoints["withings_bad_token"]):
        for _ in range(LIVE_COUNT):
            statuses[send_raw(port, raw_request(port, path, hostile.generate(rng)))] += 1
    for data in RAW_GARBAGE:
        statuses[send_raw(port, data)] += 1
    probe = hostile.HostileRequest("HEAD", b"", "text/plain")  # Withings' probe of the real URL: 200, no write
    assert send_raw(port, raw_request(port, endpoints["withings"], probe)) == 200
    assert not {s: n for s, n in statuses.items() if s and s >= 500}, statuses
    assert rows() == before
    # gunicorn writes the access line just after answering: wait for it. Its conf masks the URL token.
    probe_line = 'HEAD /webhooks/withings/********/ HTTP/1.1" 200'
    wait_for(lambda: probe_line in log.read_text(errors="replace"), timeout=10)
    logged = log.read_text(errors="replace")
    assert "Internal Server Error" not in logged and "Error handling request" not in logged
    assert WITHINGS_TOKEN not in logged
    assert sum(n for s, n in statuses.items() if s and s < 500) >= 2 * LIVE_COUNT
