from django.apps import AppConfig


class FitsyncConfig(AppConfig):
    name = "fitsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import demo_guard, jobs, signals, unreadable  # noqa: F401  (checks; schedules; secrets' errors)

        jobs.install_scheduler_guard()
