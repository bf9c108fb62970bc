"""Settings for the Firecrawl job dashboard: one module, driven by environment variables.

Every variable is documented in the README. Defaults make a fresh clone run as-is
(SQLite, DEBUG on, a generated encryption key); production sets DEBUG=false and the secrets.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def envsecret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    if path := os.getenv(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.getenv(name, "")


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "true")

# A development instance keeps its generated secrets in an ignored file, so `make run` needs no
# configuration and restarts keep sessions and stored API keys readable.
LOCAL_SECRETS_FILE = BASE_DIR / ".local-secrets"


def _local_secret(name: str) -> str:
    from firecrawl_dash.local_secrets import local_secret

    return local_secret(LOCAL_SECRETS_FILE, name)


SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG=false")
    SECRET_KEY = _local_secret("SECRET_KEY")

# Fernet keys for API keys at rest, newest first. Separate from SECRET_KEY so either can be
# rotated on its own: add a new key in front, run `manage.py rotate_api_keys`, drop the old one.
FIELD_ENCRYPTION_KEYS = envlist("FIELD_ENCRYPTION_KEYS", envsecret("FIELD_ENCRYPTION_KEYS"))
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEYS_FILE) is required when DEBUG=false"
        )
    FIELD_ENCRYPTION_KEYS = [_local_secret("FIELD_ENCRYPTION_KEYS")]

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Full-text search fields and indexes on PostgreSQL (inert on SQLite).
    "django.contrib.postgres",
    # Django's own form and widget templates, for the project's form renderer.
    "django.forms",
    "django_htmx",
    "django_tasks_db",
    # The JSON API's framework (api/); installed for its docs page's templates and static files.
    "ninja",
    "accounts",
    "keys",
    "jobs",
]
if DEBUG:
    # `manage.py demo` (make demo) runs the product against the simulator; production never
    # loads it.
    INSTALLED_APPS.append("fakecrawl")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Errors Django answers itself under /api/ (404, 405, 500) become JSON like the API's own.
    "api.errors.JsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "firecrawl_dash.urls"
WSGI_APPLICATION = "firecrawl_dash.wsgi.application"

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
                "django.template.context_processors.csp",
                "accounts.context_processors.registration",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0"),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests use a file, not memory, so a worker started in another process sees the same data.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".test-db.sqlite3")}
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORM_RENDERER = "firecrawl_dash.renderers.FormRenderer"

TASKS = {"default": {"BACKEND": os.getenv("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "jobs:dashboard"
LOGOUT_REDIRECT_URL = "login"
REGISTRATION_OPEN = envbool("REGISTRATION_OPEN", "true")
# After this many failed log-ins for one account within the window, further attempts are refused
# until old failures age out; from an address with four times as many, so are attempts at any
# account that has failures (see accounts/throttle.py).
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
LOGIN_FAILURE_WINDOW = envint("LOGIN_FAILURE_WINDOW", "900")

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Content-Security-Policy on every page: no inline script without the per-request nonce, and
# nothing from other origins. Scraped HTML is previewed in a sandboxed iframe with its own CSP.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "frame-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
}

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", "false" if DEBUG else "true")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Only the sandboxed preview of scraped HTML is framed, by our own page (it opts in per view).
X_FRAME_OPTIONS = "DENY"
if envbool("BEHIND_PROXY", "false"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies in front of the app append the client's address to X-Forwarded-For:
# the log-in throttle reads the address that many entries from the right (0: REMOTE_ADDR).
TRUSTED_PROXY_HOPS = envint("TRUSTED_PROXY_HOPS", "0")
if TRUSTED_PROXY_HOPS < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_HOPS must be 0 or more")

# Which Firecrawl servers users may point their keys at. "*" allows any http(s) URL, for
# self-hosted Firecrawl; a shared deployment should list only what it trusts, so one user
# cannot make the server send requests to internal addresses.
FIRECRAWL_API_URLS = envlist("FIRECRAWL_API_URLS", "https://api.firecrawl.dev")
# Requests per minute this app sends to Firecrawl for one API key, all jobs and workers together.
FIRECRAWL_RATE_LIMIT_PER_MINUTE = envint("FIRECRAWL_RATE_LIMIT_PER_MINUTE", "200")
# Seconds between polls of a running job (it backs off as the job ages and on errors).
FIRECRAWL_POLL_INTERVAL = envint("FIRECRAWL_POLL_INTERVAL", "5")

# Error reports never show a posted API key or password, even on DEBUG's error page.
DEFAULT_EXCEPTION_REPORTER_FILTER = "firecrawl_dash.reporting.ReportFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
# A sync holds a lease on its job for this long, renewed after every page; a crashed worker's
# job is picked up again once it runs out.
FIRECRAWL_SYNC_LEASE_SECONDS = envint("FIRECRAWL_SYNC_LEASE_SECONDS", "120")
# The longest a sync waits in-process for a 429 to pass; longer waits are rescheduled instead.
FIRECRAWL_MAX_RETRY_WAIT = envint("FIRECRAWL_MAX_RETRY_WAIT", "30")
# First retry delay in seconds for failed GETs to Firecrawl (doubles each retry, with jitter).
FIRECRAWL_RETRY_BACKOFF = float(os.getenv("FIRECRAWL_RETRY_BACKOFF", "1"))
# Seconds the sync waits for Firecrawl to send the next bytes of a response before retrying.
FIRECRAWL_READ_TIMEOUT = float(os.getenv("FIRECRAWL_READ_TIMEOUT", "60"))
# The longest one call to Firecrawl may take, retries and waits included: while a person waits
# on a page (adding a key, cancelling, starting or importing jobs), and in the worker. A worker
# also stops following one job's pages after about its deadline and queues the job again
# behind the others, so a slow or huge upstream never holds a worker from other users' jobs.
FIRECRAWL_WEB_DEADLINE = float(os.getenv("FIRECRAWL_WEB_DEADLINE", "10"))
FIRECRAWL_WORKER_DEADLINE = float(os.getenv("FIRECRAWL_WORKER_DEADLINE", "60"))
# The most one response from Firecrawl may hold, decompressed (a page is at most ~10 M
# characters): anything larger is refused as it streams in, so memory stays bounded.
FIRECRAWL_MAX_RESPONSE_BYTES = envint("FIRECRAWL_MAX_RESPONSE_BYTES", str(64 * 2**20))
# A job is settled once two reads this many seconds apart agree after it ended upstream: a cancel
# finishes in the background, and a completion is confirmed up to ~15 s late.
FIRECRAWL_SETTLE_SECONDS = float(os.getenv("FIRECRAWL_SETTLE_SECONDS", "20"))
# No job caches more documents than this (an upstream whose `next` never ends stops here).
FIRECRAWL_MAX_DOCUMENTS_PER_JOB = envint("FIRECRAWL_MAX_DOCUMENTS_PER_JOB", "500000")

# Starting jobs from the dashboard (jobs.starting): the most URLs one batch may have (and the
# highest page limit of a crawl), the largest .txt/.csv list of URLs accepted, and how long a
# confirmation page stays valid (seconds).
FIRECRAWL_START_MAX_URLS = envint("FIRECRAWL_START_MAX_URLS", "10000")
FIRECRAWL_START_MAX_UPLOAD_BYTES = envint("FIRECRAWL_START_MAX_UPLOAD_BYTES", str(2 * 2**20))
FIRECRAWL_START_CONFIRM_MAX_AGE = envint("FIRECRAWL_START_CONFIRM_MAX_AGE", "3600")
# Firecrawl servers that get an x-idempotency-key with each start, so retrying a start whose
# answer was lost cannot start the job twice. Only servers with their database: a self-hosted
# server without one fails every start that carries the header (500). "*" means every server.
FIRECRAWL_IDEMPOTENCY_URLS = envlist("FIRECRAWL_IDEMPOTENCY_URLS", "https://api.firecrawl.dev")
# Requests per minute one API token may make (api/), across every web process.
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", "300")
# Finding jobs (keys.listings): pages of the activity listing followed per kind (100 jobs a
# page), and seconds between two automatic imports for a key that opted in.
FIRECRAWL_IMPORT_MAX_PAGES = envint("FIRECRAWL_IMPORT_MAX_PAGES", "5")
FIRECRAWL_IMPORT_INTERVAL = envint("FIRECRAWL_IMPORT_INTERVAL", "300")
