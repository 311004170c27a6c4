from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import profile_views, views

urlpatterns = [
    path("", include("fitsync.dashboard.urls")),
    path("health", views.health, name="health"),
    path("settings/", profile_views.profile_edit, name="profile"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
# Each installed service app names its URLconf (`urls` on its AppConfig); its paths are full paths.
urlpatterns += [path("", include(app.urls)) for app in apps.get_app_configs() if getattr(app, "urls", "")]
if settings.FITSYNC_SANDBOX:  # fake upstreams for the demo and tests; settings refuse it in production
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
