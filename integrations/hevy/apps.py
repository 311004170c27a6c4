from django.apps import AppConfig


class HevyConfig(AppConfig):
    """Hevy as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.hevy"
    label = "hevy"
    urls = "integrations.hevy.urls"  # included at the root by fitsync/urls.py
    verbose_name = "Hevy"
