"""manage.py withings_subscriptions subscribe|list|revoke [--user NAME]: Withings notifications."""

from django.core.management.base import BaseCommand, CommandError

from fitsync.errors import UpstreamError
from fitsync.models import AccountStatus, ConnectedAccount, Provider
from integrations.withings import subscriptions


class Command(BaseCommand):
    help = "Subscribe, list or revoke Withings weight notifications (appli 1) for connected accounts."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["subscribe", "list", "revoke"])
        parser.add_argument("--user", help="only this fitsync user's account (username)")

    def handle(self, *args, action: str, user: str | None = None, **options):
        accounts = ConnectedAccount.objects.filter(provider=Provider.WITHINGS, status=AccountStatus.CONNECTED)
        if user:
            accounts = accounts.filter(owner__username=user)
        if not accounts.exists():
            raise CommandError("No connected Withings account" + (f" for {user}" if user else ""))
        for account in accounts.select_related("owner"):
            outcome = self._run(action, account)
            self.stdout.write(f"{account.owner} (Withings user {account.external_user_id}): {outcome}")

    def _run(self, action: str, account: ConnectedAccount) -> str:
        if action == "list":
            try:
                ours = subscriptions.notification_url(subscriptions.auth.ensure_webhook_token(account))
                found = subscriptions.list_ours(account)
            except UpstreamError as exc:
                return f"error: {exc.message}"
            lines = [_describe(s, ours) for s in found]
            return "\n  " + "\n  ".join(lines) if lines else "no subscriptions"
        state = subscriptions.subscribe(account) if action == "subscribe" else subscriptions.revoke(account)
        return f"{state.state}: {state.message}"


def _describe(subscription, ours: str) -> str:
    if subscription.callbackurl == ours:
        return f"appli {subscription.appli} fitsync: {subscriptions.shown_url()}"  # never print the token
    return f"appli {subscription.appli} other: {subscription.callbackurl}"
