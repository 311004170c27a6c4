import os

from django.core.wsgi import get_wsgi_application

from fitsync.body_limit import limit_request_body

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fitsync.settings")
application = limit_request_body(get_wsgi_application())
