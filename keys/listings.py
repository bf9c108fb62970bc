"""Finding a key's jobs on Firecrawl instead of pasting their ids: the listings, what they say
about jobs already tracked, and tracking the rest (from the import page or the worker).

Two listings exist, each on some servers only: `GET /v2/team/activity` (hosted Firecrawl: the
team's jobs of the last 24 hours, newest first, cursor pages) and `GET /v{1,2}/crawl/active`
(the team's running crawls; the 2026 self-hosted server has it). Either one saying a job is a
crawl or a batch scrape is the kind as fact, and its target is the crawl's start URL (or the
batch's first URL).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

import firecrawl_api
from firecrawl_api.client import FirecrawlClient
from firecrawl_api.text import clean_text
from jobs.models import Job
from keys import clients
from keys.budget import BudgetExhausted, RequestBudget
from keys.models import ApiKey

logger = logging.getLogger(__name__)

ACTIVITY_PAGE_SIZE = 100
# Pages of the activity listing read per kind (500 jobs): more than a team starts between two
# automatic imports, and a bound on what one import costs.
IMPORT_MAX_PAGES = 5


@dataclass(frozen=True)
class FoundJob:
    """A batch scrape or crawl one of the listings named."""

    id: str
    kind: str  # Job.Kind: "batch" or "crawl"
    created_at: datetime | None
    url: str


@dataclass
class Listing:
    """What the key's server listed. `supported` is False when it has neither listing."""

    jobs: list[FoundJob] = field(default_factory=list)
    supported: bool = False
    # The activity listing had more pages than IMPORT_MAX_PAGES.
    truncated: bool = False


def _unsupported(exc: firecrawl_api.FirecrawlError) -> bool:
    # NotSupported: no such route (Express's 404). A 501 is a self-hosted server that has the
    # activity route but no ClickHouse behind it: as good as no route.
    return isinstance(exc, firecrawl_api.NotSupported) or (
        isinstance(exc, firecrawl_api.UpstreamError) and exc.status_code == 501
    )


def list_recent(
    client: FirecrawlClient, *, max_pages: int | None = None, kinds: Iterable[str] = ()
) -> Listing:
    """The key's batch scrapes and crawls that its server lists, newest first, each once.

    The activity listing is read per kind (so single scrapes, searches… fill no page), at most
    `max_pages` pages each; `kinds` narrows the reading to those kinds. Errors other than "no
    such listing" are raised: the caller says what went wrong.
    """
    max_pages = IMPORT_MAX_PAGES if max_pages is None else max_pages
    wanted = tuple(kinds) or (Job.Kind.CRAWL, Job.Kind.BATCH)
    listing = Listing()
    found: dict[str, FoundJob] = {}
    if Job.Kind.CRAWL in wanted:
        try:
            for crawl in client.active_crawls():
                found[crawl.id] = FoundJob(crawl.id, Job.Kind.CRAWL, crawl.created_at, crawl.url)
            listing.supported = True
        except firecrawl_api.FirecrawlError as exc:
            if not _unsupported(exc):
                raise
    for kind in wanted:
        try:
            pages = _activity(client, kind, max_pages)
            for recent, truncated in pages:
                listing.truncated |= truncated
                for job in recent:
                    # The activity listing says more (its created_at covers batches too).
                    found[job.id] = FoundJob(job.id, job.kind, job.created_at, job.url)
            listing.supported = True
        except firecrawl_api.FirecrawlError as exc:
            if not _unsupported(exc):
                raise
            break  # no activity listing at all: asking for the other kind would say the same
    listing.jobs = sorted(
        found.values(),
        key=lambda job: (job.created_at is not None, job.created_at or timezone.now(), job.id),
        reverse=True,
    )
    return listing


def _activity(
    client: FirecrawlClient, kind: str, max_pages: int
) -> Iterable[tuple[list[firecrawl_api.RecentJob], bool]]:
    """The activity listing's pages for one kind: (jobs, whether pages were left unread)."""
    cursor: str | None = None
    for number in range(1, max_pages + 1):
        page = client.recent_jobs(kind=kind, limit=ACTIVITY_PAGE_SIZE, cursor=cursor)
        cursor = page.next_cursor
        yield page.jobs, cursor is not None and number == max_pages
        if cursor is None:
            return


