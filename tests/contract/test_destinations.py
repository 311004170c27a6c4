"""The Destination contract: every destination of the route table, against its sandbox fake, through the engine.

Each case delivers an item of the destination's route and runs it with `fitsync.sync.run_item`, then
checks what the engine recorded on the item and what copies the destination's fake holds;
`destinations.py` holds one adapter per destination.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from fitsync.errors import AuthExpired, RateLimited
from fitsync.models import SyncItem
from fitsync.routes import ROUTES, route_for
from tests.items import put_in_state

from .destinations import DESTINATIONS
from .engine import ErrorSpy, copy_item, run_item
from .faults import FAULTS

pytestmark = pytest.mark.django_db
every_destination = pytest.mark.parametrize(
    "destination", DESTINATIONS, ids=lambda adapter: adapter.name, indirect=True
)


@pytest.fixture
def run(monkeypatch):
    """Run an item through the engine; the outcome carries the error the engine was handed, if any."""
    spy = ErrorSpy(monkeypatch, "fitsync.sync.record_failure", 3)
    return lambda item: run_item(item, spy)


def again(item: SyncItem, **fields) -> SyncItem:
    """The item pending once more (a re-delivery, a new operation), as only the state machine sets it."""
    put_in_state(SyncItem.objects.filter(pk=item.pk), status="pending", **fields)
    item.refresh_from_db()
    return item


def test_every_destination_in_the_route_table_has_an_adapter():
    covered = {route_for(adapter.route).destination_role for adapter in DESTINATIONS}
    missing = {route.destination_provider for route in ROUTES.values() if route.destination_role not in covered}
    assert not missing, f"add an adapter for {missing} to tests/contract/destinations.py"


@every_destination
def test_it_writes_one_copy(destination, run):
    item = destination.deliver()
    outcome = run(item)
    assert (outcome.state, outcome.action, item.status) == ("done", "created", "synced")
    assert destination.copies() == [item.destination_id]


@every_destination
def test_a_duplicate_delivery_writes_once(destination, run):
    item = destination.deliver()
    run(item)
    assert run(again(item)).action == "unchanged"  # the same item synced twice
    replay = copy_item(item)  # the same record again after fitsync lost its row
    assert run(replay).state == "done"
    assert destination.copies() == [item.destination_id] == [replay.destination_id]


@every_destination
def test_an_expired_access_token_is_refreshed_once_and_the_write_succeeds(destination, run):
    if not destination.refreshes:
        pytest.skip(f"{destination.name} authenticates with an API key: nothing to refresh")
    destination.expire_access()
    item = destination.deliver()
    assert run(item).state == "done"
    assert len(destination.refresh_calls()) == 1 and destination.copies() == [item.destination_id]


@every_destination
def test_a_rejected_credential_marks_the_account_and_the_item_waits(destination, run):
    destination.reject_credential()
    outcome = run(destination.deliver())
    assert (outcome.state, outcome.attempts, type(outcome.error)) == ("waiting", 0, AuthExpired)
    destination.account.refresh_from_db()
    assert destination.account.status == "needs_reauth" and "Reconnect" in destination.account.status_message
    assert destination.copies() == []


@pytest.mark.parametrize(
    "destination, fault",
    [(adapter, fault) for adapter in DESTINATIONS for fault in FAULTS],
    ids=[f"{adapter.name}-{fault.name}" for adapter in DESTINATIONS for fault in FAULTS],
    indirect=["destination"],
)
def test_an_upstream_failure_is_classified_and_handled_by_the_engine(destination, fault, run):
    item = destination.deliver()
    destination.script(fault)
    before = timezone.now()
    outcome = run(item)
    assert isinstance(outcome.error, fault.error) and outcome.state == fault.state
    assert outcome.attempts == (fault.error is not RateLimited) and destination.copies() == []  # a 429 spends none
    if fault.error is RateLimited:
        assert outcome.error.retry_after == fault.retry_after
    if fault.state == "retrying":
        assert outcome.retry_at > before + timedelta(seconds=outcome.error.retry_after or 0) - timedelta(seconds=1)
        assert run(item).state == "done"  # due again, the write succeeds, once
        assert destination.copies() == [item.destination_id]


@every_destination
def test_an_update_of_a_copy_deleted_at_the_destination_writes_it_again(destination, run):
    item = destination.deliver()
    gone = run(item) and item.destination_id  # run() reads the item back
    destination.remove_by_hand(gone)
    destination.edit(item)
    outcome = run(item)
    assert (outcome.state, item.status) == ("done", "synced")
    assert destination.copies() == [item.destination_id]
    assert item.destination_id != gone or destination.natural_ids  # a day written again is the same day


@every_destination
def test_a_delete_of_a_copy_already_gone_is_done(destination, run):
    item = destination.deliver()
    run(item)
    destination.remove_by_hand(item.destination_id)
    outcome = run(again(item, operation="delete"))
    assert (outcome.state, outcome.action) == ("done", "deleted")
    assert destination.copies() == []


@every_destination
def test_a_delete_removes_the_copy(destination, run):
    item = destination.deliver()
    run(item)
    outcome = run(again(item, operation="delete"))
    assert (outcome.state, outcome.action, item.status) == ("done", "deleted", "synced")
    assert destination.copies() == []
