"""fitsync settings: every value comes from the environment or `.env` (see `.env.example`).

Blocks: core, security, database, cache and queue, sync engine, one block per service.
"""

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

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
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
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
        "and put it in .env or the environment. (./fitsync run does this for you.)"
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
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SITE_IS_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SITE_IS_HTTPS)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # every form carries {% csrf_token %}; no script needs to read the cookie
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy that terminates TLS: its address, so the client IP and scheme are trusted.
TRUSTED_PROXY = env.str("TRUSTED_PROXY", default="")
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Login lockout (django-axes): after LOGIN_FAILURE_LIMIT failures from one client address, logins from
# it are refused for LOGIN_LOCKOUT_MINUTES. The address is the proxy's X-Forwarded-For only when the
# request really comes from TRUSTED_PROXY (fitsync/security.py), so it cannot be spoofed.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "fitsync.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "api_key", "secret", "code", "token"]
# Error reports mask keys, tokens, headers and form data in every frame, and the webhook URL token.
DEFAULT_EXCEPTION_REPORTER = "fitsync.security.SecretsExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "fitsync.security.SecretsFilter"
SECURE_REDIRECT_EXEMPT = [r"^health$"]  # the container health check talks plain HTTP
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- database --------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'fitsync.sqlite3'}"),
}
DB_IS_SQLITE = DATABASES["default"]["ENGINE"].endswith("sqlite3")
if DB_IS_SQLITE:
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two writers
    # queue on the busy timeout instead of failing with "database is locked" on lock upgrade.
    # fitsync/backends/sqlite3: writers queue on a lock of our own that hands over at once, not on
    # SQLite's busy handler, which sleeps up to 100 ms between looks.
    DATABASES["default"]["ENGINE"] = "fitsync.backends.sqlite3"
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
    "poll": env.float("Q_POLL", default=0.1),
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "fitsync.broker.OrmBroker"  # the ORM broker, its INSERT written out

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

# --- Hevy ------------------------------------------------------------------------------------
HEVY_API_URL = env.str("HEVY_API_URL", default="https://api.hevyapp.com").rstrip("/")
HEVY_EVENTS_POLL_MINUTES = env.int("HEVY_EVENTS_POLL_MINUTES", default=15)
# Hevy publishes no rate limit (but answers 429): one pacer for the instance starts slowly and adapts
# (fitsync/throttle.py); this is the most it ever sends. The backfill keeps this many page reads in flight.
HEVY_REQUESTS_PER_SECOND = env.float("HEVY_REQUESTS_PER_SECOND", default=100.0)
HEVY_BACKFILL_CONCURRENCY = env.int("HEVY_BACKFILL_CONCURRENCY", default=6)

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
# The whole app shares this budget (Withings allows 120 requests/minute per application).
WITHINGS_REQUESTS_PER_MINUTE = env.int("WITHINGS_REQUESTS_PER_MINUTE", default=120)

# --- Garmin Connect --------------------------------------------------------------------------
GARMIN_SSO_URL = env.str("GARMIN_SSO_URL", default="https://sso.garmin.com").rstrip("/")
GARMIN_CONNECTAPI_URL = env.str("GARMIN_CONNECTAPI_URL", default="https://connectapi.garmin.com").rstrip("/")
GARMIN_CONNECT_URL = env.str("GARMIN_CONNECT_URL", default="https://connect.garmin.com").rstrip("/")
GARMIN_DI_TOKEN_URL = env.str(
    "GARMIN_DI_TOKEN_URL", default="https://diauth.garmin.com/di-oauth2-service/oauth/token"
)
GARMIN_MAX_UPLOADS_PER_RUN = env.int("GARMIN_MAX_UPLOADS_PER_RUN", default=5)
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
    "loggers": {"urllib3": {"level": "WARNING"}, "django.template": {"level": "INFO"}},
}
