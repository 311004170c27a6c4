"""gunicorn bench.baseline_app.wsgi: fitsync with the baseline view mounted (bench-only)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline_app.settings"
application = get_wsgi_application()
