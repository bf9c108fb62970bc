"""The one way to build a Firecrawl client for a key: timeouts fit for the caller, the request
budget, and the API-URL allow-list checked at every use, not only when a key is added. (Every
response is size-capped by the client itself: firecrawl_api.client.DEFAULT_MAX_RESPONSE_BYTES.)

Time is bounded per call (the deadline) and, with `finish_by`, for a whole piece of work: a page
view or a worker task given one deadline (`web_budget`, `worker_budget`) never spends more on
Firecrawl, however many calls it makes.
"""

import time

from django.conf import settings

import firecrawl_api
from firecrawl_api.client import FirecrawlClient
from keys.allowlist import allowed_api_url
from keys.budget import RequestBudget
from keys.models import ApiKey

# How the worker's calls retry. Tuning, not configuration: they follow from how Firecrawl
# behaves (pages stream within seconds, 429s ask for seconds to a minute), so they are constants.
# The first retry waits this long (seconds), doubling with jitter.
RETRY_BACKOFF = 1.0
# A 429 asking for longer than this (seconds) is rescheduled instead of waited out in-process.
MAX_RETRY_WAIT = 30.0
# Seconds the sync waits for Firecrawl's next bytes before it retries the read (the worker's
# deadline bounds the whole call anyway).
READ_TIMEOUT = 60.0


class KeyNotAllowed(firecrawl_api.FirecrawlError):
    """The key's API URL is no longer in FIRECRAWL_API_URLS: no request may carry the key there."""

    needs_user = True


def _check_allowed(api_url: str) -> None:
    if not allowed_api_url(api_url):
        raise KeyNotAllowed(
            f"This server no longer allows requests to {api_url} (FIRECRAWL_API_URLS); "
            "ask its administrator, or use a key for an allowed Firecrawl server"
        )


def web_budget() -> float:
    """A finish_by for work done while a person waits: one web deadline from now."""
    return time.monotonic() + settings.FIRECRAWL_WEB_DEADLINE


def worker_budget() -> float:
    """A finish_by for one worker task: one worker deadline from now."""
    return time.monotonic() + settings.FIRECRAWL_WORKER_DEADLINE


def for_web(
    api_url: str,
    key: str,
    api_version: str,
    *,
    budget: RequestBudget | None = None,
    finish_by: float | None = None,
) -> FirecrawlClient:
    """For a call made while a person waits on the page: one retry, a short deadline."""
    _check_allowed(api_url)
    return FirecrawlClient(
        api_url,
        key,
        api_version,
        max_retries=1,
        backoff_base=RETRY_BACKOFF,
        max_wait=0,
        read_timeout=settings.FIRECRAWL_WEB_DEADLINE,
        deadline=settings.FIRECRAWL_WEB_DEADLINE,
        on_request=budget.spend if budget else None,
        finish_by=finish_by,
    )


def for_key_on_web(key: ApiKey, *, finish_by: float | None = None) -> FirecrawlClient:
    return for_web(
        key.api_url, key.key, key.api_version, budget=RequestBudget(key.pk), finish_by=finish_by
    )


def for_worker(
    key: ApiKey,
    budget: RequestBudget | None,
    *,
    max_retries: int = 4,
    finish_by: float | None = None,
) -> FirecrawlClient:
    """For the sync in the worker: retries with backoff, 429s waited out up to a limit.

    Every request is paid from `budget`; without one, the caller has paid already. Give the
    task's `finish_by` (worker_budget()) so that all its calls together fit one deadline.
    """
    _check_allowed(key.api_url)
    return FirecrawlClient(
        key.api_url,
        key.key,
        key.api_version,
        max_retries=max_retries,
        max_wait=MAX_RETRY_WAIT,
        backoff_base=RETRY_BACKOFF,
        read_timeout=READ_TIMEOUT,
        deadline=settings.FIRECRAWL_WORKER_DEADLINE,
        on_request=budget.spend if budget else None,
        finish_by=finish_by,
    )
