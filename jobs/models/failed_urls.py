"""A job's failed URLs: the URLs Firecrawl could not scrape (from /errors) or robots.txt blocked,
and the queries that read them back.

For display they are grouped by code and message, a page of URLs at a time: a job can have
thousands of failures sharing one long message, so the page shows each message once, with how
many URLs it hit, and the URLs under it in order. Downloads read them in keyset batches.
"""

import hashlib
import json
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


class FailedUrl(models.Model):
    """A URL Firecrawl could not scrape (from /errors), or one robots.txt blocked."""

    job = models.ForeignKey("jobs.Job", models.DB_CASCADE, related_name="failed_urls")
    url = models.TextField()
    remote_id = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    robots_blocked = models.BooleanField(default=False)
    # Identifies the entry across reads of /errors (which repeat every entry every time).
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["job", "robots_blocked", "code", "url", "id"]
        constraints = [
            models.UniqueConstraint(fields=["job", "fingerprint"], name="unique_failed_url"),
        ]
        indexes = [models.Index(fields=["job", "robots_blocked", "code"], name="failed_url_group")]

    def __str__(self) -> str:
        return self.url

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.fingerprint = self.fingerprint or self.identity()
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
    ) -> "FailedUrl":
        failed = cls(
            job=job,
            url=cut(url, MAX_URL),
            remote_id=cut(remote_id or "", 100),
            code=cut(code or "", 100),
            error=cut(error, MAX_MESSAGE),
            failed_at=failed_at,
            robots_blocked=robots,
        )
        failed.fingerprint = failed.identity()
        return failed


@dataclass
class FailureGroup:
    robots_blocked: bool
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


def failure_groups(job: "Job", number: int) -> FailurePage | None:
    """Page `number` of the job's failed URLs (robots-blocked last), grouped; None if none.
    A page past the end is PageOutOfRange (jobs.pagination)."""
    if not job.failed_count and not job.robots_blocked_count:
        return None
    failed = FailedUrl.objects.filter(job=job).order_by("robots_blocked", "code", "error", "url")
    failed = failed.only("url", "code", "error", "robots_blocked")
    page = ListPaginator(failed, FAILED_URLS_PER_PAGE).page_or_out_of_range(number)
    keys = {(row.robots_blocked, row.code, row.error) for row in page.object_list}
    counts = {
        (row["robots_blocked"], row["code"], row["error"]): row["n"]
        for row in FailedUrl.objects.filter(job=job, code__in={key[1] for key in keys})
        .values("robots_blocked", "code", "error")
        .annotate(n=Count("id"))
        .order_by()
        if (row["robots_blocked"], row["code"], row["error"]) in keys
    }
    groups = []
    for key, rows in groupby(page.object_list, key=lambda r: (r.robots_blocked, r.code, r.error)):
        group = FailureGroup(*key, count=counts.get(key, 0))
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
