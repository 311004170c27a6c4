"""manage.py import_history SOURCE: copy a source's history through every route from it (resumable,
dry-run, progress). A run per route, as the dashboard's history import (`fitsync/history_runs.py`)."""

from argparse import ArgumentTypeError
from datetime import UTC, datetime, time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from fitsync.errors import UpstreamError, provider_label
from fitsync.history_runs import importable_routes
from fitsync.imports import ImportBlocked, ImportOptions, ImportReport, import_history
from fitsync.models import ConnectedAccount, SyncRun
from fitsync.routes import ROUTES, Route, routes_from

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Copy a source's records not yet at the destinations (or changed since), oldest first, through every "
        "route from the source. Safe to re-run."
    )
    source = ""  # a service's own name for this command fixes it; otherwise it is the first argument

    def add_arguments(self, parser):
        if not self.source:
            parser.add_argument("source", choices=sources(), help="The service whose history to import.")
        parser.add_argument("--since", type=day, help="Only records from this date on (YYYY-MM-DD, UTC).")
        parser.add_argument("--until", type=day, help="Only records before this date (YYYY-MM-DD, UTC).")
        parser.add_argument("--max-pages", type=positive, help="Read at most N pages of the history, newest first.")
        parser.add_argument(
            "--page-size", type=positive, help="Records per page read (at most what the source allows)."
        )
        parser.add_argument(
            "--limit", type=positive, help="Write at most N records per route (creates + updates), oldest first."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would be created/updated; write nothing.")
        parser.add_argument(
            "--lift-cap", action="store_true", help="Queue everything now, beyond a destination's per-run safety cap."
        )
        parser.add_argument("--user", help="Whose accounts to use, when several users have the source connected.")

    def handle(self, *args, **opts):
        provider = self.source or opts["source"]
        check_page_size(provider, opts["page_size"])
        account = source_account(provider, opts["user"])
        options = ImportOptions(
            since=opts["since"],
            until=opts["until"],
            max_pages=opts["max_pages"],
            page_size=opts["page_size"],
            limit=opts["limit"],
            dry_run=opts["dry_run"],
            lift_cap=opts["lift_cap"],
        )
        try:
            routes = importable_routes(account)
        except ImportBlocked as exc:
            raise CommandError(str(exc), returncode=1)
        self.is_tty = self.stdout.isatty()
        failed = 0
        for route in routes:
            if len(routes) > 1:
                self.stdout.write(f"{route.label}:")
            failed += self.import_route(route, account, options).failed
        if failed:
            raise SystemExit(1)

    def import_route(self, route: Route, account: ConnectedAccount, options: ImportOptions) -> ImportReport:
        run = None
        if not options.dry_run:
            run = SyncRun.objects.create(
                trigger=SyncRun.Trigger.BACKFILL, account=account, owner=account.owner, route=route.name
            )
        try:
            report = import_history(route, account, options, progress=self.show_progress, run=run)
        except (ImportBlocked, UpstreamError) as exc:
            run and run.finish(error=str(exc))
            raise CommandError(str(exc), returncode=1)
        except KeyboardInterrupt:
            run and run.finish(error="Interrupted")
            self.stderr.write("\nInterrupted. Run the command again to resume; nothing is duplicated.")
            raise SystemExit(130)
        run and run.finish(error="; ".join(report.errors[:5]))
        self.print_report(report, options.dry_run)
        return report

    def show_progress(self, report: ImportReport) -> None:
        total = report.total or 1
        if self.is_tty:
            filled = BAR_WIDTH * report.done // total
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.stdout.write(f"\r[{bar}] {report.done}/{total}", ending="")
            self.stdout.flush()
        else:
            self.stdout.write(
                f"progress: {report.done}/{total} uploaded "
                f"({report.created} created, {report.updated} updated, {report.failed} failed)"
            )

    def print_report(self, report: ImportReport, dry_run: bool) -> None:
        if self.is_tty and report.done:
            self.stdout.write("")
        if dry_run:
            for planned in report.planned:
                when = f"{planned.described.occurred_at:%Y-%m-%d %H:%M}"
                self.stdout.write(f"{planned.action:<10} {when}  {planned.described.title}")
            self.stdout.write(
                f"Dry run: would create {report.count('create')}, update {report.count('update')}, "
                f"leave {report.unchanged} alone. Nothing was written."
            )
            return
        for error in report.errors:
            self.stderr.write(f"failed: {error}")
        waiting = "".join(f", {n} {what}" for n, what in ((report.held, "held"), (report.skipped, "skipped")) if n)
        summary = (
            f"Done: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.failed} failed{waiting}."
        )
        self.stdout.write(self.style.ERROR(summary) if report.failed else self.style.SUCCESS(summary))


def sources() -> list[str]:
    return sorted({route.source_provider for route in ROUTES.values()})


def check_page_size(provider: str, size: int | None) -> None:
    largest = routes_from(provider)[0].source_role.max_page_size
    if size is not None and largest is not None and size > largest:
        label = provider_label(provider)
        raise CommandError(f"--page-size must be 1-{largest} ({label} refuses larger pages), not {size}")


def source_account(provider: str, username: str | None) -> ConnectedAccount:
    label = provider_label(provider)
    accounts = ConnectedAccount.objects.filter(provider=provider).select_related("owner")
    if username:
        accounts = accounts.filter(owner__username=username)
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"No user {username!r}.")
    found = list(accounts)
    if not found:
        raise CommandError(f"No {label} account is connected" + (f" for {username!r}." if username else "."))
    if len(found) > 1:
        names = ", ".join(sorted(a.owner.get_username() for a in found))
        raise CommandError(f"Several users have {label} connected ({names}): choose one with --user.")
    return found[0]


def day(value: str) -> datetime:
    try:
        parsed = parse_date(value)
    except ValueError:  # well-formed but impossible, like 2024-02-30
        parsed = None
    if parsed is None:
        raise ArgumentTypeError(f"{value!r} is not a date like 2024-01-31")
    return datetime.combine(parsed, time.min, tzinfo=UTC)


def positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ArgumentTypeError(f"{value!r} is not a positive whole number")
    return int(value)
