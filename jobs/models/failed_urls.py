"""A job's failed URLs: the URLs Firecrawl could not scrape (from /errors) or robots.txt blocked,
and the queries that read them back.

For display they are grouped by code and message, a page of URLs at a time: a job can have
thousands of failures sharing one long message, so the page shows each message once, with how
many URLs it hit, and the URLs under it in order. Downloads read them in keyset batches.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.paginator import Page
from django.db import models
from django.db.models import Count

from firecrawl_api.text import MAX_MESSAGE, MAX_URL, cut
from jobs.pagination import FAILED_URLS_PER_PAGE, ListPaginator

if TYPE_CHECKING:
    from jobs.models.jobs import Job

# Keyset batches for downloads: a failed-URL list of any length streams in flat memory.
ROWS_PER_BATCH = 500
# Characters of a URL's natural sort key (what the list sorts on).
SORT_KEY_LENGTH = 300
_DIGITS = re.compile(r"\d+")


def natural_key(url: str) -> str:
    """A URL as it sorts for people: each run of digits padded to the same width, so
    /page/14 comes before /page/105 (text order puts it after)."""
    padded = _DIGITS.sub(lambda m: m.group().lstrip("0").rjust(12, "0")[-12:], url.lower())
    return padded[:SORT_KEY_LENGTH]


class FailedUrl(models.Model):
    """A URL Firecrawl could not scrape (from /errors), or one robots.txt blocked."""

    job = models.ForeignKey("jobs.Job", models.DB_CASCADE, related_name="failed_urls")
    url = models.TextField()
    remote_id = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    robots_blocked = models.BooleanField(default=False)
    # Never scraped because the job was cancelled (firecrawl_api.wire.CANCELLED_URL_ERROR): a
    # cancelled URL, counted apart from the URLs Firecrawl failed to scrape.
    cancelled = models.BooleanField(default=False)
    # Identifies the entry across reads of /errors (which repeat every entry every time).
    fingerprint = models.CharField(max_length=64)
    # The URL in natural order (natural_key): the lists sort on it.
    sort_key = models.CharField(max_length=SORT_KEY_LENGTH, blank=True)

    class Meta:
        ordering = ["job", "robots_blocked", "cancelled", "code", "sort_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "fingerprint"], name="unique_failed_url"),
        ]
        indexes = [models.Index(fields=["job", "robots_blocked", "code"], name="failed_url_group")]

    def __str__(self) -> str:
        return self.url

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fingerprint = self.fingerprint or self.identity()
        self.sort_key = natural_key(self.url)
        super().save(*args, **kwargs)

    def identity(self) -> str:
        identity = json.dumps([self.robots_blocked, self.remote_id, self.url])
        return hashlib.sha256(identity.encode()).hexdigest()

    @classmethod
    def from_listing(
        cls,
        job: "Job",
        url: str,
        remote_id: str | None = None,
        code: str | None = None,
        error: str = "",
        failed_at: datetime | None = None,
        *,
        robots: bool = False,
        cancelled: bool = False,
    ) -> "FailedUrl":
        failed = cls(
            job=job,
            url=cut(url, MAX_URL),
            remote_id=cut(remote_id or "", 100),
            code=cut(code or "", 100),
            error=cut(error, MAX_MESSAGE),
            failed_at=failed_at,
            robots_blocked=robots,
            cancelled=cancelled,
        )
        failed.fingerprint = failed.identity()
        failed.sort_key = natural_key(failed.url)
        return failed


@dataclass
class FailureGroup:
    robots_blocked: bool
    cancelled: bool
    code: str
    error: str
    # URLs with this code and message in the whole job, not only on this page.
    count: int
    urls: list[str] = field(default_factory=list)


@dataclass
class FailurePage:
    page: Page[FailedUrl]
    groups: list[FailureGroup]
    # Firecrawl listed more than are stored (FIRECRAWL_MAX_FAILED_URLS_PER_JOB): how many.
    reported: int = 0
    cap: int = 0

    @property
    def capped(self) -> bool:
        return self.reported > self.page.paginator.count


GROUP_FIELDS = ("robots_blocked", "cancelled", "code", "error")


def failure_groups(job: "Job", number: int) -> FailurePage | None:
    """Page `number` of the job's failed URLs (cancelled ones after them, robots-blocked last),
    grouped, each group's URLs in natural order; None if none.
    A page past the end is PageOutOfRange (jobs.pagination)."""
    if not job.failed_count and not job.cancelled_count and not job.robots_blocked_count:
        return None
    failed = FailedUrl.objects.filter(job=job).order_by(*GROUP_FIELDS, "sort_key", "id")
    failed = failed.only("url", *GROUP_FIELDS)
    page = ListPaginator(failed, FAILED_URLS_PER_PAGE).page_or_out_of_range(number)

    def key_of(row: Any) -> tuple[Any, ...]:
        if isinstance(row, dict):
            return tuple(row[name] for name in GROUP_FIELDS)
        return tuple(getattr(row, name) for name in GROUP_FIELDS)

    keys = {key_of(row) for row in page.object_list}
    counts = {
        key_of(row): row["n"]
        for row in FailedUrl.objects.filter(job=job, code__in={key[2] for key in keys})
        .values(*GROUP_FIELDS)
        .annotate(n=Count("id"))
        .order_by()
        if key_of(row) in keys
    }
    groups = []
    for key, rows in groupby(page.object_list, key=key_of):
        robots_blocked, cancelled, code, error = key
        group = FailureGroup(robots_blocked, cancelled, code, error, count=counts.get(key, 0))
        group.urls = [row.url for row in rows]
        groups.append(group)
    return FailurePage(
        page=page,
        groups=groups,
        reported=job.failed_count + job.robots_blocked_count,
        cap=settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB,
    )


def iter_failed_urls(job: "Job") -> Iterator[FailedUrl]:
    """Every failed and robots-blocked URL of the job, in a stable order, a batch at a time."""
    failed = FailedUrl.objects.filter(job=job).order_by("id")
    last_id = 0
    while batch := list(failed.filter(id__gt=last_id)[:ROWS_PER_BATCH]):
        yield from batch
        last_id = batch[-1].id