def untracked(owner: object, jobs: Iterable[FoundJob]) -> list[FoundJob]:
    """The listed jobs this user does not track yet (with any of their keys), in order."""
    jobs = list(jobs)
    tracked = Job.objects.tracked_ids(owner, [job.id for job in jobs])
    return [job for job in jobs if job.id.lower() not in tracked]


def track_found(owner: object, key: ApiKey, jobs: Iterable[FoundJob]) -> list[Job]:
    """Track these listed jobs with `key` (the kind as the listing said it, and the target
    URL); returns the jobs tracked by this call, whose syncs the caller queues."""
    created = []
    for found in jobs:
        job, new = Job.objects.track(
            owner=owner,
            api_key=key,
            remote_id=found.id,
            kind=found.kind,
            target_url=clean_text(found.url),
        )
        if new:
            created.append(job)
    return created


def import_new_jobs(key: ApiKey) -> list[Job]:
    """The worker's automatic import for a key that opted in: track every listed job that the
    last round did not see (all of them on the first round) and the owner does not track yet.
    Paid from the key's request budget; returns the jobs it tracked (the caller queues their
    syncs)."""
    try:
        with clients.for_worker(key, RequestBudget(key.pk), max_retries=1) as client:
            listing = list_recent(client)
    except BudgetExhausted:
        # Our own pacing: the syncs of the key's jobs come first. The next round tries again.
        logger.info("Automatic import for key %s waits for its request budget", key.pk)
        return []
    except firecrawl_api.FirecrawlError as exc:
        ApiKey.objects.filter(pk=key.pk).update(import_error=clean_text(exc.message)[:500])
        logger.info("Automatic import for key %s: %s", key.pk, exc.message)
        return []
    seen = set(key.auto_import_seen)
    new = [job for job in listing.jobs if job.id.lower() not in seen]
    tracked = track_found(key.owner, key, untracked(key.owner_id, new))
    # What is listed now is all a later round could see again (the listings only shrink at
    # their old end), so it replaces what was seen before: the list stays the listing's size.
    ApiKey.objects.filter(pk=key.pk).update(
        import_error="" if listing.supported else NO_LISTING,
        auto_import_seen=sorted(job.id.lower() for job in listing.jobs),
    )
    if tracked:
        logger.info("Automatic import for key %s tracked %d job(s)", key.pk, len(tracked))
    return tracked


NO_LISTING = (
    "This Firecrawl server lists no jobs (it has neither the activity listing nor the list of "
    "active crawls): track its jobs by id on the Jobs page."
)


def describe_job(job: Job) -> bool:
    """Ask the listings about a job tracked by id, once, after its first read: its kind when
    that is a guess, and a crawl's start URL when it has none (a batch's first URL is not worth
    the requests). True if a listing named the job; what it said is stored with
    Job.objects.track, which only fills in what the job lacks."""
    kinds: tuple[str, ...] = ()
    if job.kind_confirmed:
        # Only a crawl's start URL is worth the requests; a batch shows its first URL when it
        # was started here or imported, and nothing is lost without it.
        if job.target_url or job.kind != Job.Kind.CRAWL:
            return False
        kinds = (Job.Kind.CRAWL,)
    key = job.api_key  # read only now: most jobs stop above
    if key is None:
        return False
    try:
        with clients.for_worker(key, RequestBudget(key.pk), max_retries=1) as client:
            listing = list_recent(client, kinds=kinds)
    except firecrawl_api.FirecrawlError as exc:
        logger.info("Could not describe job %s from the listings: %s", job.pk, exc.message)
        return False
    remote_id = str(job.remote_id).lower()
    for found in listing.jobs:
        if found.id.lower() == remote_id:
            _, created = Job.objects.track(
                owner=job.owner_id,
                api_key=key,
                remote_id=remote_id,
                kind=found.kind,
                target_url=clean_text(found.url),
            )
            return not created
    return False
