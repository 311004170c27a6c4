"""The item state machine owns `SyncItem.status`: its transitions, and nothing else writes it."""

import pytest
from django.utils import timezone

from fitsync.models import ItemStatus, SyncItem


@pytest.fixture
def item(make_account):
    account = make_account("hevy")
    return SyncItem.objects.create(account=account, route="hevy_intervals", source_id="w1")


def status_of(item) -> str:
    return SyncItem.objects.get(pk=item.pk).status


@pytest.mark.django_db
def test_a_status_written_outside_the_transitions_is_refused(item):
    with pytest.raises(TypeError, match="item_states"):
        SyncItem.objects.filter(pk=item.pk).update(status=ItemStatus.SYNCED)
    SyncItem.objects.filter(pk=item.pk).update(title="other fields stay writable")
    assert status_of(item) == ItemStatus.PENDING


@pytest.mark.django_db
def test_claim_succeed_and_a_rerun_that_arrived_meanwhile(item):
    assert SyncItem.objects.claim(item.pk, "w") is not None
    assert SyncItem.objects.claim(item.pk, "other") is None  # leased
    SyncItem.objects.upsert(item.account_id, item.route, item.source_id, title="edited while running")
    assert SyncItem.objects.owned(item.pk, "not-the-owner").succeed(ItemStatus.SYNCED) == 0
    assert SyncItem.objects.owned(item.pk, "w").succeed(ItemStatus.SYNCED) == 1
    row = SyncItem.objects.get(pk=item.pk)
    assert (row.status, row.attempts, row.rerun) == (ItemStatus.PENDING, 1, False)  # new data: once more


@pytest.mark.django_db
def test_fail_retries_then_gives_up_and_release_spends_no_attempt(item):
    SyncItem.objects.claim(item.pk, "w")
    SyncItem.objects.owned(item.pk, "w").release("Connect Intervals.icu")
    row = SyncItem.objects.get(pk=item.pk)
    assert (row.status, row.attempts, row.last_error) == (ItemStatus.PENDING, 0, "Connect Intervals.icu")
    SyncItem.objects.claim(item.pk, "w")
    later = timezone.now()
    SyncItem.objects.owned(item.pk, "w").fail(gives_up=False, attempts=1, message="503", retry_at=later)
    assert status_of(item) == ItemStatus.PENDING
    SyncItem.objects.claim(item.pk, "w")
    SyncItem.objects.owned(item.pk, "w").fail(gives_up=True, attempts=2, message="422", retry_at=later)
    assert status_of(item) == ItemStatus.FAILED


@pytest.mark.django_db
def test_requeue_and_skip_leave_a_running_item_to_its_job(item, make_account):
    other = SyncItem.objects.create(account=item.account, route=item.route, source_id="w2")
    SyncItem.objects.claim(other.pk, "w")
    both = SyncItem.objects.filter(pk__in=[item.pk, other.pk])
    assert both.skip("Skipped from the dashboard.") == 1
    assert (status_of(item), status_of(other)) == (ItemStatus.SKIPPED, ItemStatus.RUNNING)
    assert both.requeue(force=True) == [item.pk]
    row = SyncItem.objects.get(pk=item.pk)
    assert (row.status, row.force, row.attempts) == (ItemStatus.PENDING, True, 0)


@pytest.mark.django_db
def test_record_imported_inserts_new_items_settles_known_ones_and_leaves_a_running_one(item, make_account):
    running = SyncItem.objects.create(account=item.account, route="hevy_intervals", source_id="w2")
    SyncItem.objects.claim(running.pk, "job")
    synced = {"status": ItemStatus.SYNCED, "destination_id": "a1"}
    outcomes = {"w1": synced, "w2": synced, "w3": {"status": ItemStatus.FAILED, "last_error": "refused"}}
    SyncItem.objects.record_imported(item.account.pk, "hevy_intervals", outcomes)
    rows = dict(SyncItem.objects.values_list("source_id", "status"))
    assert rows == {"w1": ItemStatus.SYNCED, "w2": ItemStatus.RUNNING, "w3": ItemStatus.FAILED}
    assert SyncItem.objects.get(source_id="w2").destination_id == ""  # its job records its own outcome
