"""The Withings client: body statuses as fitsync errors, Bearer auth, the app-wide pacer, and
numbers that may come as strings."""

import json
import time

import pytest

from fitsync import throttle
from fitsync.errors import AuthExpired, PermanentError, RateLimited, TransientError
from integrations.withings import client
from tests.conftest import load_fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "status, error_class",
    [
        (401, AuthExpired),
        (100, AuthExpired),
        (601, RateLimited),
        (522, TransientError),
        (5000, TransientError),
        (503, PermanentError),
        (293, PermanentError),
        (2554, PermanentError),
    ],
)
def test_it_maps_withings_body_statuses_onto_fitsync_errors(status, error_class):
    error = client.error_for(status, "something")
    assert type(error) is error_class and error.provider == "withings" and f"status {status}" in str(error)


def test_it_waits_out_the_rate_window_after_601(account, fake, rsps):
    fake.add_fault(path="^/measure$", body_status=601)
    with pytest.raises(RateLimited) as caught:
        client.get_measures(fake.issue_tokens("fitsync-test", 31400001)["access_token"], [1])
    assert caught.value.retry_after == 60 and "Too Many Requests" in str(caught.value)
    assert load_fixture("withings/status__601.json")["status"] == 601


@pytest.mark.parametrize(
    "fault, error_class",
    [
        ({"status": 500}, TransientError),
        ({"reset": True}, TransientError),
        ({"body": b"{not json"}, TransientError),
        ({"status": 200, "body": b'{"body": {}}'}, TransientError),
        ({"status": 403}, PermanentError),
    ],
)
def test_it_classifies_transport_failures(fake, rsps, fault, error_class):
    fake.add_fault(path="^/measure$", **fault)
    with pytest.raises(error_class):
        client.get_measures("token", [1])


def test_it_sends_the_token_as_a_bearer_header_only(fake, rsps):
    token = fake.issue_tokens("fitsync-test", 31400001)["access_token"]
    client.get_measures(token, [1, 4], lastupdate=5)
    [call] = fake.calls("POST", "^/measure$")
    assert call.headers["authorization"] == f"Bearer {token}"
    assert token not in call.body.decode() and call.query == {}


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


@pytest.fixture
def paced(settings, fake, monkeypatch) -> Clock:
    """Withings pacing on at its real cap, the pacer and the fake on one virtual clock (sleeping moves it)."""
    settings.WITHINGS_REQUESTS_PER_MINUTE = 120
    clock = Clock(time.time())
    fake.now = clock
    monkeypatch.setattr(throttle, "clock", clock)
    monkeypatch.setattr(throttle, "sleep", clock.advance)
    return clock


def test_it_stays_under_120_requests_in_every_minute(fake, rsps, paced):
    fake.rate_limit_per_minute = 120  # the fake answers 601 beyond 120 per rolling minute
    token = fake.issue_tokens("fitsync-test", 31400001)["access_token"]
    sent_at = []
    for _ in range(400):
        client.get_measures(token, [1])  # a 601 would raise RateLimited
        sent_at.append(paced())
        paced.advance(0.01)
    busiest = max(sum(1 for t in sent_at if start <= t < start + 60) for start in sent_at)
    assert busiest < 120 and sent_at[-1] - sent_at[0] < 5 * 60  # throttled, not stalled


def test_a_notifications_calls_go_out_at_once_or_one_slot_apart(fake, rsps, paced):
    """A token refresh and then getmeas after a quiet spell: the first at once, the second one slot later."""
    token = fake.issue_tokens("fitsync-test", 31400001)["access_token"]
    asked_at = paced()
    client.get_measures(token, [1])
    assert paced() == asked_at
    client.get_measures(token, [1], lastupdate=5)
    assert paced() - asked_at < 1


