from django.apps import AppConfig


class IntervalsConfig(AppConfig):
    """Intervals.icu as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.intervals"
    label = "intervals"
    urls = "integrations.intervals.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Intervals.icu"
