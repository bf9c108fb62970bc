"""The sync: advance one tracked job by reading Firecrawl's status pages into the local cache.

Every step is idempotent and commits as it goes, so a crash loses at most the page in flight,
which the next run fetches again. HTTP never happens inside a transaction, and a lease in the
database makes sure only one sync of a job runs at a time, whatever the number of workers.
"""

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from jobs import firecrawl
from jobs.bulk import insert_new
from jobs.models import ApiKey, Document, FailedUrl, Job, ProgressSample
from jobs.pagereader import PageReader
from jobs.ratelimit import BudgetExhausted, RequestBudget

logger = logging.getLogger(__name__)

# A 404 this soon after tracking is Firecrawl's creation race, not an expired job.
NOT_FOUND_GRACE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=10)

# The fields a sync writes. Saving only these leaves alone what views change meanwhile.
STATUS_FIELDS = [
    "status",
    "completed",
    "total",
    "credits_used",
    "expires_at",
    "remote_created_at",
    "remote_completed_at",
    "duration",
    "upstream_warning",
    "next_skip",
    "documents_cached",
    "fully_cached",
    "last_polled_at",
]


class JobGone(Exception):
    """The job was deleted (Stop tracking) while it was being synced."""


class LeaseLost(Exception):
    """This sync's lease ran out and another sync took the job over."""


@dataclass
class SyncResult:
    ran: bool = False
    pages: int = 0
    documents_added: int = 0
    error: str = ""


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.FIRECRAWL_SYNC_LEASE_SECONDS)


def poll_interval(job: Job, now: datetime) -> timedelta:
    """Poll running jobs often at first, then less as they age: most batches finish quickly."""
    base = settings.FIRECRAWL_POLL_INTERVAL
    age = now - job.created_at
    if age < timedelta(minutes=10):
        seconds = base
    elif age < timedelta(hours=1):
        seconds = base * 3
    else:
        seconds = base * 12
    return timedelta(seconds=seconds)


def failure_backoff(failures: int) -> timedelta:
    seconds = settings.FIRECRAWL_POLL_INTERVAL * 2 ** min(failures, 10)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def acquire_lease(job_pk: int) -> uuid.UUID | None:
    """Claim the job with a conditional UPDATE: whatever the number of workers, one wins."""
    now = timezone.now()
    token = uuid.uuid4()
    claimed = (
        Job.objects.filter(pk=job_pk)
        .filter(Q(lease_expires_at=None) | Q(lease_expires_at__lt=now))
        .update(lease_token=token, lease_expires_at=now + lease_duration())
    )
    return token if claimed else None


def release_lease(job_pk: int, token: uuid.UUID) -> None:
    Job.objects.filter(pk=job_pk, lease_token=token).update(lease_token=None, lease_expires_at=None)


def sync_job(job_pk: int) -> SyncResult:
    """Fetch every page Firecrawl has for the job now, store it, and schedule the next poll."""
    result = SyncResult()
    token = acquire_lease(job_pk)
    if token is None:
        return result
    result.ran = True
    try:
        job = Job.objects.select_related("api_key").get(pk=job_pk)
        if job.api_key is None:
            return result
        budget = RequestBudget(job.api_key.pk)
        client = firecrawl.FirecrawlClient(
            job.api_url,
            job.api_key.key,
            job.api_version,
            on_request=budget.spend,
            max_wait=settings.FIRECRAWL_MAX_RETRY_WAIT,
            backoff_base=settings.FIRECRAWL_RETRY_BACKOFF,
            read_timeout=settings.FIRECRAWL_READ_TIMEOUT,
        )
        reader = PageReader(job, budget)
        with client, reader:
            try:
                _fetch_pages(job, client, reader, token, result)
                if job.is_terminal and job.cache_done and job.errors_fetched_at is None:
                    _fetch_failed_urls(job, client)
                _record_success(job)
            except firecrawl.FirecrawlError as exc:
                result.error = _record_failure(job, exc)
    except (Job.DoesNotExist, JobGone):
        logger.info("Job %s was deleted during its sync", job_pk)
    except LeaseLost:
        # The job is another sync's now: this one writes nothing more (no failed URLs, no
        # next poll), which the other sync does under its own lease.
        logger.warning("Lost the lease on job %s; another sync took over", job_pk)
    finally:
        release_lease(job_pk, token)
    return result