def test_a_601_holds_every_caller_who_comes_back_after_the_window(fake, rsps, paced):
    token = fake.issue_tokens("fitsync-test", 31400001)["access_token"]
    fake.add_fault(path="^/measure$", body_status=601)
    with pytest.raises(RateLimited):
        client.get_measures(token, [1])
    with pytest.raises(RateLimited) as held:  # not sent, and not kept waiting for the minute either
        client.list_subscriptions(token)
    assert held.value.retry_after == pytest.approx(60) and len(fake.calls("POST")) == 1
    paced.advance(60)
    client.list_subscriptions(token)
    assert len(fake.calls("POST")) == 2


def test_a_601_for_one_call_repeated_too_soon_holds_no_other(fake, rsps, paced):
    fake.same_arguments_seconds = 10
    token = fake.issue_tokens("fitsync-test", 31400001)["access_token"]
    client.get_measures(token, [1], lastupdate=5)
    with pytest.raises(RateLimited) as repeated:
        client.get_measures(token, [1], lastupdate=5)
    assert repeated.value.retry_after >= 60  # that call waits Withings' minute at least
    before = paced()
    client.get_measures(token, [1], lastupdate=6)  # any other goes at the pace
    assert paced() - before < 1


def measure_answer(body: dict, status=0) -> bytes:
    return json.dumps({"status": status, "body": body}).encode()


@pytest.mark.parametrize(
    "fields, more, offset, updatetime",
    [
        ({"more": 0, "offset": 0, "updatetime": 1737353500}, False, 0, 1737353500),
        ({"more": "1", "offset": "100", "updatetime": "1737353500"}, True, 100, 1737353500),  # the spec's string
        ({"more": "0", "offset": "0", "updatetime": "1737353500.0"}, False, 0, 1737353500),  # bool("0") is True
        ({"more": True, "offset": 100}, True, 100, 0),
        ({"more": "false", "offset": None, "updatetime": "soon"}, False, 0, 0),  # 0 leaves the cursor alone
        ({"more": 1, "offset": "next"}, True, 0, 0),  # an offset that does not advance: fetch reports it
    ],
)
def test_it_reads_paging_numbers_written_as_numbers_or_strings(fake, rsps, fields, more, offset, updatetime):
    fake.add_fault(path="^/measure$", status=200, body=measure_answer({"measuregrps": [], **fields}))
    page = client.get_measures("token", [1])
    assert (page.more, page.offset, page.updatetime) == (more, offset, updatetime)


@pytest.mark.parametrize("status, error_class", [("601", RateLimited), ("401", AuthExpired), (" 0 ", None)])
def test_it_reads_a_body_status_written_as_a_string(fake, rsps, status, error_class):
    fake.add_fault(path="^/measure$", status=200, body=measure_answer({"measuregrps": []}, status))
    if error_class is None:
        assert client.get_measures("token", [1]).groups == []
    else:
        with pytest.raises(error_class):
            client.get_measures("token", [1])


@pytest.mark.parametrize("status", [None, "ok", "", 1.5, [0]])
def test_it_treats_a_status_that_is_not_a_number_as_a_transient_failure(fake, rsps, status):
    fake.add_fault(path="^/measure$", status=200, body=measure_answer({"measuregrps": []}, status))
    with pytest.raises(TransientError, match="without a status"):
        client.get_measures("token", [1])


@pytest.mark.parametrize("wait_seconds, retry_after", [(188, 188), ("188", 188), (5, 60), (None, 60), ("soon", 60)])
def test_it_waits_as_long_as_a_601_asks_and_at_least_the_rate_window(fake, rsps, wait_seconds, retry_after):
    answer = {"status": 601, "body": {"wait_seconds": wait_seconds}, "error": "Same arguments in less than 10 seconds"}
    fake.add_fault(path="^/measure$", status=200, body=json.dumps(answer).encode())
    with pytest.raises(RateLimited) as caught:
        client.get_measures("token", [1])
    assert caught.value.retry_after == retry_after
