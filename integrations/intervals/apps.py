from django.apps import AppConfig

from .account_meta import IntervalsMeta


class IntervalsConfig(AppConfig):
    """Intervals.icu as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.intervals"
    label = "intervals"
    urls = "integrations.intervals.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Intervals.icu"
    account_meta = IntervalsMeta  # the keys this service keeps in ConnectedAccount.meta
