"""fitsync settings: every value comes from the environment or `.env` (see `.env.example`).

Blocks: core, security, database, cache and queue, sync engine, one block per service.
"""

import os
import tempfile
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from fitsync.private_files import secure_at_start

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
ENV_FILE = env.str("FITSYNC_ENV_FILE", default=str(BASE_DIR / ".env"))  # "" reads no file (tests)
if ENV_FILE and Path(ENV_FILE).exists():
    environ.Env.read_env(ENV_FILE, overwrite=False)

# --- core ------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
_site = urlsplit(SITE_URL)
SITE_IS_HTTPS = _site.scheme == "https"
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[_site.hostname or "127.0.0.1", "localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[f"{_site.scheme}://{_site.netloc}"])
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True
LANGUAGE_CODE = "en-us"
# The first admin user, created by `manage.py ensure_admin` (./fitsync.sh run); a password is generated
# and printed once when FITSYNC_ADMIN_PASSWORD is empty.
FITSYNC_ADMIN_USERNAME = env.str("FITSYNC_ADMIN_USERNAME", default="admin")
FITSYNC_ADMIN_EMAIL = env.str("FITSYNC_ADMIN_EMAIL", default="")
FITSYNC_ADMIN_PASSWORD = env.str("FITSYNC_ADMIN_PASSWORD", default="")
DATA_DIR = Path(env.str("FITSYNC_DATA_DIR", default=str(BASE_DIR / "data")))
# The dashboard warns when a source account has sent no new data for this many days.
FITSYNC_STALE_DAYS = env.int("FITSYNC_STALE_DAYS", default=3)
# Alerts (fitsync/alerts.py): how often the worker looks for problems, and when an unsolved one is repeated.
FITSYNC_ALERT_CHECK_MINUTES = env.int("FITSYNC_ALERT_CHECK_MINUTES", default=10)
FITSYNC_ALERT_REMINDER_HOURS = env.float("FITSYNC_ALERT_REMINDER_HOURS", default=24.0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_q",
    "django_htmx",
    "axes",
    "fitsync",
    "integrations.hevy",
    "integrations.intervals",
    "integrations.withings",
    "integrations.garmin",
]
MIDDLEWARE = [
    "fitsync.security.TrustedProxyMiddleware",  # first: drops X-Forwarded-* not sent by a trusted proxy
    "django.middleware.security.SecurityMiddleware",
    "fitsync.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "fitsync.profiles.TimeZoneMiddleware",  # pages and messages in the reader's zone
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "fitsync.security.NoStoreWhenSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: it turns a locked-out login into the lockout page
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
ROOT_URLCONF = "fitsync.urls"
WSGI_APPLICATION = "fitsync.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fitsync.profiles.preferences",
            ]
        },
    }
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "login"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MANIFEST_STRICT = False  # an unhashed fallback beats a 500 when collectstatic was skipped

# --- security --------------------------------------------------------------------------------
SECRET_KEY = env.str("SECRET_KEY", default="")
_WEAK_KEY = len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure")
if _WEAK_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is unset or weak (it needs 50+ varied characters). Generate one with\n"
        "  python -c 'import secrets; print(secrets.token_urlsafe(50))'\n"
        "and put it in .env or the environment. (./fitsync.sh run does this for you.)"
    )
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is unset: it encrypts every stored token. Generate a key with\n"
        "  python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
    )
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=SITE_IS_HTTPS)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=SITE_IS_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SITE_IS_HTTPS else 0)
# Both bind every subdomain of the site's domain (preload: for good, in browsers' built-in lists), so
# they are the domain owner's choice: off unless asked for, and Django's deploy check is told so.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # every form carries {% csrf_token %}; no script needs to read the cookie
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# The content security policy: scripts and styles from our own static files only (no inline ones),
# never framed, forms posted to fitsync. fitsync.security.ContentSecurityPolicyMiddleware adds the
# origin of WITHINGS_ACCOUNT_URL to form-action ("Connect Withings" redirects on to its authorize page).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
# Reverse proxies in front of fitsync (addresses or CIDRs, comma-separated). Only a request whose peer is
# one of them has its X-Forwarded-For/-Proto/-Host believed (fitsync/security.py decides, for every use).
TRUSTED_PROXY = [entry.strip() for entry in env.list("TRUSTED_PROXY", default=[]) if entry.strip()]
try:
    [ip_network(entry, strict=False) for entry in TRUSTED_PROXY]
