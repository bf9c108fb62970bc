"""Settings for the Firecrawl job dashboard: one module, driven by environment variables.

Every variable is documented in the README. Defaults make a fresh clone run as-is
(SQLite, DEBUG on, a generated encryption key); production sets DEBUG=false and the secrets.
"""

import math
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from firecrawl_dash.local_secrets import local_secret

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str, *, minimum: int | None = None) -> int:
    """An integer setting, at least `minimum`; anything else names the variable and stops."""
    value = os.getenv(name, default)
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None
    return _at_least(name, number, minimum)


def envfloat(name: str, default: str, *, minimum: float | None = None) -> float:
    """A number of seconds (or any real number), at least `minimum`; likewise strict."""
    value = os.getenv(name, default)
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ImproperlyConfigured(f"{name} must be a finite number, not {value!r}")
    return _at_least(name, number, minimum)


def _at_least[Number: (int, float)](name: str, number: Number, minimum: Number | None) -> Number:
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


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
    "notifications",
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
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", "0", minimum=0),
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
# After this many failed log-ins for one account within the window (seconds), further attempts
# are refused until old failures age out; after LOGIN_ADDRESS_FAILURE_LIMIT from one address (at
# any accounts, sign-ups of taken usernames included), so is every attempt from there. Neither
# refuses a browser that logged in to the account before (see accounts/throttle.py).
LOGIN_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5", minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = envint("LOGIN_ADDRESS_FAILURE_LIMIT", "20", minimum=1)
LOGIN_FAILURE_WINDOW = envint("LOGIN_FAILURE_WINDOW", "900", minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Files that must outlive Firecrawl (screenshots, jobs.screenshots): FILE_STORAGE=filesystem
# keeps them under MEDIA_ROOT, s3 in an S3-compatible bucket through django-storages (its own
# AWS_* settings), which several web and worker machines share. Either way they are served only
# through a view that checks the owner: MEDIA_ROOT has no URL, and WhiteNoise never serves it.
FILE_STORAGE = os.getenv("FILE_STORAGE", "filesystem").strip().lower()
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", str(BASE_DIR / "media")))
if FILE_STORAGE == "filesystem":
    FILE_STORAGE_BACKEND = "django.core.files.storage.FileSystemStorage"
elif FILE_STORAGE == "s3":
    FILE_STORAGE_BACKEND = "storages.backends.s3.S3Storage"
    AWS_STORAGE_BUCKET_NAME = os.getenv("AWS_STORAGE_BUCKET_NAME", "")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME")
    # Empty: Amazon S3 itself (its region from AWS_DEFAULT_REGION, as boto3 reads it).
    AWS_S3_ENDPOINT_URL = os.getenv("AWS_S3_ENDPOINT_URL") or None
    # Empty: boto3's own lookup (an instance role, ~/.aws); either can come from a file.
    AWS_ACCESS_KEY_ID = envsecret("AWS_ACCESS_KEY_ID") or None
    AWS_SECRET_ACCESS_KEY = envsecret("AWS_SECRET_ACCESS_KEY") or None
    # Names are never reused (a random part), so no existence check before each write; no
    # ACL: the bucket stays private, and files go out only through the owner's view.
    AWS_S3_FILE_OVERWRITE = True
    AWS_DEFAULT_ACL = None
else:
    raise ImproperlyConfigured(f"FILE_STORAGE must be filesystem or s3, not {FILE_STORAGE!r}")
STORAGES = {
    "default": {"BACKEND": FILE_STORAGE_BACKEND},
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
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0", minimum=0)
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
TRUSTED_PROXY_HOPS = envint("TRUSTED_PROXY_HOPS", "0", minimum=0)

# Which Firecrawl servers users may point their keys at. "*" allows any http(s) URL, for
# self-hosted Firecrawl; a shared deployment should list only what it trusts, so one user
# cannot make the server send requests to internal addresses.
FIRECRAWL_API_URLS = envlist("FIRECRAWL_API_URLS", "https://api.firecrawl.dev")
# Requests per minute this app sends to Firecrawl for one API key, all jobs and workers together.
FIRECRAWL_RATE_LIMIT_PER_MINUTE = envint("FIRECRAWL_RATE_LIMIT_PER_MINUTE", "200", minimum=1)
# Seconds between polls of a running job (it backs off as the job ages and on errors).
FIRECRAWL_POLL_INTERVAL = envint("FIRECRAWL_POLL_INTERVAL", "5", minimum=1)

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
FIRECRAWL_SYNC_LEASE_SECONDS = envint("FIRECRAWL_SYNC_LEASE_SECONDS", "120", minimum=1)
# The longest one call to Firecrawl may take, retries and waits included: while a person waits
# on a page (adding a key, cancelling, starting or importing jobs), and in the worker. A worker
# also stops following one job's pages after about its deadline and queues the job again
# behind the others, so a slow or huge upstream never holds a worker from other users' jobs.
# The worker's must stay below the lease (a system check, firecrawl_dash.checks, says so).
FIRECRAWL_WEB_DEADLINE = envfloat("FIRECRAWL_WEB_DEADLINE", "10", minimum=1)
FIRECRAWL_WORKER_DEADLINE = envfloat("FIRECRAWL_WORKER_DEADLINE", "60", minimum=1)
# A job is settled once two reads this many seconds apart agree after it ended upstream: a cancel
# finishes in the background, and a completion is confirmed up to ~15 s late (later on a busy
# self-hosted server).
FIRECRAWL_SETTLE_SECONDS = envfloat("FIRECRAWL_SETTLE_SECONDS", "20", minimum=0)
# No job caches more documents than this (an upstream whose `next` never ends stops here).
FIRECRAWL_MAX_DOCUMENTS_PER_JOB = envint("FIRECRAWL_MAX_DOCUMENTS_PER_JOB", "500000", minimum=1)
# No job stores more failed URLs than this (failed and robots-blocked together): the page says
# how many Firecrawl listed, and the first ones are kept (a retry covers those).
FIRECRAWL_MAX_FAILED_URLS_PER_JOB = envint("FIRECRAWL_MAX_FAILED_URLS_PER_JOB", "20000", minimum=1)

# Starting jobs from the dashboard (jobs.starting): the most URLs one batch may have (and the
# highest page limit of a crawl), and the largest .txt/.csv list of URLs accepted.
FIRECRAWL_START_MAX_URLS = envint("FIRECRAWL_START_MAX_URLS", "10000", minimum=1)
FIRECRAWL_START_MAX_UPLOAD_BYTES = envint(
    "FIRECRAWL_START_MAX_UPLOAD_BYTES", str(2 * 2**20), minimum=1
)
# Firecrawl servers that get an x-idempotency-key with each start, so retrying a start whose
# answer was lost cannot start the job twice. Only servers with their database: a self-hosted
# server without one crashes (its whole API process) on a start that carries the header. "*"
# means every server.
FIRECRAWL_IDEMPOTENCY_URLS = envlist("FIRECRAWL_IDEMPOTENCY_URLS", "https://api.firecrawl.dev")

# Screenshots (jobs.screenshots) are fetched only from the host of the job's own Firecrawl
# server and from these: where Firecrawl puts them (hosted: signed Google Cloud Storage URLs;
# before June 2026 also its own Supabase storage).
FIRECRAWL_SCREENSHOT_HOSTS = envlist(
    "FIRECRAWL_SCREENSHOT_HOSTS", "storage.googleapis.com,service.firecrawl.dev"
)

# Webhooks (keys.views.webhooks): the dashboard's public base URL, as Firecrawl reaches it
# (https://dash.example.com); each key's page shows its webhook URL under it, and jobs started
# here register that URL with Firecrawl. Empty: no URL is shown or registered (the receiver still
# answers whoever knows a key's URL). The links in notifications (the job, its zip, unsubscribe)
# start with it too; empty, they point at http://127.0.0.1:8000 (and `check --deploy` says so).
PUBLIC_URL = os.getenv("PUBLIC_URL", "").strip().rstrip("/")
if PUBLIC_URL and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", PUBLIC_URL):
    raise ImproperlyConfigured(
        f"PUBLIC_URL must be an http(s) URL such as https://dash.example.com, not {PUBLIC_URL!r}"
    )
# While Firecrawl's events about a job keep arriving (one in this many seconds), its poll relaxes
# to this interval: a safety net for lost events. A job whose events stopped is polled as usual.
FIRECRAWL_WEBHOOK_POLL_INTERVAL = envint("FIRECRAWL_WEBHOOK_POLL_INTERVAL", "60", minimum=1)
# Requests one key's webhook URL takes per minute, whoever sends them; past it, 429.
FIRECRAWL_WEBHOOK_RATE_PER_MINUTE = envint("FIRECRAWL_WEBHOOK_RATE_PER_MINUTE", "6000", minimum=1)
# Finding jobs (keys.listings): pages of the activity listing followed per kind (100 jobs a
# page), and the most jobs one reading lists and tracks (the import page, Track all, one
# automatic round). An operator of a shared server bounds what one key's listing may cost here.
FIRECRAWL_IMPORT_MAX_PAGES = envint("FIRECRAWL_IMPORT_MAX_PAGES", "5", minimum=1)
FIRECRAWL_IMPORT_MAX_JOBS = envint("FIRECRAWL_IMPORT_MAX_JOBS", "500", minimum=1)

# Notifications (the notifications app). Events wait this many seconds for others of their kind,
# so that many jobs finishing together make one message; each user also chooses how often at most.
NOTIFY_DIGEST_SECONDS = envint("NOTIFY_DIGEST_SECONDS", "60", minimum=0)
# A job whose results Firecrawl deletes within this many seconds, not all cached, needs
# attention ("expiring uncached").
NOTIFY_EXPIRY_WARNING_SECONDS = envint("NOTIFY_EXPIRY_WARNING_SECONDS", "7200", minimum=1)
# The longest one send may take, whole: an SMTP conversation or a webhook call, connecting and
# reading the answer included; cut off there. A worker owns the message it sends for twice this,
# so a worker that died mid-send is taken over, and a slow send never is.
NOTIFY_SEND_TIMEOUT = envfloat("NOTIFY_SEND_TIMEOUT", "30", minimum=1)
# Whether notification webhooks may go to private, loopback or link-local addresses (a webhook
# receiver on the dashboard's own network). Off: one user cannot make the server probe it.
NOTIFY_WEBHOOK_ALLOW_PRIVATE = envbool("NOTIFY_WEBHOOK_ALLOW_PRIVATE", "false")

# Mail (notifications), configured by the variables Django has always read (EMAIL_HOST,
# EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD or its _FILE, EMAIL_USE_TLS, EMAIL_USE_SSL),
# given to Django 6.1's MAILERS (its EMAIL_* settings are deprecated). Without EMAIL_HOST, in
# development messages are printed by the console backend (`make run`, `make demo`: nothing
# leaves the machine); in production they go to localhost:25, Django's own default. Lowercase
# names: they are not settings.
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "webmaster@localhost")
email_host = os.getenv("EMAIL_HOST", "" if DEBUG else "localhost")
email_options = {
    "host": email_host,
    "port": envint("EMAIL_PORT", "25", minimum=1),
    "username": os.getenv("EMAIL_HOST_USER", ""),
    "password": envsecret("EMAIL_HOST_PASSWORD"),
    "use_tls": envbool("EMAIL_USE_TLS", "false"),
    "use_ssl": envbool("EMAIL_USE_SSL", "false"),
    # Each step of the SMTP conversation waits no longer than the whole send may take.
    "timeout": NOTIFY_SEND_TIMEOUT,
}
if email_options["use_tls"] and email_options["use_ssl"]:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS, port 587) or EMAIL_USE_SSL (465)")
MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": email_options}
    if email_host
    else {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
}

# Requests per minute one API token may make (api/), across every web process.
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", "300", minimum=1)
