"""gunicorn's settings for production (an option given on the command line wins over the same
one here):

    gunicorn -c python:firecrawl_dash.gunicorn firecrawl_dash.wsgi

Threaded workers, because a download is a long request. gunicorn's default sync worker tells its
master it is alive only between requests, so the master kills one whose request outlasts
`timeout`, mid-download: a zip streamed to a slow connection for longer than that would be cut
off (tests/test_gunicorn.py). A gthread worker's main loop keeps telling, whatever its threads
are doing, and each of its threads serves one request: a few long downloads take a few threads,
not the whole site. (gunicorn also turns a sync worker with more than one thread into gthread.)
"""

import os

worker_class = "gthread"
# Processes: one per core and one more (gunicorn's own advice is 2 per core + 1 for sync workers;
# threads give the concurrency here).
workers = int(os.environ.get("WEB_CONCURRENCY", (os.cpu_count() or 1) + 1))
# Requests each process serves at once: downloads and htmx polls of several tabs side by side.
threads = 4
# How long a worker's main loop may stay silent before the master replaces it (its requests'
# own length is bounded by the views' deadlines, not by this).
timeout = 60
# A stopped or restarted worker finishes the downloads in hand for this long first.
graceful_timeout = 60


def post_worker_init(worker: object) -> None:
    """Import the URLconf (every view module, the API's schema) as the worker starts: Django
    does it on the first request, which would take 0.15 s longer on each new worker."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (evaluated for its import)
