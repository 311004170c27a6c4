from django.urls import path

from . import views, webhook

app_name = "withings"
urlpatterns = [
    path("withings/", views.connect, name="connect"),
    path("withings/authorize/", views.start, name="start"),
    path("withings/callback/", views.callback, name="callback"),
    path("withings/subscribe/", views.subscribe, name="subscribe"),
    path("withings/sync/", views.sync_recent, name="sync_recent"),
    path("withings/history/", views.import_history, name="import_history"),
    path("webhooks/withings/<str:token>/", webhook.receive, name="webhook"),
]
