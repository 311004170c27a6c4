"""django-q2 entry points for Withings: primitive ids in, a short summary out."""

from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun

from . import jobs, subscriptions

MANUAL_SYNC_DAYS = 7


def fetch_new(account_id: int, trigger: str = SyncRun.Trigger.WEBHOOK, attempt: int = 1) -> str:
    """Fetch everything Withings changed since the account's cursor (after a notification)."""
    account = jobs.connected_account(account_id)
    if account is None:
        return f"withings account {account_id}: not connected"
    return jobs.run_fetch(account, jobs.new_run(account, trigger), attempt, "fetch_new", (account_id, trigger))


def fetch_window(account_id: int, run_id: int, days: int, lift_cap: bool = False, attempt: int = 1) -> str:
    """Fetch the weigh-ins of the last `days` days into an existing run (the manual sync)."""
    account, run = jobs.connected_account(account_id), SyncRun.objects.get(pk=run_id)
    if account is None:
        run.finish(error="Withings is not connected")
        return f"withings account {account_id}: not connected"
    args = (account_id, run_id, days, lift_cap)
    return jobs.run_fetch(account, run, attempt, "fetch_window", args, window_days=days, lift_cap=lift_cap)


def sync_now(account_id: int, run_id: int) -> str:
    """The dashboard's "Sync now" for the withings_garmin route: the last 7 days."""
    return fetch_window(account_id, run_id, MANUAL_SYNC_DAYS)


def fetch_new_for_all() -> str:
    """Every 6 hours: catch up on notifications that never arrived."""
    ids = list(_connected_ids())
    for account_id in ids:
        jobs.queue("fetch_new", account_id, SyncRun.Trigger.SCHEDULE)
    return f"queued {len(ids)} Withings fetches"


def subscribe(account_id: int) -> str:
    account = jobs.connected_account(account_id)
    if account is None:
        return f"withings account {account_id}: not connected"
    return f"withings account {account_id}: subscription {subscriptions.subscribe(account)['state']}"


def check_subscriptions() -> str:
    """Daily: re-subscribe accounts whose subscription Withings dropped."""
    states = [subscriptions.check(a)["state"] for a in ConnectedAccount.objects.filter(pk__in=_connected_ids())]
    return f"checked {len(states)} Withings subscriptions: {states.count('active')} active"


def _connected_ids():
    accounts = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, status=AccountStatus.CONNECTED)
    return accounts.values_list("pk", flat=True)
