"""`/sandbox/...`: the fakes inside fitsync, included by fitsync/urls.py only when FITSYNC_SANDBOX=1."""

from django.urls import path

from .django_view import sandbox_view

app_name = "sandbox"
urlpatterns = [
    path("", sandbox_view, name="control"),
    path("<path:rest>", sandbox_view, name="upstream"),
]
