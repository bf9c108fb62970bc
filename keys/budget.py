"""Pacing the requests to Firecrawl: a per-key budget shared by every job, worker and web
process, and the backoff after failures in a row.

Firecrawl limits requests per team per minute and answers 429 past that; staying under a
configurable budget keeps one busy dashboard from starving the team's other clients. The
budget lives in the database (a one-minute window on the ApiKey row), so every process sees it.
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
        window = now.replace(second=0, microsecond=0)
        keys = ApiKey.objects.filter(pk=self.api_key_pk)
        # Two conditional UPDATEs, each atomic in the database: open a new window, or take one
        # more request from the current one while any is left.
        if keys.filter(Q(budget_window=None) | Q(budget_window__lt=window)).update(
            budget_window=window, budget_used=1
        ):
            return
        if keys.filter(budget_window=window, budget_used__lt=self.limit).update(
            budget_used=F("budget_used") + 1
        ):
            return
        if not keys.exists():
            return  # The key was deleted meanwhile; the sync stops on its own.
        raise BudgetExhausted(self._seconds_to_next_window(now, window), self.limit)

    @staticmethod
    def _seconds_to_next_window(now: datetime, window: datetime) -> float:
        return 60 - (now - window).total_seconds()


def backoff(base_seconds: float, failures: int, cap: timedelta) -> timedelta:
    """How long to wait after `failures` failures in a row: `base_seconds` doubled each time, at
    most `cap`. A failing job's polls and a failing listing's rounds back off alike."""
    return min(timedelta(seconds=base_seconds * 2 ** min(failures, 20)), cap)
