"""The content security policy, no-store on signed-in pages, opt-in HSTS extras, and trusted proxies."""

import importlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import clear_url_caches

from fitsync.security import client_ip
from tests.fitsync.test_settings import manage, setting
from tests.fitsync.test_web_security import all_urls

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PAGES = ["/", "/workouts/", "/weights/", "/runs/", "/charts/", "/hevy/", "/intervals/", "/withings/", "/garmin/"]
SECRET_PAGES = ["/hevy/", "/intervals/", "/withings/", "/garmin/"]


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";")]
    return {name: values for name, *values in directives}


# --- the content security policy -------------------------------------------------------------------
def test_every_page_carries_the_policy(admin_client, client):
    for response in [client.get("/accounts/login/"), *(admin_client.get(path) for path in PAGES)]:
        assert policy(response) == {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "frame-ancestors": ["'none'"],
            "form-action": ["'self'", "https://account.withings.com"],
        }, response.wsgi_request.path


def test_form_action_follows_the_withings_account_url(admin_client, settings):
    settings.WITHINGS_ACCOUNT_URL = "http://127.0.0.1:8765/withings"
    assert policy(admin_client.get("/withings/"))["form-action"] == ["'self'", "http://127.0.0.1:8765"]


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' blocks: inline scripts, event handlers, styles."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in attrs if name.startswith("on") or name == "style"]
        self.found += [f"{tag} javascript: URL" for value in attrs.values() if (value or "").startswith("javascript:")]


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_no_page_needs_inline_script_or_style(admin_client, client, user):
    responses = [client.get("/accounts/login/")]
    for _ in range(5):
        responses.append(client.post("/accounts/login/", {"username": "ada", "password": "wrong"}))
    assert responses[-1].status_code == 429  # the lockout page
    for path, _ in all_urls():
        if not path.startswith(("/webhooks/", "/sandbox/", "/accounts/logout", "/static/")):
            responses.append(admin_client.get(path))
    pages = [r for r in responses if r.status_code == 200 and r["Content-Type"].startswith("text/html")]
    assert len(pages) > 15
    for page in pages:
        assert inline_code(page.content.decode()) == [], page.wsgi_request.path


def test_htmx_is_told_not_to_add_its_own_style_element(admin_client):
    page = admin_client.get("/garmin/").content.decode()
    assert "htmx-2" in page and """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in page


def test_our_scripts_use_nothing_the_policy_blocks():
    for script in (ROOT / "static").rglob("*.js"):
        text = script.read_text()
        assert not re.search(r"\beval\(|new Function|setAttribute\(\s*[\"'](on|style)|innerHTML", text), script


@pytest.fixture
def sandbox_urls(settings):
    import fitsync.urls

    settings.FITSYNC_SANDBOX = True
    clear_url_caches()
    importlib.reload(fitsync.urls)
    yield
    settings.FITSYNC_SANDBOX = False
    importlib.reload(fitsync.urls)
    clear_url_caches()


def test_only_the_sandbox_pages_may_use_their_inline_style(sandbox_urls, client):
    page = client.get("/sandbox/")
    assert page.status_code == 200 and "<style>" in page.content.decode()
    assert policy(page)["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy(page)["script-src"] == ["'self'"] and policy(page)["frame-ancestors"] == ["'none'"]
    assert "style-src" not in policy(client.get("/accounts/login/"))


# --- nothing signed-in is stored ---------------------------------------------------------------------
def test_signed_in_pages_are_not_stored(admin_client):
    for path in PAGES + SECRET_PAGES:
        response = admin_client.get(path)
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"], path


def test_answers_to_no_one_signed_in_keep_their_own_caching(client):
    answer = client.post("/webhooks/hevy/", b"{}", content_type="application/json")
    assert answer.status_code == 401 and "Cache-Control" not in answer


# --- HSTS extras only when asked for ----------------------------------------------------------------
def test_hsts_subdomains_and_preload_are_off_unless_asked_for():
    assert setting("SECURE_HSTS_SECONDS") == "31536000"
    assert setting("SECURE_HSTS_INCLUDE_SUBDOMAINS") == setting("SECURE_HSTS_PRELOAD") == "False"
    asked = {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"}
    assert setting("SECURE_HSTS_PRELOAD", **asked) == setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", **asked) == "True"
    assert manage("check", "--deploy", "--fail-level", "WARNING", **asked).returncode == 0


def test_hsts_header_with_the_extras(client, settings):
    settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = 31536000, True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


# --- the client address and forwarded headers -------------------------------------------------------
@pytest.fixture
def behind_proxies(settings):
    settings.TRUSTED_PROXY = ["10.0.0.0/8", "2001:db8:ffff::1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.USE_X_FORWARDED_HOST = True
    return settings


@pytest.mark.parametrize(
    "peer, forwarded_for, client",
    [
        ("198.51.100.1", "1.2.3.4", "198.51.100.1"),  # not a proxy: its header is ignored
        ("10.0.0.2", "", "10.0.0.2"),
        ("10.0.0.2", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.2", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6
        ("10.0.0.2", "6.6.6.6, 203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two proxies in a row
        ("10.0.0.2", "10.9.9.9, 10.1.2.3", "10.9.9.9"),  # every hop trusted: the leftmost
        ("10.0.0.2", "203.0.113.7:51234", "203.0.113.7"),
        ("10.0.0.2", "[2001:db8::7]:443", "2001:db8::7"),
        ("10.0.0.2", "6.6.6.6, not-an-address", "10.0.0.2"),  # garbage: only the proxy is known
        ("2001:db8:ffff::1", "2001:db8:0:0::7", "2001:db8::7"),
    ],
)
def test_the_client_address_is_the_rightmost_untrusted_hop(rf, behind_proxies, peer, forwarded_for, client):
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert client_ip(request) == client


def test_the_lockout_counts_the_address_the_proxy_saw(client, user, behind_proxies):
    for _ in range(behind_proxies.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "x", "password": "y"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7",
        )
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_forwarded_proto_and_host_count_only_from_a_trusted_proxy(client, behind_proxies):
    behind_proxies.SECURE_SSL_REDIRECT = True
    behind_proxies.ALLOWED_HOSTS = ["fitsync.example.org", "evil.example"]
    spoofed = {
        "HTTP_HOST": "fitsync.example.org",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_HOST": "evil.example",
    }
    direct = client.get("/accounts/login/", REMOTE_ADDR="198.51.100.1", **spoofed)
    assert direct.status_code == 301 and direct["Location"] == "https://fitsync.example.org/accounts/login/"
    proxied = client.get("/accounts/login/", REMOTE_ADDR="10.0.0.2", **spoofed)
    assert proxied.status_code == 200 and proxied.wsgi_request.get_host() == "evil.example"
    # A trusted proxy's value is the rightmost one: what it wrote, not what the client sent before it.
    chained = client.get(
        "/accounts/login/",
        REMOTE_ADDR="10.0.0.2",
        HTTP_HOST="fitsync.example.org",
        HTTP_X_FORWARDED_PROTO="https, http",
    )
    assert chained.status_code == 301


def test_trusted_proxy_takes_a_list_and_refuses_nonsense():
    assert setting("TRUSTED_PROXY", TRUSTED_PROXY="10.0.0.2, 172.16.0.0/12") == "['10.0.0.2', '172.16.0.0/12']"
    assert setting("USE_X_FORWARDED_HOST", TRUSTED_PROXY="10.0.0.2") == "True"
    result = manage("check", TRUSTED_PROXY="10.0.0.2,proxy.local")
    assert result.returncode != 0 and "TRUSTED_PROXY: 'proxy.local' does not appear to be" in result.stderr
