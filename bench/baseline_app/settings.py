"""Bench-only settings: fitsync's, plus the inline-processing baseline view. Never used in production."""

from fitsync.settings import *  # noqa: F403

ROOT_URLCONF = "bench.baseline_app.urls"
