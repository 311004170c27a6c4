"""The Source contract: every source of the route table, against its sandbox fake, through the engine.

As allauth runs one test mixin against every OAuth provider, each source here runs the same cases;
`sources.py` holds one adapter per source that arranges its fake and says what the source documents.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.errors import AuthExpired, RateLimited
from fitsync.routes import ROUTES, route_for

from .engine import run_item
from .faults import FAULTS
from .sources import SOURCES

pytestmark = pytest.mark.django_db
every_source = pytest.mark.parametrize("source", SOURCES, ids=lambda adapter: adapter.name, indirect=True)


def test_every_source_in_the_route_table_has_an_adapter():
    covered = {route_for(adapter.route).source_role for adapter in SOURCES}
    missing = {route.source_provider for route in ROUTES.values() if route.source_role not in covered}
    assert not missing, f"add an adapter for {missing} to tests/contract/sources.py"


@every_source
def test_it_fetches_and_describes_a_record(source):
    key = source.seed()
    assert source.pull(key).state == "done"
    item = source.item(key)
    described = source.role.describe(source.fetch(item))
    assert (described.title, described.occurred_at) == source.expected(key)
    assert described.snapshot and (item.title, item.occurred_at) == source.expected(key)


@every_source
def test_a_record_the_source_does_not_have(source):
    item = source.missing()
    with pytest.raises(source.missing_error):
        source.fetch(item)
    outcome = run_item(item, source.item_spy)  # the engine, on an item of the route
    assert (outcome.state, outcome.attempts) == (source.missing_state, 1)
    assert source.missing_note in outcome.message
    assert [call.status for call in source.reads()] == source.missing_reads * 2  # fetch, then the engine's


@every_source
def test_an_expired_access_token_is_refreshed_once_and_the_read_succeeds(source):
    if not source.refreshes:
        pytest.skip(f"{source.name} authenticates with an API key: nothing to refresh")
    source.expire_access()
    key = source.seed()
    assert source.pull(key).state == "done"
    assert len(source.refresh_calls()) == 1 and source.item(key)


@every_source
def test_a_rejected_credential_marks_the_account_for_reconnecting(source):
    key = source.seed()
    source.reject_credential()
    outcome = source.pull(key)
    assert (outcome.state, type(outcome.error)) == ("waiting", AuthExpired)
    source.account.refresh_from_db()
    assert source.account.status == "needs_reauth" and "Reconnect" in source.account.status_message
    assert outcome.attempts == source.attempts_when_waiting


@pytest.mark.parametrize(
    "source, fault",
    [(adapter, fault) for adapter in SOURCES for fault in FAULTS],
    ids=[f"{adapter.name}-{fault.name}" for adapter in SOURCES for fault in FAULTS],
    indirect=["source"],
)
def test_an_upstream_failure_is_classified_and_handled_by_the_engine(source, fault):
    key = source.seed()
    source.script(fault)
    before = timezone.now()
    outcome = source.pull(key)
    assert isinstance(outcome.error, fault.error) and outcome.state == fault.state
    if fault.error is RateLimited:
        assert outcome.error.retry_after == (fault.retry_after or source.rate_window)
    if fault.state == "retrying":
        assert outcome.retry_at > before + timedelta(seconds=outcome.error.retry_after or 0) - timedelta(seconds=1)
        assert source.pull(key).state == "done"  # due again, the read succeeds
        assert source.item(key)
