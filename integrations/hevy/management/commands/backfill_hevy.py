"""manage.py backfill_hevy: `manage.py import_history hevy`, by the name the docs have always given it."""

from fitsync.management.commands import import_history


class Command(import_history.Command):
    help = "Copy Hevy workouts not yet at the destinations (or changed since), oldest first. Safe to re-run."
    source = "hevy"
