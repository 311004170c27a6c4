"""manage.py backfill_hevy: copy a Hevy history to Intervals.icu (resumable, dry-run, progress)."""

from argparse import ArgumentTypeError
from datetime import UTC, datetime, time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from fitsync.errors import UpstreamError
from fitsync.imports import ImportBlocked, ImportOptions, ImportReport, import_history
from fitsync.models import ConnectedAccount, Provider, SyncRun
from fitsync.routes import route_for
from integrations.hevy.client import MAX_PAGE_SIZE

ROUTE = "hevy_intervals"

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Sync Hevy workouts not yet in Intervals.icu (or changed since), oldest first. Safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=day, help="Only workouts starting on or after this date (YYYY-MM-DD, UTC).")
        parser.add_argument("--until", type=day, help="Only workouts starting before this date (YYYY-MM-DD, UTC).")
        parser.add_argument("--max-pages", type=positive, help="Read at most N pages of Hevy history, newest first.")
        parser.add_argument("--page-size", type=page_size, default=MAX_PAGE_SIZE, help="Workouts per Hevy page (1-10).")
        parser.add_argument(
            "--limit", type=positive, help="Upload at most N workouts (creates + updates), oldest first."
        )
        parser.add_argument("--dry-run", action="store_true", help="Show what would be created/updated; write nothing.")
        parser.add_argument("--user", help="Whose accounts to use, when several users have Hevy connected.")

    def handle(self, *args, **opts):
        account = hevy_account(opts["user"])
        options = ImportOptions(
            since=opts["since"],
            until=opts["until"],
            max_pages=opts["max_pages"],
            page_size=opts["page_size"],
            limit=opts["limit"],
            dry_run=opts["dry_run"],
        )
        run = (
            None
            if options.dry_run
            else SyncRun.objects.create(
                trigger=SyncRun.Trigger.BACKFILL, account=account, owner=account.owner, route=ROUTE
            )
        )
        self.is_tty = self.stdout.isatty()
        try:
            report = import_history(route_for(ROUTE), account, options, progress=self.show_progress, run=run)
        except (ImportBlocked, UpstreamError) as exc:
            run and run.finish(error=str(exc))
            raise CommandError(str(exc), returncode=1)
        except KeyboardInterrupt:
            run and run.finish(error="Interrupted")
            self.stderr.write("\nInterrupted. Run the command again to resume; nothing is duplicated.")
            raise SystemExit(130)
        run and run.finish(error="; ".join(report.errors[:5]))
        self.print_report(report, options.dry_run)
        if report.failed:
            raise SystemExit(1)

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
        summary = (
            f"Done: {report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.failed} failed."
        )
        self.stdout.write(self.style.ERROR(summary) if report.failed else self.style.SUCCESS(summary))


def hevy_account(username: str | None) -> ConnectedAccount:
    accounts = ConnectedAccount.objects.filter(provider=Provider.HEVY).select_related("owner")
    if username:
        accounts = accounts.filter(owner__username=username)
        if not get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"No user {username!r}.")
    found = list(accounts)
    if not found:
        raise CommandError("No Hevy account is connected" + (f" for {username!r}." if username else "."))
    if len(found) > 1:
        names = ", ".join(sorted(a.owner.get_username() for a in found))
        raise CommandError(f"Several users have Hevy connected ({names}): choose one with --user.")
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


def page_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ArgumentTypeError(f"must be 1-{MAX_PAGE_SIZE} (Hevy refuses larger pages), not {value!r}")
    return int(value)