except ValueError as error:
    raise ImproperlyConfigured(f"TRUSTED_PROXY: {error} (give addresses or CIDRs, comma-separated).") from None
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Login lockout (django-axes): LOGIN_FAILURE_LIMIT failed logins against one username (from any
# address), or from one client address (against any usernames), pause logins for that username or
# from that address for LOGIN_LOCKOUT_MINUTES after the last of them. A success clears only its own
# username-and-address pair (fitsync/lockout.py), so logging in as one user never clears guesses
# against another. The address is the one fitsync/security.py picks, so it cannot be spoofed.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "fitsync.lockout.PairResetHandler"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the page's end time holds however often one retries
AXES_CLIENT_IP_CALLABLE = "fitsync.security.client_ip"
AXES_LOCKOUT_CALLABLE = "fitsync.lockout.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "api_key", "secret", "code", "token"]
AXES_VERBOSE = False  # its banner, printed by every process at start, buried the start-up box
# Every password set through Django (admin forms, ensure_admin): 12+ characters, not common, not
# all digits, not like the username.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Error reports mask keys, tokens, headers and form data in every frame, and the webhook URL token.
DEFAULT_EXCEPTION_REPORTER = "fitsync.security.SecretsExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "fitsync.security.SecretsFilter"
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # the container health check talks plain HTTP
# fitsync takes no uploads: a file part is refused (400) before any of it is stored, and a body over
# MAX_REQUEST_BODY is refused (413) before it is read (fitsync/body_limit.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY = 1024 * 1024
FILE_UPLOAD_HANDLERS = []
DATA_UPLOAD_MAX_NUMBER_FILES = 0

# --- database --------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'fitsync.sqlite3'}"),
}
DB_IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if DB_IS_SQLITE:
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file (not :memory:) so threads and processes in race tests share one real database
    # with the production options; one file per test process so parallel runs never collide.
    _test_db = Path(tempfile.gettempdir()) / f"fitsync-test-{os.getpid()}.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": env.str("SQLITE_TEST_NAME", default=str(_test_db))}
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["TEST"] = {"NAME": env.str("POSTGRES_TEST_NAME", default="") or None}
# Persistent connections on both engines: opening a SQLite connection (PRAGMAs, Django's SQL functions)
# cost more than the webhook's whole transaction (bench/RESULTS.md, webhook acknowledgement).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The data directory 0700; the database, its WAL files and .env 0600, also when an older start left them open.
secure_at_start(DATA_DIR, DATABASES["default"]["NAME"] if DB_IS_SQLITE else None, ENV_FILE)

# --- cache and queue -------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "fitsync_cache"}}

Q_CLUSTER = {
    # The Redis list, the stats key and the payload signing salt derive from it: give each instance
    # (and each test run sharing a Redis server) its own name; a worker and its web server must agree.
    "name": env.str("Q_CLUSTER_NAME", default="fitsync"),
    "workers": env.int("Q_WORKERS", default=2),
    # timeout < retry: the worker kills a stuck task before the ORM broker hands it out again.
    "timeout": env.int("Q_TIMEOUT", default=300),
    "retry": env.int("Q_RETRY", default=360),
    "max_attempts": 3,
    "save_limit": 250,
    "catch_up": False,
    "ack_failures": True,  # our tables hold the truth; a crashed task is re-queued by the dispatcher
    "recycle": 500,
    "queue_limit": 50,
    # The ORM broker's look for jobs when nothing woke it (fitsync/broker.py): a backstop, not the pace.
    "poll": env.float("Q_POLL", default=1.0),
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "fitsync.broker.OrmBroker"  # django-q2's, woken when a job is queued

# --- sync engine -----------------------------------------------------------------------------
SYNC_MAX_ATTEMPTS = env.int("SYNC_MAX_ATTEMPTS", default=8)
SYNC_BACKOFF_BASE = env.float("SYNC_BACKOFF_BASE", default=30.0)  # seconds; doubles per attempt
SYNC_BACKOFF_MAX = env.float("SYNC_BACKOFF_MAX", default=3600.0)
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=Q_CLUSTER["timeout"] + 30)
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=20.0)
HEARTBEAT_STALE_SECONDS = 180
# Test-only crash points in the sync path (see fitsync/sync.py); never set in production.
FITSYNC_CRASH_POINT = env.str("FITSYNC_CRASH_POINT", default="")

# --- sandbox ---------------------------------------------------------------------------------
FITSYNC_SANDBOX = env.bool("FITSYNC_SANDBOX", default=False)
if FITSYNC_SANDBOX and not DEBUG and not env.bool("FITSYNC_SANDBOX_ALLOW_NON_DEBUG", default=False):
    raise ImproperlyConfigured("FITSYNC_SANDBOX=1 mounts fake upstreams: never in production (DEBUG off).")
if FITSYNC_SANDBOX:  # its commands (sandbox_serve, sandbox_emit, demo_env); fitsync/urls.py mounts its pages
    INSTALLED_APPS.append("sandbox")

