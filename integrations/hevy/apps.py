from django.apps import AppConfig


class HevyConfig(AppConfig):
    """Hevy as a Django app, so its templates and management commands are found in this folder."""

    name = "integrations.hevy"
    label = "hevy"
    verbose_name = "Hevy"
