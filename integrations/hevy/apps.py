from django.apps import AppConfig

from .account_meta import HevyMeta


class HevyConfig(AppConfig):
    """Hevy as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.hevy"
    label = "hevy"
    urls = "integrations.hevy.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Hevy"
    account_meta = HevyMeta  # the keys this service keeps in ConnectedAccount.meta
