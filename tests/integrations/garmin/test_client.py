"""The one mapping of garminconnect's exceptions onto fitsync.errors, and parsing weigh-ins."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
from garminconnect import (
    GarminConnectAuthenticationError,
    GarminConnectConnectionError,
    GarminConnectNotFoundError,
    GarminConnectTooManyRequestsError,
)

from fitsync.errors import AuthExpired, NotFound, PermanentError, RateLimited, TransientError
from integrations.garmin.client import (
    CONSENT_MESSAGE,
    UploadConsentMissing,
    error_from,
    new_garmin,
    token_expiry,
    weigh_ins_from_range,
)
from tests.conftest import load_fixture


def wrapped(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "expected", "status"),
    [
        (GarminConnectConnectionError("API Error 412 - The user is from EU location"), UploadConsentMissing, 412),
        (GarminConnectConnectionError("API Error 409 - Duplicate Activity."), PermanentError, 409),
        (GarminConnectConnectionError("Upload HTTP error: API Error 503"), TransientError, 503),
        (GarminConnectConnectionError("API Error 500"), TransientError, 500),
        (GarminConnectConnectionError("API Error 400 - bad file"), PermanentError, 400),
        (GarminConnectNotFoundError("API call client error (404): API Error 404"), NotFound, 404),
        (GarminConnectConnectionError("API Error 429"), RateLimited, 429),
        (GarminConnectTooManyRequestsError("All login strategies rate limited"), RateLimited, 429),
        (GarminConnectConnectionError("mobile+cffi returned 427"), RateLimited, 429),
        (GarminConnectAuthenticationError("Authentication failed: API Error 401"), AuthExpired, 401),
        (GarminConnectAuthenticationError("DI token refresh failed: 400"), AuthExpired, 400),
        (GarminConnectAuthenticationError("DI token refresh failed: 502"), TransientError, 502),
        (GarminConnectAuthenticationError("MFA verification failed: [...]"), AuthExpired, None),
    ],
)
def test_it_maps_garminconnect_errors_by_the_status_in_their_text(exc, expected, status):
    error = error_from(exc)
    assert type(error) is expected
    assert (error.provider, error.status) == ("garmin", status)


def test_it_reads_the_status_from_the_response_when_the_library_attached_one():
    exc = GarminConnectConnectionError("something went wrong")
    exc.response = type("Response", (), {"status_code": 412})()
    error = error_from(exc)
    assert isinstance(error, UploadConsentMissing)
    assert error.message == CONSENT_MESSAGE and "consent" in error.message


def test_it_keeps_the_retry_after_of_a_429():
    exc = GarminConnectConnectionError("API Error 429")
    exc.response = type("Response", (), {"status_code": 429, "headers": {"Retry-After": "120"}})()
    error = error_from(exc)
    assert type(error) is RateLimited and error.retry_after == 120


def test_every_library_call_uses_our_timeouts(settings, monkeypatch):
    settings.HTTP_CONNECT_TIMEOUT, settings.HTTP_READ_TIMEOUT = 2, 7
    seen = []
    monkeypatch.setattr(requests.Session, "request", lambda self, method, url, **kw: seen.append(kw["timeout"]))
    garmin = new_garmin()
    garmin.client._api_session.request("GET", "https://connectapi.garmin.com/x", timeout=15)  # the library's 15 s
    assert seen == [(2, 7)]


def test_it_treats_network_failures_as_transient():
    error = error_from(wrapped(GarminConnectConnectionError("Connection error: boom"), requests.ConnectionError()))
    assert type(error) is TransientError
    assert "Could not reach Garmin Connect" in error.message


def test_it_hands_back_our_own_error_raised_inside_a_library_call():
    ours = AuthExpired("refresh token refused", provider="garmin")
    assert error_from(wrapped(GarminConnectConnectionError("Connection error: x"), ours)) is ours


def test_it_parses_every_entry_of_a_weight_range_answer():
    weigh_ins = weigh_ins_from_range(load_fixture("garmin/weight_range.json"))
    first = weigh_ins[0]
    assert (first.sample_pk, first.calendar_date, first.weight_kg) == ("1768458600125", "2026-01-15", Decimal("80.9"))
    assert first.measured_at == datetime.fromtimestamp(1768507800, UTC)
    assert len({w.sample_pk for w in weigh_ins}) == len(weigh_ins) >= 2


def test_it_ignores_the_null_placeholders_of_an_empty_range():
    empty = {"dailyWeightSummaries": [], "previousDateWeight": {"samplePk": None}, "nextDateWeight": None}
    assert weigh_ins_from_range(empty) == []


def test_it_reads_the_token_expiry_from_the_jwt(fake):
    fake.add_user("x@example.com", "pw")
    expiry = token_expiry(fake.tokens_for("x@example.com"))
    assert expiry and expiry > datetime.now(UTC)
    assert token_expiry("not json") is None
