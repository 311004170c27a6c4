from django.apps import AppConfig

from .account_meta import GarminMeta


class GarminConfig(AppConfig):
    """Garmin Connect as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.garmin"
    label = "garmin"
    urls = "integrations.garmin.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Garmin Connect"
    account_meta = GarminMeta  # the keys this service keeps in ConnectedAccount.meta
