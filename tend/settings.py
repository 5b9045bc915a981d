"""Tend settings: one module, read from ``TEND_*`` environment variables.

See the configuration table in README.md for every variable.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
import dj_email_url
from django.utils.translation import gettext_lazy as _

from tend.lib.env import (
    ConfigError,
    data_dir,
    env_bool,
    env_choice,
    env_decimal,
    env_fraction,
    env_int,
    env_list,
    env_origins,
    env_str,
    secret_key,
)
from tend.lib.private import private_file
from tend.ratelimit.rates import env_rate

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
TESTING = "pytest" in sys.modules or env_bool("TEND_TESTING")

SECRET_KEY, SECRET_KEY_GENERATED = secret_key(DATA_DIR)
DEBUG = env_bool("TEND_DEBUG", False)
ALLOWED_HOSTS = env_list("TEND_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("TEND_CSRF_TRUSTED_ORIGINS", [])
# Where links in emails point (https://tend.example.com); else the first trusted origin.
TEND_BASE_URL = env_str("TEND_BASE_URL", "").rstrip("/")
# The business's name as emails write it ({{ business.name }}); else the host of TEND_BASE_URL.
TEND_BUSINESS_NAME = env_str("TEND_BUSINESS_NAME", "").strip()
SECURE_COOKIES = env_bool("TEND_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "corsheaders",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    "tend.accounts",
    "tend.customers",
    "tend.billing",
    "tend.activity",
    "tend.jobs",
    "tend.web",
    "tend.demo",
    "tend.ingest",
    "tend.ingest.tracking",
    "tend.ingest.imports",
    "tend.ingest.webhooks",
    "tend.ratelimit",
    "axes",
    "tend.metrics",
    "tend.goals",
    "tend.changes",
    "tend.segments",
    "tend.health",
    "tend.lifecycle",
    "tend.today",
    "tend.messaging",
    "tend.tasks",
    "tend.playbooks",
    "tend.digest",
    "tend.privacy",
    "tend.backups",
    "tend.predict",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CORS on /v1/* only, before anything that answers (tend/ingest/tracking/cors.py).
    "tend.ingest.tracking.cors.TrackingCorsMiddleware",
    "tend.web.csp.ContentSecurityPolicyMiddleware",
    # A NUL in a page's address is a 400, never a database error (the API checks its own).
    "tend.web.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The client's address for the audit rows this request writes.
    "tend.accounts.audit_context.AuditContextMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The language a logged-in user chose in Settings wins over the cookie and the browser.
    "tend.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so it sees the login response and swaps it for the lockout page (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tend.urls"
WSGI_APPLICATION = "tend.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user name + address before the password is checked.
    "tend.ratelimit.login.LoginGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today:list"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tend.web.context.navigation",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = env_str("TEND_DATABASE_URL", f"sqlite:///{DATA_DIR / 'tend.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("TEND_DB_CONN_MAX_AGE", 60))
except (ValueError, KeyError) as exc:
    raise ConfigError(f"TEND_DATABASE_URL is not a database URL Tend understands: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if TESTING else _db["CONN_MAX_AGE"]
    # Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
    _sqlite_file = str(_db["NAME"] or "")
    if _sqlite_file not in {"", ":memory:"} and Path(_sqlite_file).parent.is_dir():
        private_file(Path(_sqlite_file))
    # A file, not memory, so tests can start real worker and server processes against it.
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
    # WAL + IMMEDIATE + busy timeout: the web process and the worker share one file without
    # "database is locked" errors (writers queue instead of failing on upgrade).
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=20000; PRAGMA cache_size=-64000; PRAGMA temp_store=MEMORY;"
        ),
    }
elif _db["ENGINE"] in {"django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"}:
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db["CONN_HEALTH_CHECKS"] = True
else:
    raise ConfigError(
        f"TEND_DATABASE_URL must be sqlite:// or postgres://; got engine {_db['ENGINE']}"
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background tasks ---------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if env_bool("TEND_TASKS_IMMEDIATE", TESTING)
            else "django_tasks_db.DatabaseBackend"
        ),
        "QUEUES": ["default"],
    }
}

# --- email --------------------------------------------------------------------------------
EMAIL_URL = env_str("TEND_EMAIL_URL", "console:")
# dj-email-url knows smtp://…?tls=True but not the smtp+tls:// and smtp+ssl:// the docs use.
_scheme, _sep, _rest = EMAIL_URL.partition("://")
if _scheme in {"smtp+tls", "smtp+ssl"}:
    _flag = "tls" if _scheme == "smtp+tls" else "ssl"
    EMAIL_URL = f"smtp://{_rest}{'&' if '?' in _rest else '?'}{_flag}=True"
# file:FOLDER writes each email as a .eml file into FOLDER (relative to the data folder):
# `make demo` uses it, so the demo's playbooks fill a folder instead of the terminal.
if EMAIL_URL.startswith("file:"):
    _folder = Path(EMAIL_URL.removeprefix("file:").removeprefix("//") or "sent-mail")
    EMAIL_FILE_PATH = str(_folder if _folder.is_absolute() else DATA_DIR / _folder)
    EMAIL_URL = "console:"  # the other EMAIL_* settings below are unused by the file backend
try:
    _email = dj_email_url.parse(EMAIL_URL)
except (ValueError, KeyError) as exc:
    raise ConfigError(f"TEND_EMAIL_URL is not an email URL Tend understands: {exc}") from None
if "EMAIL_BACKEND" not in _email:
    raise ConfigError(
        f"TEND_EMAIL_URL must start with smtp://, smtp+tls://, smtp+ssl://, file: or console:; "
        f"got {EMAIL_URL.split(':')[0]}:"
    )
EMAIL_BACKEND = (
    "django.core.mail.backends.filebased.EmailBackend"
    if "EMAIL_FILE_PATH" in globals()
    else _email["EMAIL_BACKEND"]
)
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = bool(_email["EMAIL_USE_TLS"])
EMAIL_USE_SSL = bool(_email["EMAIL_USE_SSL"])
DEFAULT_FROM_EMAIL = env_str("TEND_FROM_EMAIL", "tend@localhost")

# --- i18n ---------------------------------------------------------------------------------
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LANGUAGE_CODE = env_str("TEND_LANGUAGE", "en")
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ConfigError(f"TEND_LANGUAGE must be 'en' or 'zh-hans'; got {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
# zh_Hans groups thousands with commas like the rest of Tend (tend/formats/zh_Hans).
FORMAT_MODULE_PATH = ["tend.formats"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TEND_TIME_ZONE", "UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ConfigError(f"TEND_TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from None

# --- static files -------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]  # vendored Bootstrap
try:
    import plotly

    # plotly.js ships inside the Python package; serve that copy instead of a CDN.
    STATICFILES_DIRS.append(("vendor/plotly", Path(plotly.__file__).parent / "package_data"))
except ImportError:  # pragma: no cover - plotly is a hard dependency
    pass
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders so `tend serve` works without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- security ---------------------------------------------------------------------------
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if TESTING
    else [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ]
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# --- rate limits --------------------------------------------------------------------------
# Counted in the database (tend.ratelimit), so every web process on every machine sharing it
# sees the same counts; no cache server needed. "N/period", period s, m, h or d, optionally
# with a count (30/15m); "off" turns a limit off. Over the limit: 429 with Retry-After.
# Per write key on /v1/*: far above what two web processes can ingest (~130 batches/s).
TEND_RATE_LIMIT_TRACKING = env_rate("TEND_RATE_LIMIT_TRACKING", "500/s")
# Per client address on /webhooks/*; Stripe retries a 429 later, so nothing is lost.
TEND_RATE_LIMIT_WEBHOOKS = env_rate("TEND_RATE_LIMIT_WEBHOOKS", "600/m")
# Per client address: login form submissions, failed or not (slows password spraying).
TEND_RATE_LIMIT_LOGIN = env_rate("TEND_RATE_LIMIT_LOGIN", "30/15m")
# Reverse proxies in front of Tend that append to X-Forwarded-For; 0 trusts REMOTE_ADDR only.
TEND_PROXY_COUNT = env_int("TEND_PROXY_COUNT", 0)
if TEND_PROXY_COUNT < 0:
    raise ConfigError(f"TEND_PROXY_COUNT must be 0 or more; got {TEND_PROXY_COUNT}")

# Login brute-force protection (django-axes, attempts kept in the database): after
# TEND_LOGIN_FAILURE_LIMIT failed logins for one user name from one address, that pair is
# locked out for TEND_LOGIN_LOCKOUT_MINUTES; each further try restarts the wait. A success
# clears the count. `tend axes-reset-username NAME` unlocks at once; 0 turns it off.
TEND_LOGIN_FAILURE_LIMIT = env_int("TEND_LOGIN_FAILURE_LIMIT", 5)
TEND_LOGIN_LOCKOUT_MINUTES = env_int("TEND_LOGIN_LOCKOUT_MINUTES", 15)
if TEND_LOGIN_LOCKOUT_MINUTES < 1:
    raise ConfigError(
        f"TEND_LOGIN_LOCKOUT_MINUTES must be 1 or more; got {TEND_LOGIN_LOCKOUT_MINUTES}"
    )
AXES_ENABLED = TEND_LOGIN_FAILURE_LIMIT > 0
AXES_FAILURE_LIMIT = max(TEND_LOGIN_FAILURE_LIMIT, 1)
AXES_COOLOFF_TIME = timedelta(minutes=TEND_LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # Tend keeps no per-login history; attempts expire on their own
AXES_CLIENT_IP_CALLABLE = "tend.ratelimit.rates.client_ip"
AXES_LOCKOUT_CALLABLE = "tend.web.views.login_locked_out"
AXES_VERBOSE = False

# --- HTTPS and security headers (see "Running it for real" in README.md) ------------------
# Behind a reverse proxy (TEND_PROXY_COUNT > 0) a request is HTTPS when the proxy says so in
# X-Forwarded-Proto; the proxy must set that header (Caddy and Traefik do; nginx needs
# `proxy_set_header X-Forwarded-Proto $scheme`). Without it HSTS is never sent.
if TEND_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("TEND_SSL_REDIRECT", False)
# HSTS: a browser that saw Tend over HTTPS refuses plain HTTP to it for this long. On (a
# year) with TEND_SECURE_COOKIES=1; TEND_HSTS_SECONDS=0 turns it off.
SECURE_HSTS_SECONDS = env_int("TEND_HSTS_SECONDS", 31_536_000 if SECURE_COOKIES else 0)
if SECURE_HSTS_SECONDS < 0:
    raise ConfigError(f"TEND_HSTS_SECONDS must be 0 or more; got {SECURE_HSTS_SECONDS}")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("TEND_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("TEND_HSTS_PRELOAD", False)
# The preload list takes only registrable domains (example.com, not tend.example.com), so
# `check --deploy` does not nag about it unless TEND_HSTS_PRELOAD asks for it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Content-Security-Policy on every response (tend.web.csp; Django 6's setting name and
# shape). Pages load only Tend's own files; no inline script or style anywhere. Two hashes
# let plotly.js add its two <style> elements: an empty one it fills through the CSSOM (which
# the policy does not govern) and MapLibre's fixed rules (a test recomputes that hash from the
# installed plotly.js). data: images are Bootstrap's icons, SVG inside its CSS.
CSP_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "" (plotly.js rules)
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # plotly.js 4.1.1 MapLibre CSS
]
SECURE_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", *CSP_STYLE_HASHES],
    # Style attributes: only empty ones (style=""), which plotly.js puts on colour bars.
    "style-src-attr": ["'unsafe-hashes'", CSP_STYLE_HASHES[0]],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("TEND_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- CORS: browsers may call the tracking API (/v1/*) and nothing else -------------------
# Pages on these origins may send events from the browser (analytics.js): "*" (default) any
# page, or a comma list like https://www.example.com,https://app.example.com. Credentials are
# never allowed: the write key is in the Authorization header or the body, not in a cookie.
TEND_TRACKING_CORS_ORIGINS = env_origins("TEND_TRACKING_CORS_ORIGINS", ["*"])
CORS_URLS_REGEX = r"^/v1/"
CORS_ALLOW_ALL_ORIGINS = "*" in TEND_TRACKING_CORS_ORIGINS
CORS_ALLOWED_ORIGINS = [o for o in TEND_TRACKING_CORS_ORIGINS if o != "*"]
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["POST", "OPTIONS"]
CORS_ALLOW_HEADERS = ["content-type", "authorization", "content-encoding"]
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86_400  # browsers cap it lower (Chromium: 2 hours)

# --- Tend ---------------------------------------------------------------------------------
TEND_PAGE_SIZE = 50
# A list search the database expects to match at least this many customers shows an estimated
# count ("about 74,000") instead of reading every match to count it (PostgreSQL only).
TEND_LIST_EXACT_COUNT_UNDER = env_int("TEND_LIST_EXACT_COUNT_UNDER", 20_000)
# All periodic jobs are declared here, in one place; `tend worker` enqueues them when due.
TEND_SCHEDULES: dict[str, dict[str, Any]] = {
    "rollups-refresh": {"cron": "15 * * * *", "task": "tend.activity.tasks.rollups_refresh"},
    "ratelimit-prune": {"cron": "40 * * * *", "task": "tend.ratelimit.tasks.counters_prune"},
    "import-files-cleanup": {
        "cron": "30 3 * * *",
        "task": "tend.ingest.imports.tasks.import_files_cleanup",
    },
    # Running imports whose worker died are shown interrupted (resumable) within minutes.
    "imports-interrupted": {
        "cron": "*/5 * * * *",
        "task": "tend.ingest.imports.tasks.imports_interrupted_mark",
    },
    "metrics-refresh": {"cron": "*/10 * * * *", "task": "tend.metrics.tasks.metrics_refresh"},
    "metrics-rebuild": {"cron": "40 2 * * *", "task": "tend.metrics.tasks.metrics_rebuild"},
    # rollups → health → RFM → segments → lifecycle → Today (tend/jobs/pipeline.py), after midnight
    # UTC so the day before is complete.
    "daily-pipeline": {"cron": "10 0 * * *", "task": "tend.jobs.tasks.pipeline_daily"},
    # Consumers of the customer-change outbox (lifecycle rules now) act within minutes.
    "changes-react": {"cron": "*/2 * * * *", "task": "tend.jobs.tasks.changes_react"},
    # Tasks left "running" by a killed worker (no heartbeat for TEND_TASK_LOST_SECONDS) are
    # queued again (tend/jobs/recover.py).
    "tasks-recover": {"cron": "*/2 * * * *", "task": "tend.jobs.tasks.tasks_recover"},
    # Playbooks: date, recurring and event triggers (date triggers fire once a day after
    # TEND_PLAYBOOK_HOUR local time), and the executor of due steps.
    "playbooks-scan": {"cron": "5,35 * * * *", "task": "tend.playbooks.tasks.playbooks_scan_task"},
    "playbooks-advance": {"cron": "* * * * *", "task": "tend.playbooks.tasks.runs_advance_task"},
    # The outbox's safety net: retries that fell due, claims of a killed worker, capped emails.
    "messages-send": {"cron": "* * * * *", "task": "tend.messaging.tasks.messages_send"},
    # Hourly; each user's digest goes out from TEND_DIGEST_HOUR local time, once a day/week.
    "digest-send": {"cron": "5 * * * *", "task": "tend.digest.tasks.digests_send"},
    # Data past its retention (TEND_RETENTION_*): events after their rollups are checked,
    # rejected rows, audit entries, messages, import files; before import-files-cleanup.
    "retention-apply": {"cron": "20 3 * * *", "task": "tend.privacy.tasks.retention_apply_task"},
    # PostgreSQL: the events table's monthly partitions, TEND_EVENTS_PARTITIONS_AHEAD ahead.
    "events-partitions": {
        "cron": "20 1 * * *",
        "task": "tend.activity.tasks.events_partitions_maintain",
    },
}
# Playbooks: the local hour (0–23, TEND_TIME_ZONE) at which date-relative and recurring
# triggers start their runs; how many times a day one customer may enter one playbook before
# the loop guard stops it; how often a failing step is tried, and the first retry's delay
# (doubling each time); how long a worker holds a claimed run before another may take it.
TEND_PLAYBOOK_HOUR = env_int("TEND_PLAYBOOK_HOUR", 9)
if not 0 <= TEND_PLAYBOOK_HOUR <= 23:
    raise ConfigError(f"TEND_PLAYBOOK_HOUR must be 0 to 23; got {TEND_PLAYBOOK_HOUR}")
TEND_PLAYBOOK_DAILY_ENROLLMENTS = env_int("TEND_PLAYBOOK_DAILY_ENROLLMENTS", 3)
TEND_PLAYBOOK_STEP_ATTEMPTS = env_int("TEND_PLAYBOOK_STEP_ATTEMPTS", 5)
TEND_PLAYBOOK_RETRY_SECONDS = env_int("TEND_PLAYBOOK_RETRY_SECONDS", 60)
TEND_PLAYBOOK_LEASE_SECONDS = env_int("TEND_PLAYBOOK_LEASE_SECONDS", 300)
for _name in (
    "TEND_PLAYBOOK_DAILY_ENROLLMENTS",
    "TEND_PLAYBOOK_STEP_ATTEMPTS",
    "TEND_PLAYBOOK_RETRY_SECONDS",
    "TEND_PLAYBOOK_LEASE_SECONDS",
):
    if globals()[_name] < 1:
        raise ConfigError(f"{_name} must be 1 or more; got {globals()[_name]}")
# The business's reporting currency; MRR and acquisition costs are shown in it.
TEND_CURRENCY = env_str("TEND_CURRENCY", "USD").upper()
# Gross margin (0–1) used by CLV and CAC payback: the share of revenue left after the cost
# of serving it.
TEND_GROSS_MARGIN = env_fraction("TEND_GROSS_MARGIN", "0.8")
# Discounted CLV: yearly discount rate (0.10 = 10 %) and yearly growth of revenue per account.
TEND_CLV_DISCOUNT_RATE = env_decimal("TEND_CLV_DISCOUNT_RATE", "0.10", low="0", high="1")
TEND_CLV_GROWTH_RATE = env_decimal("TEND_CLV_GROWTH_RATE", "0", low="-0.99", high="1")
# B2C businesses have no groups: Segment `identify` then creates the customer itself.
TEND_BUSINESS_MODEL = env_choice("TEND_BUSINESS_MODEL", "b2b", {"b2b", "b2c"})
# Signing secret of the Stripe webhook endpoint (whsec_…); unset turns /webhooks/stripe off.
TEND_STRIPE_WEBHOOK_SECRET = env_str("TEND_STRIPE_WEBHOOK_SECRET", "")
# How far a delivery's signed timestamp may be from now, in seconds (Stripe's default: 300).
TEND_STRIPE_WEBHOOK_TOLERANCE = env_int("TEND_STRIPE_WEBHOOK_TOLERANCE", 300)
# The local hour (0–23, TEND_TIME_ZONE) from which the daily/weekly digest emails are sent.
TEND_DIGEST_HOUR = env_int("TEND_DIGEST_HOUR", 7)
if not 0 <= TEND_DIGEST_HOUR <= 23:
    raise ConfigError(f"TEND_DIGEST_HOUR must be an hour 0–23; got {TEND_DIGEST_HOUR}")
# A running import whose worker has not written a heartbeat for this many seconds (it writes
# one every few seconds) has lost its worker: it is marked interrupted, to be resumed or
# canceled. The heartbeat comes every TEND_IMPORT_STALE_SECONDS / 6 seconds (at most 10).
TEND_IMPORT_STALE_SECONDS = env_int("TEND_IMPORT_STALE_SECONDS", 120)
if TEND_IMPORT_STALE_SECONDS < 3:
    raise ConfigError(
        f"TEND_IMPORT_STALE_SECONDS must be 3 or more; got {TEND_IMPORT_STALE_SECONDS}"
    )
# Uploaded import files (under $TEND_DATA_DIR/imports) are deleted this many days after their
# import finished; the import's record and its rejected rows stay.
TEND_IMPORT_FILE_RETENTION_DAYS = env_int("TEND_IMPORT_FILE_RETENTION_DAYS", 7)
if TEND_IMPORT_FILE_RETENTION_DAYS < 0:
    raise ConfigError(
        f"TEND_IMPORT_FILE_RETENTION_DAYS must be 0 or more; got {TEND_IMPORT_FILE_RETENTION_DAYS}"
    )

# --- outgoing email and webhooks (tend.messaging, docs/email.md) ---------------------------
# Customer-facing (outreach) emails sent per UTC day at most; more wait, queued, for the next
# day. 0 turns the cap off. Emails to Tend's own users (goal alerts, digests) do not count.
TEND_EMAIL_DAILY_CAP = env_int("TEND_EMAIL_DAILY_CAP", 1000)
if TEND_EMAIL_DAILY_CAP < 0:
    raise ConfigError(f"TEND_EMAIL_DAILY_CAP must be 0 or more; got {TEND_EMAIL_DAILY_CAP}")
# A worker holds a claimed message this long; a message whose worker died is sent again after.
TEND_MESSAGE_LEASE_SECONDS = env_int("TEND_MESSAGE_LEASE_SECONDS", 300)
if TEND_MESSAGE_LEASE_SECONDS < 5:
    raise ConfigError(
        f"TEND_MESSAGE_LEASE_SECONDS must be 5 or more; got {TEND_MESSAGE_LEASE_SECONDS}"
    )
# Tries per message (the first send and its retries) before it is marked failed.
TEND_MESSAGE_MAX_ATTEMPTS = env_int("TEND_MESSAGE_MAX_ATTEMPTS", 6)
if not 1 <= TEND_MESSAGE_MAX_ATTEMPTS <= 20:
    raise ConfigError(
        f"TEND_MESSAGE_MAX_ATTEMPTS must be between 1 and 20; got {TEND_MESSAGE_MAX_ATTEMPTS}"
    )
# Seconds an outgoing webhook call (and an SMTP conversation) may take before it is retried.
TEND_MESSAGE_TIMEOUT_SECONDS = env_int("TEND_MESSAGE_TIMEOUT_SECONDS", 15)
if not 1 <= TEND_MESSAGE_TIMEOUT_SECONDS <= 300:
    raise ConfigError(
        "TEND_MESSAGE_TIMEOUT_SECONDS must be between 1 and 300; "
        f"got {TEND_MESSAGE_TIMEOUT_SECONDS}"
    )
# Per client address on the public unsubscribe page (/u/<token>/).
TEND_RATE_LIMIT_UNSUBSCRIBE = env_rate("TEND_RATE_LIMIT_UNSUBSCRIBE", "60/m")

# --- retention and consent (tend.privacy.retention, tend.customers.consent; docs/retention.md) --
# How long each kind of data is kept, in days; 0 keeps it for ever. The daily "retention-apply"
# schedule removes what is older. Raw events go first: their daily rollups stay, so charts,
# health, metrics and segments are unchanged. Events: 13 months (a full year to compare with,
# and every event-window trigger reads raw events well inside it); at least 7 days, because
# the hourly and daily rollup refreshes recount the last days from raw events.
TEND_RETENTION_EVENTS_DAYS = env_int("TEND_RETENTION_EVENTS_DAYS", 395)
if TEND_RETENTION_EVENTS_DAYS != 0 and TEND_RETENTION_EVENTS_DAYS < 7:
    raise ConfigError(
        "TEND_RETENTION_EVENTS_DAYS must be 0 (keep for ever) or 7 or more; "
        f"got {TEND_RETENTION_EVENTS_DAYS}"
    )
# Imports' rejected rows hold the refused cells of the founder's file as they were (names,
# emails): kept to be fixed and sent again, which happens within days.
TEND_RETENTION_REJECTED_ROWS_DAYS = env_int("TEND_RETENTION_REJECTED_ROWS_DAYS", 30)
# Audit entries: who changed what and when, kept two years by default.
TEND_RETENTION_AUDIT_DAYS = env_int("TEND_RETENTION_AUDIT_DAYS", 730)
# Outgoing messages (emails and webhook calls, their bodies and delivery attempts) that ended
# (sent, failed, suppressed, canceled): the record of what each customer was sent, kept for
# ever by default.
TEND_RETENTION_MESSAGES_DAYS = env_int("TEND_RETENTION_MESSAGES_DAYS", 0)
for _name in (
    "TEND_RETENTION_REJECTED_ROWS_DAYS",
    "TEND_RETENTION_AUDIT_DAYS",
    "TEND_RETENTION_MESSAGES_DAYS",
):
    if globals()[_name] < 0:
        raise ConfigError(f"{_name} must be 0 (keep for ever) or more; got {globals()[_name]}")
# Marketing consent: "optional" sends outreach to contacts who were never asked (B2B usage:
# the unsubscribe link in each email withdraws it); "required" sends it only to contacts who
# agreed (opt-in, e.g. consumers under GDPR/PECR). A withdrawal always stops it.
TEND_MARKETING_CONSENT = env_choice("TEND_MARKETING_CONSENT", "optional", {"optional", "required"})
# --- backups (tend.backups, docs/backups.md) ----------------------------------------------
# Where `tend backup` and the scheduled backup write (a relative path is under the data folder).
_backup_dir = Path(env_str("TEND_BACKUP_DIR", "").strip() or "backups").expanduser()
TEND_BACKUP_DIR = _backup_dir if _backup_dir.is_absolute() else DATA_DIR / _backup_dir
# How many backups the scheduled job keeps in TEND_BACKUP_DIR (older ones are deleted after a
# successful backup); 0 keeps them all.
TEND_BACKUP_KEEP = env_int("TEND_BACKUP_KEEP", 7)
if TEND_BACKUP_KEEP < 0:
    raise ConfigError(f"TEND_BACKUP_KEEP must be 0 (keep all) or more; got {TEND_BACKUP_KEEP}")
# When the worker takes a backup (cron, UTC); empty turns scheduled backups off.
TEND_BACKUP_CRON = env_str("TEND_BACKUP_CRON", "20 3 * * *").strip()
# A file whose first line is the passphrase that encrypts scheduled backups (else the
# TEND_BACKUP_PASSPHRASE variable, read when a backup is taken; neither: not encrypted).
TEND_BACKUP_PASSPHRASE_FILE = env_str("TEND_BACKUP_PASSPHRASE_FILE", "").strip()
if TEND_BACKUP_CRON:
    from croniter import croniter as _croniter  # type: ignore[import-untyped]

    if not _croniter.is_valid(TEND_BACKUP_CRON):
        raise ConfigError(
            f"TEND_BACKUP_CRON must be a cron expression like '20 3 * * *' or empty (off); "
            f"got {TEND_BACKUP_CRON!r}"
        )
    TEND_SCHEDULES["backup"] = {
        "cron": TEND_BACKUP_CRON,
        "task": "tend.backups.tasks.backup_scheduled",
        "kwargs": {"keep": TEND_BACKUP_KEEP},
    }
# A task still "running" under a `tend worker` whose heartbeat (every 30 s) has not been seen
# for this many seconds was lost with its worker: it is marked failed and queued again. Longer
# than any pause a busy worker's heartbeat may take; at least 120.
TEND_TASK_LOST_SECONDS = env_int("TEND_TASK_LOST_SECONDS", 600)
if TEND_TASK_LOST_SECONDS < 120:
    raise ConfigError(f"TEND_TASK_LOST_SECONDS must be 120 or more; got {TEND_TASK_LOST_SECONDS}")
# --- observability: /healthz, /readyz, /metrics, JSON logs (tend.observability, docs/deploy.md)
INSTALLED_APPS.append("tend.observability")
# First, so request counts and latencies include every other middleware's work.
MIDDLEWARE.insert(0, "tend.observability.middleware.RequestMetricsMiddleware")
# /readyz answers 503 when no `tend worker` wrote its heartbeat (every 30 s) within this many
# minutes; 0 = do not require a worker (a web-only host whose workers are watched elsewhere).
TEND_READY_WORKER_MINUTES = env_int("TEND_READY_WORKER_MINUTES", 10)
if TEND_READY_WORKER_MINUTES < 0:
    raise ConfigError(
        f"TEND_READY_WORKER_MINUTES must be 0 or more; got {TEND_READY_WORKER_MINUTES}"
    )
# A shared secret Prometheus may send (Authorization: Bearer …) instead of an owner's API key
# to read /metrics; unset = API keys only. At least 32 characters (`openssl rand -hex 32`).
TEND_METRICS_TOKEN = env_str("TEND_METRICS_TOKEN", "").strip()
if TEND_METRICS_TOKEN and (
    len(TEND_METRICS_TOKEN) < 32
    or len(TEND_METRICS_TOKEN) > 256
    or not TEND_METRICS_TOKEN.isascii()
    or not TEND_METRICS_TOKEN.isprintable()
    or " " in TEND_METRICS_TOKEN
):
    raise ConfigError(
        "TEND_METRICS_TOKEN must be 32 to 256 printable ASCII characters without spaces "
        "(try `openssl rand -hex 32`)"
    )
# Log lines as plain text (default) or one JSON object a line (time, level, logger, message,
# request_id); API keys and Authorization credentials are redacted in both.
TEND_LOG_FORMAT = env_choice("TEND_LOG_FORMAT", "text", {"text", "json"})
from tend.observability.logconfig import logging_config  # noqa: E402

LOGGING = logging_config(TEND_LOG_FORMAT, env_str("TEND_LOG_LEVEL", "INFO"))
# --- events partitions (tend.activity.partitions, docs/events-storage.md) ------------------
# PostgreSQL: monthly partitions of the events table kept ready this many months past the
# current one (the daily "events-partitions" schedule creates them; events beyond go to the
# DEFAULT partition and are reported).
TEND_EVENTS_PARTITIONS_AHEAD = env_int("TEND_EVENTS_PARTITIONS_AHEAD", 3)
if not 1 <= TEND_EVENTS_PARTITIONS_AHEAD <= 24:
    raise ConfigError(
        f"TEND_EVENTS_PARTITIONS_AHEAD must be between 1 and 24; got {TEND_EVENTS_PARTITIONS_AHEAD}"
    )
# --- predict: customer lifetime (sBG retention projection, Cox; tend/predict/retention.py) ---
# A cohort (or all customers) is fitted with at least this many customers and churned ones;
# Cox needs TEND_LIFETIME_COX_MIN_CHURNED churned customers. The projection shows
# TEND_LIFETIME_PROJECTION_MONTHS; expected lifetimes and CLV (sBG) sum S(t) over
# TEND_LIFETIME_CLV_MONTHS months (docs/survival.md).
TEND_LIFETIME_MIN_CUSTOMERS = env_int("TEND_LIFETIME_MIN_CUSTOMERS", 20)
TEND_LIFETIME_MIN_CHURNED = env_int("TEND_LIFETIME_MIN_CHURNED", 10)
TEND_LIFETIME_COX_MIN_CHURNED = env_int("TEND_LIFETIME_COX_MIN_CHURNED", 20)
TEND_LIFETIME_PROJECTION_MONTHS = env_int("TEND_LIFETIME_PROJECTION_MONTHS", 36)
TEND_LIFETIME_CLV_MONTHS = env_int("TEND_LIFETIME_CLV_MONTHS", 120)
TEND_LIFETIME_COX_PENALIZER = float(
    env_decimal("TEND_LIFETIME_COX_PENALIZER", "0.01", low="0", high="10")
)
for _name, _low in (
    ("TEND_LIFETIME_MIN_CUSTOMERS", 2),
    ("TEND_LIFETIME_MIN_CHURNED", 1),
    ("TEND_LIFETIME_COX_MIN_CHURNED", 2),
    ("TEND_LIFETIME_PROJECTION_MONTHS", 12),
    ("TEND_LIFETIME_CLV_MONTHS", 12),
):
    if not _low <= globals()[_name] <= 600:
        raise ConfigError(f"{_name} must be between {_low} and 600; got {globals()[_name]}")
# Refit weekly, Monday 03:20 UTC (after the nightly metrics rebuild).
TEND_SCHEDULES["lifetime-fit"] = {
    "cron": "20 3 * * 1",
    "task": "tend.predict.retention.lifetime_fit_task",
}
# --- prediction: churn pages, panel and Today signal (issue 19, part "ui") -----------------
# The Today signal "churn risk rose" fires when a customer's risk enters the top 10% or rises
# by at least this much (0–1) over 7 days.
TEND_PREDICT_RISK_RISE = float(env_decimal("TEND_PREDICT_RISK_RISE", "0.15", low="0.01", high="1"))
# --- churn models (tend.predict.churn / scoring / actions, docs/prediction.md) ---------
# Label: churned within this many days after an observation date; 0 = by the next renewal.
TEND_CHURN_HORIZON_DAYS = env_int("TEND_CHURN_HORIZON_DAYS", 30)
if not 0 <= TEND_CHURN_HORIZON_DAYS <= 730:
    raise ConfigError(
        "TEND_CHURN_HORIZON_DAYS must be 0 (by the next renewal) or 1 to 730 days; "
        f"got {TEND_CHURN_HORIZON_DAYS}"
    )
# Fewer churned customers than this in the training set: no model ("not enough data to train").
TEND_CHURN_MIN_CHURNED = env_int("TEND_CHURN_MIN_CHURNED", 20)
if not 5 <= TEND_CHURN_MIN_CHURNED <= 100_000:
    raise ConfigError(
        f"TEND_CHURN_MIN_CHURNED must be between 5 and 100000; got {TEND_CHURN_MIN_CHURNED}"
    )
# Monthly observation dates in the training set (the last quarter of them test the models).
TEND_CHURN_OBSERVATION_DATES = env_int("TEND_CHURN_OBSERVATION_DATES", 12)
if not 4 <= TEND_CHURN_OBSERVATION_DATES <= 120:
    raise ConfigError(
        "TEND_CHURN_OBSERVATION_DATES must be between 4 and 120; "
        f"got {TEND_CHURN_OBSERVATION_DATES}"
    )
# Retrain weekly (Sunday 01:30 UTC, after the daily pipeline); `tend train` retrains by hand.
TEND_SCHEDULES["churn-train"] = {
    "cron": "30 1 * * 0",
    "task": "tend.predict.tasks.churn_train_task",
}
# --- probabilistic CLV in the app (tend.predict.clv_fit, docs/clv.md) ------------------
# The purchase model fitted on orders: "bgnbd" (BG/NBD, default) or "pareto_nbd".
TEND_CLV_MODEL = env_choice("TEND_CLV_MODEL", "bgnbd", {"bgnbd", "pareto_nbd"})
# The time unit of the summaries (days) and the prediction horizon in those units: 7 × 52 =
# expected purchases, spend and CLV over the next year. CLV is discounted by
# TEND_CLV_DISCOUNT_RATE (a year) above.
TEND_CLV_PERIOD_DAYS = env_int("TEND_CLV_PERIOD_DAYS", 7)
TEND_CLV_HORIZON_PERIODS = env_int("TEND_CLV_HORIZON_PERIODS", 52)
# Fewer customers who bought on two or more days than this: no fit ("not enough data").
TEND_CLV_MIN_REPEATERS = env_int("TEND_CLV_MIN_REPEATERS", 20)
if not 1 <= TEND_CLV_PERIOD_DAYS <= 365:
    raise ConfigError(f"TEND_CLV_PERIOD_DAYS must be 1 to 365; got {TEND_CLV_PERIOD_DAYS}")
if not 1 <= TEND_CLV_HORIZON_PERIODS <= 520:
    raise ConfigError(f"TEND_CLV_HORIZON_PERIODS must be 1 to 520; got {TEND_CLV_HORIZON_PERIODS}")
if not 2 <= TEND_CLV_MIN_REPEATERS <= 100_000:
    raise ConfigError(f"TEND_CLV_MIN_REPEATERS must be 2 to 100000; got {TEND_CLV_MIN_REPEATERS}")
