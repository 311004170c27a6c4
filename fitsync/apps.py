from django.apps import AppConfig


class FitsyncConfig(AppConfig):
    name = "fitsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import demo_guard, signals  # noqa: F401  (the demo-login check; post_migrate: the schedules)
