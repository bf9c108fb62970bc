"""The app's settings as the benchmarks run them: production-like (DEBUG off), no manifest.

DEBUG must be off: with it on Django keeps every query (parameters included) in memory, which
would swamp the RSS numbers. The manifest storage needs `collectstatic`, which a scratch run
does not do, so static files use the plain storage; other files go where FILE_STORAGE says.
"""

from firecrawl_dash.settings import *  # noqa: F403
from firecrawl_dash.settings import ALLOWED_HOSTS, STORAGES

# Files where FILE_STORAGE says (the screenshots benchmark runs both).
STORAGES = {
    "default": STORAGES["default"],
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
