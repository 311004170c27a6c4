from django.apps import AppConfig


class FitsyncConfig(AppConfig):
    name = "fitsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import jobs, signals  # noqa: F401  (post_migrate: the schedules; pre_save: readable args)

        jobs.install_scheduler_guard()
