"""fitsync's URLconf plus the baseline webhook at /bench/inline/hevy/ (bench-only)."""

from django.urls import path

from fitsync.urls import urlpatterns as fitsync_urlpatterns

from . import views

urlpatterns = [path("bench/inline/hevy/", views.inline_hevy, name="bench_inline_hevy"), *fitsync_urlpatterns]