def _fetch_pages(
    job: Job,
    client: firecrawl.FirecrawlClient,
    reader: PageReader,
    token: uuid.UUID,
    result: SyncResult,
) -> None:
    while True:
        try:
            page = reader.take(job.next_skip) or client.job_status(
                str(job.remote_id), skip=job.next_skip, kind=job.kind
            )
        except firecrawl.InvalidResponse as exc:
            if exc.job_status != Job.Status.FAILED:
                raise
            # A failed kickoff: HTTP 200 with success:false. The job is over, nothing to fetch.
            job.status = Job.Status.FAILED
            job.fully_cached = True
            job.upstream_warning = storable(exc.api_message or "")
            job.last_polled_at = timezone.now()
            _save(job, STATUS_FIELDS)
            return
        result.pages += 1
        following = job.next_skip + len(page.documents)
        if page.documents and page.next_skip is not None and following < page.completed:
            # More documents are done upstream than this page brings: the walk will surely
            # ask for the next page, so it is read while this one is stored.
            reader.start(following)
        added, repeated = _store_page(job, page, token)
        result.documents_added += added
        if repeated:
            # The self-hosted skip bug: the page repeats documents we have. Following `next`
            # would loop forever or store duplicates, so stop here and say so.
            job.pagination_stuck = True
            _save(job, ["pagination_stuck"])
            return
        if not job.is_terminal and job.next_skip >= page.completed:
            # Caught up with a running job: what completes from now on waits for the next
            # poll, instead of one sync chasing the tail of a fast job request after request.
            return
        if not page.documents or page.next_skip is None:
            # An empty page always ends the walk: a cancelled job's `next` points to itself.
            if job.is_terminal and not job.fully_cached:
                job.fully_cached = True
                _save(job, ["fully_cached"])
            return


def _store_page(job: Job, page: firecrawl.StatusPage, token: uuid.UUID) -> tuple[int, bool]:
    """Store the page's new documents and the job's counters, and renew the lease, in one
    transaction: a sync that lost its lease stores nothing.

    Returns (documents added, whether the page repeated documents already cached).
    """
    scrape_ids = [doc.scrape_id for doc in page.documents if doc.scrape_id]
    try:
        with transaction.atomic():
            known = set(
                Document.objects.filter(job=job, scrape_id__in=scrape_ids).values_list(
                    "scrape_id", flat=True
                )
            )
            fresh, seen = [], set()
            for doc in page.documents:
                if doc.scrape_id and (doc.scrape_id in known or doc.scrape_id in seen):
                    continue
                seen.add(doc.scrape_id)
                fresh.append(doc)
            # Positions are upstream offsets. When upstream repeats itself, new documents go
            # after what we have rather than at a position they do not hold.
            start = job.next_skip
            insert_new([_document(job, start + index, doc) for index, doc in enumerate(fresh)])
            job.next_skip = start + len(fresh)
            # Positions 0..next_skip-1 are all stored (each page commits whole), so no COUNT.
            job.documents_cached = job.next_skip
            _apply_status(job, page)
            job.last_polled_at = timezone.now()
            _save(job, STATUS_FIELDS, lease=token)
            _sample(job)
    except IntegrityError:
        # The job row vanished under us (foreign key); anything else is a real bug.
        if not Job.objects.filter(pk=job.pk).exists():
            raise JobGone from None
        raise
    return len(fresh), len(fresh) < len(page.documents)


