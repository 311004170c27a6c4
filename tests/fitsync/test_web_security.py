"""Web hardening (R11, R12): login everywhere but the public few, CSRF on state changes, lockout."""

import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db
PUBLIC = re.compile(r"^/(health|accounts/login/|webhooks/|static/)")
CSRF_EXEMPT_ALLOWED = re.compile(r"^/(webhooks/|sandbox/)")


def all_urls(resolver=None, prefix="/"):
    """(example path, view callback) for every URL pattern, with placeholder values for converters."""
    for pattern in (resolver or get_resolver()).url_patterns:
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        route = re.sub(r"<route_list:\w+>", "workouts", route)  # only a route's list path matches
        route = re.sub(r"<int:\w+>", "1", re.sub(r"<(str:|slug:|uuid:)?\w+>", "x", route))
        route = route.replace("\\Z", "").replace("\\", "")
        if isinstance(pattern, URLResolver):
            yield from all_urls(pattern, prefix + route)
        elif isinstance(pattern, URLPattern) and "(?P" not in route and "(" not in route:
            yield prefix + route, pattern.callback


def test_login_is_required_everywhere_except_webhooks_login_and_health(client):
    checked = 0
    for path, _ in all_urls():
        if PUBLIC.match(path) or path.startswith("/admin/"):
            continue
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], path
        checked += 1
    assert checked >= 3


def test_the_admin_requires_staff_login(client):
    assert client.get("/admin/").status_code == 302


def test_only_webhooks_are_csrf_exempt():
    exempt = [path for path, view in all_urls() if getattr(view, "csrf_exempt", False)]
    assert [p for p in exempt if not CSRF_EXEMPT_ALLOWED.match(p) and not p.startswith("/admin/")] == []


def test_get_requests_change_nothing(admin_client):
    models = [m for m in apps.get_models() if m._meta.app_label in ("fitsync", "django_q")]
    before = {m: m.objects.count() for m in models}
    for path, _ in all_urls():
        if not path.startswith(("/webhooks/", "/sandbox/", "/accounts/logout")):
            admin_client.get(path)
    assert {m: m.objects.count() for m in models} == before


def test_a_post_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/accounts/logout/").status_code == 403


def test_logins_lock_out_after_repeated_failures(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "ada", "password": "correct horse battery staple"})
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content


def test_the_lockout_uses_the_real_client_ip_behind_the_trusted_proxy(client, user, django_user_model, settings):
    django_user_model.objects.create_user("bob", password="another long passphrase")
    settings.TRUSTED_PROXY = ["10.0.0.2"]
    guesser = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for number in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": f"guess{number}", "password": "wrong"}, **guesser)
    bob = {"username": "bob", "password": "another long passphrase"}
    other_client = client.post("/accounts/login/", bob, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other_client.status_code == 302  # a different person behind the same proxy is not locked out
    client.logout()
    same_client = client.post("/accounts/login/", bob, **guesser)
    assert same_client.status_code == 429


def test_a_forged_forwarded_for_from_outside_the_proxy_is_ignored(rf, settings):
    from fitsync.security import client_ip

    settings.TRUSTED_PROXY = ["10.0.0.2"]
    request = rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "198.51.100.1"
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"