# --- Hevy ------------------------------------------------------------------------------------
HEVY_API_URL = env.str("HEVY_API_URL", default="https://api.hevyapp.com").rstrip("/")
HEVY_EVENTS_POLL_MINUTES = env.int("HEVY_EVENTS_POLL_MINUTES", default=15)
# Hevy publishes no rate limit (but answers 429): one pacer for the instance starts slowly and adapts
# (fitsync/throttle.py); this is the most it ever sends. The backfill keeps this many page reads in flight.
HEVY_REQUESTS_PER_SECOND = env.float("HEVY_REQUESTS_PER_SECOND", default=100.0)
HEVY_BACKFILL_CONCURRENCY = env.int("HEVY_BACKFILL_CONCURRENCY", default=12)

# --- Intervals.icu ---------------------------------------------------------------------------
INTERVALS_API_URL = env.str("INTERVALS_API_URL", default="https://intervals.icu").rstrip("/")
# About 10 requests/s per IP upstream: stay below it. The backfill sends this many activities per bulk call.
INTERVALS_REQUESTS_PER_SECOND = env.float("INTERVALS_REQUESTS_PER_SECOND", default=8.0)
INTERVALS_BULK_BATCH_SIZE = env.int("INTERVALS_BULK_BATCH_SIZE", default=100)

# --- Withings --------------------------------------------------------------------------------
WITHINGS_API_URL = env.str("WITHINGS_API_URL", default="https://wbsapi.withings.net").rstrip("/")
WITHINGS_ACCOUNT_URL = env.str("WITHINGS_ACCOUNT_URL", default="https://account.withings.com").rstrip("/")
WITHINGS_CLIENT_ID = env.str("WITHINGS_CLIENT_ID", default="")
WITHINGS_CLIENT_SECRET = env.str("WITHINGS_CLIENT_SECRET", default="")
WITHINGS_INCLUDE_AMBIGUOUS = env.bool("WITHINGS_INCLUDE_AMBIGUOUS", default=False)
# The 6-hourly fetch also reads this many recent days by measurement date: a weigh-in deleted at Withings
# whose notification named no window (or only its own time) is deleted downstream then. 0 turns it off.
WITHINGS_RECONCILE_DAYS = env.int("WITHINGS_RECONCILE_DAYS", default=30)
# Withings allows 120 requests/minute per application: every process paces against this one cap
# (fitsync/throttle.py, never above it; 0 turns pacing off).
WITHINGS_REQUESTS_PER_MINUTE = env.int("WITHINGS_REQUESTS_PER_MINUTE", default=120)

# --- Garmin Connect --------------------------------------------------------------------------
GARMIN_SSO_URL = env.str("GARMIN_SSO_URL", default="https://sso.garmin.com").rstrip("/")
GARMIN_CONNECTAPI_URL = env.str("GARMIN_CONNECTAPI_URL", default="https://connectapi.garmin.com").rstrip("/")
GARMIN_CONNECT_URL = env.str("GARMIN_CONNECT_URL", default="https://connect.garmin.com").rstrip("/")
GARMIN_DI_TOKEN_URL = env.str("GARMIN_DI_TOKEN_URL", default="https://diauth.garmin.com/di-oauth2-service/oauth/token")
GARMIN_MAX_UPLOADS_PER_RUN = env.int("GARMIN_MAX_UPLOADS_PER_RUN", default=5)
# Garmin publishes no rate limit for its API, and answers 429 to clients it finds too busy (then its sign-in
# may follow); one pacer for the instance (weigh-ins and activities alike) starts at 1 request/s and never
# sends more than this. A weigh-in or a workout takes a handful of calls: a few seconds each. 0 turns it off.
GARMIN_REQUESTS_PER_SECOND = env.float("GARMIN_REQUESTS_PER_SECOND", default=2.0)
GARMIN_DEDUP_SECONDS = env.int("GARMIN_DEDUP_SECONDS", default=120)
GARMIN_DEDUP_KG = env.float("GARMIN_DEDUP_KG", default=0.1)
# Login strategies to try (garminconnect names, e.g. "mobile+cffi,mobile+requests"); empty = the
# library's full default chain, which is what production should use. The sandbox serves only the mobile ones.
GARMIN_LOGIN_STRATEGIES = env.list("GARMIN_LOGIN_STRATEGIES", default=[])

# --- logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact": {"()": "fitsync.security.RedactLogFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django.template at DEBUG dumps whole template contexts (an error report's request URL included).
    # django-q2 says at INFO every process it starts and every task it runs: noise on a terminal.
    "loggers": {
        "urllib3": {"level": "WARNING"},
        "apprise": {"level": "WARNING"},  # says at INFO every notification it sends
        "django.template": {"level": "INFO"},
        "django-q": {"level": env.str("Q_LOG_LEVEL", default="WARNING")},
    },
}