# PostgreSQL refuses NUL in text, and no database driver encodes a lone surrogate (which JSON's
# "\ud800" escape decodes to).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """Text a database column can hold, with U+FFFD for the characters none can.

    Only the display columns go through this; `raw` keeps every character (as JSON escapes).
    """
    return _UNSTORABLE.sub("\ufffd", text)


def _document(job: Job, position: int, doc: firecrawl.ScrapedDocument) -> Document:
    # The text as received, when the parser kept it: exact, and free, where json.dumps cost more
    # than the parse. ASCII escapes keep the fallback storable whatever the strings hold.
    raw = doc.text if doc.text is not None else json.dumps(doc.raw, separators=(",", ":"))
    status_code = doc.status_code if doc.status_code and 0 < doc.status_code < 1000 else None
    return Document(
        job=job,
        position=position,
        scrape_id=storable(doc.scrape_id or "")[:100],
        source_url=storable(doc.source_url),
        url=storable(doc.url),
        title=storable(doc.title),
        status_code=status_code,
        error=storable(doc.error or ""),
        warning=storable(doc.warning or ""),
        size=len(raw),
        raw=raw,
    )


def _apply_status(job: Job, page: firecrawl.StatusPage) -> None:
    status = page.status if page.status in Job.Status.values else Job.Status.SCRAPING
    if status == Job.Status.COMPLETED and page.completed < page.total:
        # A replica that lags (or lies) about completion while documents are still coming:
        # believing it would end the walk early and lose the rest. Completed means all done.
        status = Job.Status.SCRAPING
    if job.is_terminal and status == Job.Status.SCRAPING:
        # Never step back from a terminal state because one read lagged behind.
        status = job.status
    job.status = status
    job.completed = max(page.completed, 0)
    job.total = max(page.total, 0)
    job.credits_used = page.credits_used
    job.expires_at = page.expires_at or job.expires_at
    job.remote_created_at = page.created_at or job.remote_created_at
    job.remote_completed_at = page.completed_at or job.remote_completed_at
    job.duration = page.duration if page.duration is not None else job.duration
    job.upstream_warning = storable(page.warning or "")


def _sample(job: Job) -> None:
    last = job.samples.order_by("-at").first()
    if last is None or (last.completed, last.total) != (job.completed, job.total):
        ProgressSample.objects.create(job=job, completed=job.completed, total=job.total)


def _fetch_failed_urls(job: Job, client: firecrawl.FirecrawlClient) -> None:
    try:
        listing = client.errors(str(job.remote_id), kind=job.kind)
    except firecrawl.NotFound:
        listing = firecrawl.ErrorsListing(errors=[], robots_blocked=[])
    rows = [
        FailedUrl(
            job=job,
            url=storable(item.url),
            remote_id=storable(item.id or "")[:100],
            code=storable(item.code or "")[:100],
            error=storable(item.error),
            failed_at=item.timestamp,
        )
        for item in listing.errors
    ]
    rows += [
        FailedUrl(job=job, url=storable(url), robots_blocked=True) for url in listing.robots_blocked
    ]
    with transaction.atomic():
        job.failed_urls.all().delete()
        FailedUrl.objects.bulk_create(rows, batch_size=500)
        job.errors_fetched_at = timezone.now()
        _save(job, ["errors_fetched_at"])


def _record_success(job: Job) -> None:
    now = timezone.now()
    job.consecutive_failures = 0
    if job.pagination_stuck:
        job.last_error = (
            f"Firecrawl returned the same page twice; {job.documents_cached:,} of "
            f"{max(job.total, job.documents_cached):,} documents could be fetched"
        )
    else:
        job.last_error = ""
    job.next_poll_at = now + poll_interval(job, now)
    _save(job, ["consecutive_failures", "last_error", "next_poll_at"])
    if job.api_key_id is not None:
        ApiKey.objects.filter(pk=job.api_key_id).update(last_used_at=now)


def _record_failure(job: Job, exc: firecrawl.FirecrawlError) -> str:
    """Turn an upstream failure into state the job page can show, and decide when to retry."""
    now = timezone.now()
    job.consecutive_failures += 1
    message = exc.message
    if isinstance(exc, BudgetExhausted):
        job.consecutive_failures -= 1  # our own pacing, not an upstream failure
        job.next_poll_at = now + timedelta(seconds=exc.retry_after)
    elif isinstance(exc, firecrawl.RateLimited):
        wait = max(round(exc.retry_after), 1)
        message = f"Rate limited by Firecrawl, retrying in {wait} s"
        job.next_poll_at = now + timedelta(seconds=wait)
    elif isinstance(exc, firecrawl.NotFound):
        if job.documents_cached == 0 and now - job.created_at < NOT_FOUND_GRACE:
            message = "Firecrawl does not know this job yet; trying again shortly"
            job.next_poll_at = now + timedelta(seconds=settings.FIRECRAWL_POLL_INTERVAL)
        else:
            job.expired_upstream = True
            if job.documents_cached:
                expected = max(job.total, job.documents_cached)
                message = (
                    f"Results expired upstream: {job.documents_cached:,} of {expected:,} "
                    "documents were cached"
                )
            else:
                message = "Job not found upstream: it expired, or this key cannot read it"
    elif isinstance(
        exc,
        (firecrawl.AuthError, firecrawl.PaymentRequired, firecrawl.Forbidden, firecrawl.BadRequest),
    ):
        # Retrying cannot help until the user fixes the key: stop polling and say why.
        job.needs_attention = True
    else:
        job.next_poll_at = now + failure_backoff(job.consecutive_failures)
    job.last_error = storable(message)[:500]
    fields = ["consecutive_failures", "next_poll_at", "expired_upstream", "needs_attention"]
    _save(job, [*fields, "last_error"])
    if isinstance(exc, firecrawl.AuthError) and job.api_key_id is not None:
        ApiKey.objects.filter(pk=job.api_key_id).update(last_error=message[:500])
    logger.info("Sync of job %s: %s", job.pk, message)
    return message


def _save(job: Job, fields: list[str], lease: uuid.UUID | None = None) -> None:
    """Write these fields of the job; with `lease`, only while holding it, and renew it."""
    now = timezone.now()
    values: dict[str, Any] = {name: getattr(job, name) for name in fields}
    rows = Job.objects.filter(pk=job.pk)
    if lease is not None:
        rows = rows.filter(lease_token=lease)
        values["lease_expires_at"] = now + lease_duration()
    if not rows.update(updated_at=now, **values):
        if lease is not None and Job.objects.filter(pk=job.pk).exists():
            raise LeaseLost
        raise JobGone
