"""R11 (the part not in tests/fitsync/test_web_security.py): secure headers and cookies as production
serves them. The security settings are read from a fresh interpreter with production's environment
(`SITE_URL=https://...`, DEBUG off), then applied here and checked on real responses of the middleware.

The rest of R11 and R12 is proven in tests/fitsync/test_web_security.py (login required everywhere but
webhooks, login and /health; POST + CSRF; lockout behind TRUSTED_PROXY) and
tests/fitsync/test_dashboard_items.py (20 quick resync clicks -> one job per item). The content security
policy, no-store, HSTS extras and trusted proxies in detail: tests/fitsync/test_security_headers.py.
"""

import json

import pytest

from tests.fitsync.test_settings import manage

pytestmark = pytest.mark.django_db
SECURITY_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "CSRF_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SECURE_REDIRECT_EXEMPT",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_CSP",
]


@pytest.fixture(scope="module")
def production_security() -> dict:
    names = ", ".join(f"'{name}': settings.{name}" for name in SECURITY_SETTINGS)
    code = f"import json; from django.conf import settings; print(json.dumps({{{names}}}))"
    result = manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture
def production(settings, production_security):
    for name, value in production_security.items():
        setattr(settings, name, value)
    return production_security


def test_production_settings_are_the_secure_ones(production):
    assert production["SESSION_COOKIE_SECURE"] and production["CSRF_COOKIE_SECURE"]
    assert production["SESSION_COOKIE_HTTPONLY"] and production["CSRF_COOKIE_HTTPONLY"]
    assert production["SECURE_SSL_REDIRECT"] and production["SECURE_HSTS_SECONDS"] >= 31536000
    assert production["X_FRAME_OPTIONS"] == "DENY"


def test_plain_http_is_redirected_to_https_except_the_health_check(client, production):
    response = client.get("/accounts/login/", HTTP_HOST="fitsync.example.org")
    assert response.status_code == 301 and response["Location"] == "https://fitsync.example.org/accounts/login/"
    assert client.get("/health", HTTP_HOST="fitsync.example.org").status_code != 301


def test_pages_carry_the_security_headers(client, production):
    response = client.get("/accounts/login/", HTTP_HOST="fitsync.example.org", secure=True)
    assert response.status_code == 200
    # includeSubDomains and preload bind the whole domain: only when asked for (test_security_headers.py).
    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "default-src 'self'; script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_session_and_csrf_cookies_are_secure_and_http_only(client, user, production):
    page = client.get("/accounts/login/", HTTP_HOST="fitsync.example.org", secure=True)
    csrf = page.cookies["csrftoken"]
    login = client.post(
        "/accounts/login/",
        {"username": "ada", "password": "correct horse battery staple", "csrfmiddlewaretoken": csrf.value},
        HTTP_HOST="fitsync.example.org",
        HTTP_REFERER="https://fitsync.example.org/accounts/login/",
        secure=True,
    )
    assert login.status_code == 302
    session = login.cookies["sessionid"]
    for cookie in (csrf, session):
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax", cookie.key


def test_webhooks_carry_the_headers_too(client, production):
    response = client.post(
        "/webhooks/hevy/", b"{}", content_type="application/json", HTTP_HOST="fitsync.example.org", secure=True
    )
    assert response.status_code == 401
    assert response["X-Content-Type-Options"] == "nosniff" and "Strict-Transport-Security" in response
