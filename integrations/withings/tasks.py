"""django-q2 entry points for Withings: plain ids and strings in, a short summary out."""

from fitsync import jobs as fitsync_jobs
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun

from . import jobs, subscriptions

MANUAL_SYNC_DAYS = 7


def fetch_new(
    account_id: int, trigger: str = "webhook", startdate: int | None = None, enddate: int | None = None
) -> str:
    """Fetch everything Withings changed since the account's cursor (after a notification), then the window
    of measurement dates the notification named, if it named one: a deletion shows only there."""
    account = jobs.connected_account(account_id)
    if account is None:
        return f"withings account {account_id}: not connected"
    window = [startdate, enddate] if startdate is not None and enddate is not None and startdate <= enddate else None
    return jobs.run_fetch(account, jobs.new_run(account, trigger, window))


def fetch_window(account_id: int, run_id: int, days: int, lift_cap: bool = False) -> str:
    """Fetch the weigh-ins of the last `days` days into an existing run (the manual sync)."""
    run = SyncRun.objects.get(pk=run_id)
    jobs.prepare_window_run(run, days, lift_cap)
    return _resume(run)


def resume(run_id: int) -> str:
    """The dispatcher's call for a fetch run that is due again: a retry, or a run whose worker died."""
    run = SyncRun.objects.filter(pk=run_id, finished_at__isnull=True).first()
    if run is None:
        return f"run {run_id}: already finished"
    return _resume(run)


def _resume(run: SyncRun) -> str:
    account = jobs.connected_account(run.account_id)
    if account is None:
        run.finish(error="Withings is not connected")
        return f"withings account {run.account_id}: not connected"
    return jobs.run_fetch(account, run)


def sync_now(account_id: int, run_id: int) -> str:
    """The dashboard's "Sync now" on a route from Withings: the last 7 days, for every route from it."""
    return fetch_window(account_id, run_id, MANUAL_SYNC_DAYS)


def fetch_new_for_all() -> str:
    """Every 6 hours: catch up on notifications that never arrived, and reconcile the recent days (deletions
    whose notification named no window, or the wrong one)."""
    ids = list(_connected_ids())
    for account_id in ids:
        jobs.queue("fetch_new", account_id, SyncRun.Trigger.SCHEDULE.value)
    return f"queued {len(ids)} Withings fetches"


def subscribe(account_id: int) -> str:
    account = jobs.connected_account(account_id)
    if account is None:
        return f"withings account {account_id}: not connected"
    return f"withings account {account_id}: subscription {subscriptions.subscribe(account).state}"


def check_subscriptions() -> str:
    """Daily: re-subscribe accounts whose subscription Withings dropped; one account's error stops no other."""
    accounts = ConnectedAccount.objects.filter(pk__in=_connected_ids())
    states = fitsync_jobs.for_each(accounts, lambda account: subscriptions.check(account).state)
    return f"checked {len(states)} Withings subscriptions: {states.count('active')} active"


def _connected_ids():
    accounts = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, status=AccountStatus.CONNECTED)
    return accounts.values_list("pk", flat=True)
