"""Outbound redirects are refused: requests would re-send Hevy's `api-key` header to any host a 3xx names."""

import pytest
import responses
from django.conf import settings

from fitsync.errors import PermanentError
from integrations.hevy.client import HevyClient
from sandbox.core import FakeService
from sandbox.hevy import HevyFake
from sandbox.mock import mount

API_KEY = "8c1e6a52-3f0d-4b7e-9a21-5d4c3b2a1f00"
ELSEWHERE = "https://collector.elsewhere.test"


class Elsewhere(FakeService):
    """Another host: it has no routes, its ledger shows whatever reached it."""

    name = "elsewhere"


@pytest.fixture
def hosts(settings):
    settings.HEVY_REQUESTS_PER_SECOND = 0
    hevy, elsewhere = HevyFake(), Elsewhere()
    hevy.add_user(API_KEY, name="anna_lifts")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        mount(rsps, hevy, settings.HEVY_API_URL)
        mount(rsps, elsewhere, ELSEWHERE)
        yield hevy, elsewhere


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_it_does_not_follow_a_redirect_to_another_host(hosts, status):
    hevy, elsewhere = hosts
    hevy.add_fault(path="/v1/user/info", status=status, location=f"{ELSEWHERE}/steal?key=1")
    with pytest.raises(PermanentError) as caught:
        HevyClient(API_KEY).user_info()
    assert elsewhere.ledger == []  # the key never left for the other host
    assert len(hevy.calls("GET", "/v1/user/info")) == 1
    assert caught.value.status == status and caught.value.permanent
    assert "Hevy" in str(caught.value) and "collector.elsewhere.test" in str(caught.value)
    assert "steal" not in str(caught.value)  # the host is named, not the rest of the Location


def test_it_refuses_a_redirect_on_the_same_host_too(hosts):
    hevy, elsewhere = hosts
    hevy.add_fault(path="/v1/user/info", status=302, location="/v1/other")
    with pytest.raises(PermanentError, match=settings.HEVY_API_URL.split("//")[1]):
        HevyClient(API_KEY).user_info()
    assert [call.path for call in hevy.ledger] == ["/v1/user/info"]


def test_a_normal_answer_still_arrives(hosts):
    assert HevyClient(API_KEY).user_info().name == "anna_lifts"
