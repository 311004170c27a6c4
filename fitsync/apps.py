from django.apps import AppConfig


class FitsyncConfig(AppConfig):
    name = "fitsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import demo_guard, jobs, profiles, signals, unreadable  # noqa: F401  (checks; schedules; zones; errors)

        jobs.install_scheduler_guard()
