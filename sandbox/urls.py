"""`/sandbox/...`: the fakes inside fitsync, included by fitsync/urls.py only when FITSYNC_SANDBOX=1."""

from django.conf import settings
from django.urls import path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override

from .django_view import sandbox_view

# The fakes' pages carry their own <style> (no scripts): the site's policy, plus inline styles.
sandbox_page = csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE]})(sandbox_view)

app_name = "sandbox"
urlpatterns = [
    path("", sandbox_page, name="control"),
    path("<path:rest>", sandbox_page, name="upstream"),
]
