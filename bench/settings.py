"""The app's settings as the benchmarks run them: production-like (DEBUG off), no manifest.

DEBUG must be off: with it on Django keeps every query (parameters included) in memory, which
would swamp the RSS numbers. The manifest storage needs `collectstatic`, which a scratch run
does not do, so static files use the plain storage.
"""

from firecrawl_dash.settings import *  # noqa: F403
from firecrawl_dash.settings import ALLOWED_HOSTS

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
