"""A user's Hevy exercise templates for a page: read from Hevy, kept a few minutes in the cache.

Reading them takes a request per hundred templates (Hevy's built-in list alone is over 400), and a page
that filters, pages and saves one choice at a time would otherwise read them all again on every click.
A template created in the app meanwhile shows after `KEEP_SECONDS`, or at once after `forget`.
"""

from dataclasses import asdict

from django.core.cache import cache

from fitsync.models import ConnectedAccount

from .auth import api_key_of
from .client import ExerciseTemplate, HevyClient

KEEP_SECONDS = 10 * 60
PAGE_WAIT_SECONDS = 5.0  # longer than this behind the pacer, the page says Hevy is busy instead of hanging


def templates_of(account: ConnectedAccount) -> list[ExerciseTemplate]:
    """Every template of the account (built-in and custom), by title; raises `fitsync.errors` when Hevy fails."""
    kept = _kept(cache.get(_key(account)))
    if kept is not None:
        return kept
    templates = HevyClient(api_key_of(account), max_wait=PAGE_WAIT_SECONDS).exercise_templates()
    templates.sort(key=lambda t: (t.title.casefold(), t.id))
    cache.set(_key(account), [asdict(t) for t in templates], KEEP_SECONDS)
    return templates


def _kept(rows) -> list[ExerciseTemplate] | None:
    """The cached list; None when there is none, or one of another shape (kept by an older version)."""
    try:
        return [
            ExerciseTemplate(**{**row, "secondary_muscle_groups": tuple(row["secondary_muscle_groups"])})
            for row in rows
        ]
    except (TypeError, KeyError):
        return None


def forget(account: ConnectedAccount) -> None:
    """The next read asks Hevy again."""
    cache.delete(_key(account))


def _key(account: ConnectedAccount) -> str:
    # The Hevy user too: connecting another Hevy account keeps the row, and must not keep its list.
    return f"hevy:templates:{account.pk}:{account.external_user_id}"
