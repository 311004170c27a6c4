"""The outbound chokepoint: timeouts, User-Agent, error classes, Retry-After, no secrets in logs."""

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests
import responses

from fitsync import http
from fitsync.errors import AuthExpired, NotFound, PermanentError, RateLimited, TransientError, parse_retry_after

URL = "https://upstream.test/api/thing"


@pytest.fixture
def upstream():
    with responses.RequestsMock() as rsps:
        yield rsps


def test_it_sends_a_user_agent_and_default_timeouts(upstream, settings):
    upstream.get(URL, json={"ok": True})
    http.request("hevy", "GET", URL)
    assert upstream.calls[0].request.headers["User-Agent"].startswith("fitsync/")
    assert upstream.calls[0].request.req_kwargs["timeout"] == (
        settings.HTTP_CONNECT_TIMEOUT,
        settings.HTTP_READ_TIMEOUT,
    )


@pytest.mark.parametrize(
    "status,error",
    [
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (504, TransientError),
        (429, RateLimited),
        (401, AuthExpired),
        (404, NotFound),
        (400, PermanentError),
        (422, PermanentError),
    ],
)
def test_it_classifies_statuses(upstream, status, error):
    upstream.get(URL, status=status, json={"status": status, "error": "Name is too long"})
    with pytest.raises(error) as caught:
        http.request("intervals", "GET", URL)
    assert caught.value.status == status and caught.value.permanent == (error in (PermanentError, NotFound))
    assert "Name is too long" in str(caught.value)


def test_it_reads_retry_after_in_seconds_and_as_a_date(upstream):
    upstream.get(URL, status=429, headers={"Retry-After": "120"})
    with pytest.raises(RateLimited) as caught:
        http.request("hevy", "GET", URL)
    assert caught.value.retry_after == 120
    later = datetime.now(timezone.utc) + timedelta(minutes=5)
    assert 290 <= parse_retry_after(format_datetime(later, usegmt=True)) <= 300


@pytest.mark.parametrize("exc", [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError()])
def test_it_turns_network_failures_into_transient_errors(upstream, exc):
    upstream.get(URL, body=exc)
    with pytest.raises(TransientError):
        http.request("withings", "GET", URL)


def test_it_treats_malformed_json_as_transient(upstream):
    upstream.get(URL, body="{not json")
    response = http.request("intervals", "GET", URL)
    with pytest.raises(TransientError, match="malformed"):
        http.json_of(response, "intervals")


def test_it_drops_nul_characters_that_postgresql_cannot_store(upstream):
    """R3 on PostgreSQL: a Hevy note with U+0000 made every events poll of the account fail."""
    upstream.get(URL, body='{"title": "Legs\\u0000", "notes": ["a\\u0000b", "\\\\u0000 stays text"]}')
    data = http.json_of(http.request("hevy", "GET", URL), "hevy")
    assert data == {"title": "Legs", "notes": ["ab", "\\u0000 stays text"]}


def test_it_never_logs_the_query_or_headers(upstream, caplog):
    upstream.get(URL, json={})
    with caplog.at_level(logging.DEBUG, logger="fitsync.http"):
        http.request(
            "withings", "GET", URL + "?access_token=planted-token", headers={"Authorization": "Bearer planted"}
        )
    assert caplog.records and "planted" not in caplog.text


def test_a_blackholed_upstream_fails_within_the_read_timeout(settings):
    import socket
    import time

    settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT = 1, 1
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    started = time.monotonic()
    with pytest.raises(TransientError, match="did not answer in time"):
        http.request("garmin", "GET", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    assert time.monotonic() - started < settings.HTTP_READ_TIMEOUT + 1
    listener.close()
