from django.apps import AppConfig


class FitsyncConfig(AppConfig):
    name = "fitsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import demo_guard, jobs, signals  # noqa: F401  (demo-login check; schedules; readable args)

        jobs.install_scheduler_guard()
