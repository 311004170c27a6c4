import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def pauses_to_settings(apps, schema_editor):
    """Every pause becomes a setting with its time, so a paused route stays paused."""
    RoutePause, RouteSetting = apps.get_model("fitsync", "RoutePause"), apps.get_model("fitsync", "RouteSetting")
    RouteSetting.objects.bulk_create(
        RouteSetting(owner_id=pause.owner_id, route=pause.route, paused_at=pause.paused_at)
        for pause in RoutePause.objects.all()
    )


def settings_to_pauses(apps, schema_editor):
    RoutePause, RouteSetting = apps.get_model("fitsync", "RoutePause"), apps.get_model("fitsync", "RouteSetting")
    RoutePause.objects.bulk_create(
        RoutePause(owner_id=s.owner_id, route=s.route, paused_at=s.paused_at)
        for s in RouteSetting.objects.filter(paused_at__isnull=False)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("fitsync", "0008_control"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RouteSetting",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("route", models.CharField(max_length=40)),
                ("enabled", models.BooleanField(blank=True, help_text="Empty: the route's default", null=True)),
                ("paused_at", models.DateTimeField(blank=True, null=True)),
                ("options", models.JSONField(blank=True, default=dict)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="route_settings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("owner", "route"), name="one_setting_per_route")],
            },
        ),
        migrations.RunPython(pauses_to_settings, settings_to_pauses),
        migrations.DeleteModel(name="RoutePause"),
    ]
