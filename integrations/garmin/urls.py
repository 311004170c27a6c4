from django.urls import path

from . import exercise_views, views

app_name = "garmin"
urlpatterns = [
    path("garmin/", views.connect, name="connect"),
    path("garmin/login-status/", views.login_status, name="login_status"),
    path("garmin/mfa/", views.mfa, name="mfa"),
    path("garmin/token-file/", views.import_tokens, name="import_tokens"),
    path("garmin/exercises/", exercise_views.exercise_list, name="exercises"),
    path("garmin/exercises/reload/", exercise_views.exercise_reload, name="exercises_reload"),
    path("garmin/exercises/<str:template_id>/", exercise_views.exercise_edit, name="exercise"),
    path("garmin/exercises/<str:template_id>/automatic/", exercise_views.exercise_automatic, name="exercise_automatic"),
]
