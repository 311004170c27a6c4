"""manage.py sync_withings --days N [--user NAME]: fetch a past window of Withings measurements now."""

from django.core.management.base import BaseCommand, CommandError

from fitsync.errors import UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider, SyncRun
from fitsync.sync import start_run
from integrations.withings import fetch


class Command(BaseCommand):
    help = "Fetch the Withings measurements of the last N days and queue them on every route from Withings."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--user", help="only this fitsync user's account (username)")
        parser.add_argument("--lift-cap", action="store_true", help="upload beyond the per-run safety cap")

    def handle(self, *args, days: int, user: str | None = None, lift_cap: bool = False, **options):
        if days < 1:
            raise CommandError("--days must be at least 1")
        accounts = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, status=AccountStatus.CONNECTED)
        if user:
            accounts = accounts.filter(owner__username=user)
        if not accounts.exists():
            raise CommandError("No connected Withings account" + (f" for {user}" if user else ""))
        for account in accounts.select_related("owner"):
            run = start_run(SyncRun.Trigger.MANUAL, account=account, route=SyncRun.EVERY_ROUTE)
            try:
                counts = fetch.fetch_window(account, run, days, lift_cap=lift_cap)
            except UpstreamError as exc:
                run.finish(error=exc.message)
                raise CommandError(f"{account.owner}: {exc.message}")
            run.finish()
            self.stdout.write(f"{account.owner}: last {days} days: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
