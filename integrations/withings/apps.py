from django.apps import AppConfig

from .account_meta import WithingsMeta


class WithingsConfig(AppConfig):
    """Withings as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.withings"
    label = "withings"
    urls = "integrations.withings.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Withings"
    account_meta = WithingsMeta  # the keys this service keeps in ConnectedAccount.meta
