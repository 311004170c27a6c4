from django.urls import path

from . import views, webhook

app_name = "hevy"
urlpatterns = [
    path("hevy/", views.connect, name="connect"),
    path("hevy/webhook-secret/", views.rotate_secret, name="rotate_secret"),
    path("hevy/backfill/", views.backfill, name="backfill"),
    path("webhooks/hevy/", webhook.receive, name="webhook"),
]
