"""A job's failed URLs for display: grouped by code and message, a page of URLs at a time.

A job can have thousands of failures sharing one long message, so the page shows each message
once, with how many URLs it hit, and the URLs under it in order.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby

from django.core.paginator import Page, Paginator
from django.db.models import Count

from jobs.models import FailedUrl, Job

URLS_PER_PAGE = 50
# Keyset batches for downloads: a failed-URL list of any length streams in flat memory.
ROWS_PER_BATCH = 500


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


def failure_groups(job: Job, number: int) -> FailurePage | None:
    """Page `number` of the job's failed URLs (robots-blocked last), grouped; None if none."""
    if not job.failed_count and not job.robots_blocked_count:
        return None
    failed = FailedUrl.objects.filter(job=job).order_by("robots_blocked", "code", "error", "url")
    paginator = Paginator(failed.only("url", "code", "error", "robots_blocked"), URLS_PER_PAGE)
    page = paginator.get_page(number)
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
    return FailurePage(page=page, groups=groups)


def iter_failed_urls(job: Job) -> Iterator[FailedUrl]:
    """Every failed and robots-blocked URL of the job, in a stable order, a batch at a time."""
    failed = FailedUrl.objects.filter(job=job).order_by("id")
    last_id = 0
    while batch := list(failed.filter(id__gt=last_id)[:ROWS_PER_BATCH]):
        yield from batch
        last_id = batch[-1].id
