from django.urls import path

from . import views

app_name = "garmin"
urlpatterns = [
    path("garmin/", views.connect, name="connect"),
    path("garmin/login-status/", views.login_status, name="login_status"),
    path("garmin/mfa/", views.mfa, name="mfa"),
    path("garmin/token-file/", views.import_tokens, name="import_tokens"),
]
