"""Pacing: per-key budgets per calendar minute, shared by every job, worker and web process
(requests to Firecrawl, and deliveries to the key's webhook URL), and the backoff after failures
in a row.

Firecrawl limits requests per team per minute and answers 429 past that; staying under a
configurable budget keeps one busy dashboard from starving the team's other clients. The
webhook URL is public, so whoever knows it is held to a rate too. Each budget lives in the
database (a one-minute window on the ApiKey row), so every process sees it.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from firecrawl_api import RateLimited
from keys.models import ApiKey


class BudgetExhausted(RateLimited):
    """Our own pacing (nothing was sent): wait for the next minute's budget."""

    counts_as_failure = False

    def __init__(self, retry_after: float, limit: int) -> None:
        super().__init__(retry_after)
        self.message = (
            f"Holding back: this key's budget of {limit} requests per minute is used up; "
            f"resuming in {max(1, round(retry_after))} s"
        )

    def retrying_message(self, seconds: int) -> str:
        return self.message


class RequestBudget:
    def __init__(self, api_key_pk: int, limit: int | None = None) -> None:
        self.api_key_pk = api_key_pk
        self.limit = limit or settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE

    def spend(self) -> None:
        """Count one request against this minute's budget, or raise BudgetExhausted."""
        now = timezone.now()
        if _take_one(self.api_key_pk, "budget", self.limit, now):
            return
        if not ApiKey.objects.filter(pk=self.api_key_pk).exists():
            return  # The key was deleted meanwhile; the sync stops on its own.
        raise BudgetExhausted(_seconds_to_next_window(now), self.limit)


def admit_webhook_delivery(api_key_pk: int) -> float | None:
    """Count one request to the key's webhook URL; past this minute's allowance, the seconds
    until the next minute (None: admitted)."""
    now = timezone.now()
    if _take_one(api_key_pk, "webhook", settings.FIRECRAWL_WEBHOOK_RATE_PER_MINUTE, now):
        return None
    return _seconds_to_next_window(now)


def _take_one(api_key_pk: int, budget: str, limit: int, now: datetime) -> bool:
    """Take one from the key's `budget` (its `<budget>_window` and `<budget>_used` columns) in
    this calendar minute, unless `limit` are taken already."""
    window, used = f"{budget}_window", f"{budget}_used"
    minute = now.replace(second=0, microsecond=0)
    keys = ApiKey.objects.filter(pk=api_key_pk)
    # Two conditional UPDATEs, each atomic in the database: open a new window, or take one more
    # from the current one while any is left.
    if keys.filter(Q(**{window: None}) | Q(**{f"{window}__lt": minute})).update(
        **{window: minute, used: 1}
    ):
        return True
    return bool(keys.filter(**{window: minute, f"{used}__lt": limit}).update(**{used: F(used) + 1}))


def _seconds_to_next_window(now: datetime) -> float:
    return 60 - (now - now.replace(second=0, microsecond=0)).total_seconds()


def backoff(base_seconds: float, failures: int, cap: timedelta) -> timedelta:
    """How long to wait after `failures` failures in a row: `base_seconds` doubled each time, at
    most `cap`. A failing job's polls and a failing listing's rounds back off alike."""
    return min(timedelta(seconds=base_seconds * 2 ** min(failures, 20)), cap)
