"""Finding a key's jobs on Firecrawl instead of pasting their ids: the listings, what they say
about jobs already tracked, and tracking the rest (from the import page or the worker).

Two listings exist, each on some servers only: `GET /v2/team/activity` (hosted Firecrawl: the
team's jobs of the last 24 hours, newest first, cursor pages) and `GET /v{1,2}/crawl/active`
(the team's running crawls). Either one saying a job is a crawl or a batch scrape is the kind as
fact, and its target is the crawl's start URL (or the batch's first URL). The 2026 self-hosted
server has both routes, but without its database its activity listing answers 500: what
`/crawl/active` listed is kept, and the reading says the activity listing is unavailable.

Every reading is bounded (`Listing`): one page at a time, each page cut to the size asked, at
most FIRECRAWL_IMPORT_MAX_PAGES pages of each kind and FIRECRAWL_IMPORT_MAX_JOBS jobs in all.
The import page reads within one web deadline; the worker reads one page per task
(`import_step`), so a slow or endless listing never holds a worker longer than one deadline.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

import firecrawl_api
from firecrawl_api.client import FirecrawlClient
from firecrawl_api.text import cut
from firecrawl_api.wire import as_utc
from jobs.models import Job
from keys import clients
from keys.budget import BudgetExhausted, RequestBudget, backoff
from keys.models import ApiKey

logger = logging.getLogger(__name__)

ACTIVITY_PAGE_SIZE = 100
# A listed job's target URL, as kept (and signed into the import page's forms).
TARGET_CHARS = 1000
# How often a key set to track new jobs automatically lists its jobs: well under the 24 hours
# Firecrawl keeps them, and a few requests per key an hour. A round that fails makes the next one
# wait twice as long each time, at most MAX_IMPORT_BACKOFF.
IMPORT_INTERVAL = timedelta(minutes=5)
MAX_IMPORT_BACKOFF = timedelta(hours=1)

NO_LISTING = (
    "This Firecrawl server lists no jobs (it has neither the activity listing nor the list of "
    "active crawls): track its jobs by id on the Jobs page."
)


@dataclass(frozen=True)
class FoundJob:
    """A batch scrape or crawl one of the listings named."""

    id: str
    kind: str  # Job.Kind: "batch" or "crawl"
    created_at: datetime | None
    url: str


def _unsupported(exc: firecrawl_api.FirecrawlError) -> bool:
    # NotSupported: no such route (Express's 404). A 501: a server that says it has none.
    return isinstance(exc, firecrawl_api.NotSupported) or (
        isinstance(exc, firecrawl_api.UpstreamError) and exc.status_code == 501
    )


@dataclass
class Listing:
    """A reading of the key's listings, one page at a time (`read_next`): what it found so far,
    newest first (`jobs`), and what is left to read."""

    # Activity kinds still to read, the one being read first; the running crawls come first.
    kinds: list[str]
    crawls_left: bool = True
    cursor: str | None = None
    pages: int = 0  # pages read of kinds[0]
    found: dict[str, FoundJob] = field(default_factory=dict)
    # Some listing answered (False: the server has none).
    supported: bool = False
    # Why the activity listing could not be read ("" if it was, or the server has none).
    activity_unavailable: str = ""
    # Jobs were left unread: past the page or job caps, or out of time.
    truncated: bool = False

    @classmethod
    def of(cls, kinds: Iterable[str] = ()) -> "Listing":
        """A reading of these kinds of job (both when none is named)."""
        wanted = [kind for kind in (Job.Kind.CRAWL, Job.Kind.BATCH) if not kinds or kind in kinds]
        return cls(kinds=[str(kind) for kind in wanted], crawls_left=Job.Kind.CRAWL in wanted)

    @property
    def done(self) -> bool:
        return not self.crawls_left and not self.kinds

    @property
    def jobs(self) -> list[FoundJob]:
        """What was found, newest first."""
        return sorted(
            self.found.values(),
            key=lambda job: (job.created_at is not None, job.created_at or timezone.now(), job.id),
            reverse=True,
        )

    def read_next(self, client: FirecrawlClient) -> list[FoundJob]:
        """Read one page: the running crawls first, then the activity listing kind by kind.
        Returns the jobs this page named that the reading had not found yet.

        A listing the server lacks is skipped; an activity listing that fails upstream (5xx) is
        skipped and said (`activity_unavailable`). Other errors are raised, and the reading
        stays where it was.
        """
        if self.crawls_left:
            try:
                crawls = client.active_crawls(max_items=settings.FIRECRAWL_IMPORT_MAX_JOBS)
            except firecrawl_api.FirecrawlError as exc:
                if not _unsupported(exc):
                    raise
                self.crawls_left = False
                return []
            self.crawls_left = False
            self.supported = True
            return self._add(
                FoundJob(crawl.id, Job.Kind.CRAWL, crawl.created_at, cut(crawl.url, TARGET_CHARS))
                for crawl in crawls
            )
        kind = self.kinds[0]
        try:
            page = client.recent_jobs(kind=kind, limit=ACTIVITY_PAGE_SIZE, cursor=self.cursor)
        except firecrawl_api.FirecrawlError as exc:
            if _unsupported(exc):
                self.kinds = []  # no activity listing: asking for another kind says the same
                return []
            if isinstance(exc, firecrawl_api.UpstreamError):
                said = f": “{exc.api_message}”" if exc.api_message else ""
                self.activity_unavailable = f"it answered {exc.status_code}{said}"
                self.kinds = []
                return []
            raise
        self.supported = True
        self.pages += 1
        self.cursor = page.next_cursor
        if self.cursor is None or self.pages >= settings.FIRECRAWL_IMPORT_MAX_PAGES:
            self.truncated |= self.cursor is not None
            self.kinds.pop(0)
            self.cursor, self.pages = None, 0
        return self._add(
            FoundJob(job.id, job.kind, job.created_at, cut(job.url, TARGET_CHARS))
            for job in page.jobs
        )

    def _add(self, jobs: Iterable[FoundJob]) -> list[FoundJob]:
        new = []
        for job in jobs:
            if job.id in self.found:
                # The activity listing says more (its created_at covers batches too).
                self.found[job.id] = job
            elif len(self.found) >= settings.FIRECRAWL_IMPORT_MAX_JOBS:
                self.truncated = True
                self.crawls_left, self.kinds = False, []
                break
            else:
                self.found[job.id] = new_job = job
                new.append(new_job)
        return new

    def read_all(self, client: FirecrawlClient) -> str:
        """Read page after page until done or out of the client's time; returns what stopped
        the reading early, to say on the page ("" if nothing did). Raises when nothing could
        be read at all."""
        while not self.done:
            try:
                self.read_next(client)
            except firecrawl_api.DeadlineExceeded:
                if not self.supported:
                    raise
                self.truncated = True
                return "Firecrawl took too long to list more; here are the newest jobs it listed."
            except firecrawl_api.FirecrawlError as exc:
                if not self.supported:
                    raise
                return f"Firecrawl stopped listing jobs part of the way: {exc.message}"
        return ""

    def note(self) -> str:
        """What a person should know about this reading, for the keys page ("" if nothing)."""
        if not self.supported:
            return NO_LISTING
        if self.activity_unavailable:
            return activity_unavailable_note(self.activity_unavailable)
        return ""

    # The worker keeps a reading between two tasks on the key (ApiKey.import_round): where it
    # stands, and the ids it found (which is all a later round needs of them).

    def to_state(self) -> dict[str, Any]:
        return {
            "kinds": self.kinds,
            "crawls_left": self.crawls_left,
            "cursor": self.cursor,
            "pages": self.pages,
            "found": [[job.id, job.kind] for job in self.found.values()],
            "supported": self.supported,
            "activity_unavailable": self.activity_unavailable,
            "truncated": self.truncated,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "Listing":
        return cls(
            kinds=list(state["kinds"]),
            crawls_left=bool(state["crawls_left"]),
            cursor=state["cursor"],
            pages=int(state["pages"]),
            found={job_id: FoundJob(job_id, kind, None, "") for job_id, kind in state["found"]},
            supported=bool(state["supported"]),
            activity_unavailable=str(state["activity_unavailable"]),
            truncated=bool(state["truncated"]),
        )


def activity_unavailable_note(reason: str) -> str:
    return (
        f"The recent-activity listing is unavailable on this Firecrawl server ({reason}): "
        "only its running crawls are listed."
    )


def untracked(owner: object, jobs: Iterable[FoundJob]) -> list[FoundJob]:
    """The listed jobs this user does not track yet (with any of their keys), in order."""
    jobs = list(jobs)
    tracked = Job.objects.tracked_ids(owner, [job.id for job in jobs])
    return [job for job in jobs if job.id.lower() not in tracked]


def track_found(
    owner: Any, key: ApiKey, jobs: Iterable[FoundJob], *, origin: str = Job.Origin.TRACKED
) -> list[int]:
    """Track these listed jobs with `key` (the kind as the listing said it, and the target
    URL), in bulk; returns the pks of the jobs tracked by this call (the caller queues their
    syncs, jobs.tasks.request_syncs). `origin`: a person pressed Track, or the automatic import
    found them (Job.Origin)."""
    return Job.objects.track_many(
        owner=owner,
        api_key=key,
        listed=[(job.id, job.kind, job.url) for job in jobs],
        origin=origin,
    )


# The worker's automatic import: one page per task ---------------------------------------------


def import_step(key: ApiKey) -> tuple[list[int], datetime | None]:
    """One step of the key's automatic import round: read the next page of its listings and
    track the jobs on it that the last round did not see (all of them on a first round) and the
    owner does not track yet. Returns (the pks of the jobs tracked, when the round's next step
    is due: None when the round is over).

    A round begins with no state on the key and ends when the listings are read to their caps,
    or IMPORT_INTERVAL after it began; the next is due an interval after it began. A
    round that fails ends there, and the key's next round waits longer each time.
    """
    now = timezone.now()
    state = key.import_round or {}
    began = as_utc(state.get("began")) or now
    listing = Listing.from_state(state["listing"]) if state else Listing.of()
    client = None
    try:
        with clients.for_worker(
            key, RequestBudget(key.pk), max_retries=1, finish_by=clients.worker_budget()
        ) as client:
            new = listing.read_next(client)
    except BudgetExhausted as exc:
        # Our own pacing: the syncs of the key's jobs come first. The round goes on later.
        logger.info("Automatic import for key %s waits for its request budget", key.pk)
        return [], now + timedelta(seconds=exc.retry_after)
    except firecrawl_api.FirecrawlError as exc:
        _end_round(key, began, failed=exc.message)
        logger.info("Automatic import for key %s: %s", key.pk, exc.message)
        return [], None
    finally:
        if client is not None:
            key.note_speed(client.slowest)
    seen = set(key.auto_import_seen)
    tracked = track_found(
        key.owner,
        key,
        untracked(key.owner_id, [job for job in new if job.id not in seen]),
        origin=Job.Origin.IMPORTED,
    )
    if tracked:
        logger.info("Automatic import for key %s tracked %d job(s)", key.pk, len(tracked))
    if listing.done or timezone.now() - began >= IMPORT_INTERVAL:
        listing.truncated |= not listing.done
        _end_round(key, began, listing=listing)
        return tracked, None
    key.import_round = {"began": began.isoformat(), "listing": listing.to_state()}
    ApiKey.objects.filter(pk=key.pk).update(import_round=key.import_round)
    return tracked, timezone.now()


def _end_round(
    key: ApiKey, began: datetime, *, listing: Listing | None = None, failed: str = ""
) -> None:
    if listing is None:
        failures = key.import_failures + 1
        wait = backoff(IMPORT_INTERVAL.total_seconds(), failures, MAX_IMPORT_BACKOFF)
        ApiKey.objects.filter(pk=key.pk).update(
            import_round=None,
            import_failures=failures,
            import_due_at=timezone.now() + wait,
            import_error=failed[:500],
        )
        return
    # What is listed now is all a later round could see again (the listings only shrink at
    # their old end), so it replaces what was seen before, unless the round was cut short.
    seen = [job_id.lower() for job_id in listing.found]
    if listing.truncated:
        seen += key.auto_import_seen
    ApiKey.objects.filter(pk=key.pk).update(
        import_round=None,
        import_failures=0,
        import_due_at=began + IMPORT_INTERVAL,
        import_error=listing.note()[:500],
        auto_import_seen=sorted(set(seen))[: 2 * settings.FIRECRAWL_IMPORT_MAX_JOBS],
    )


# What the listings say about a job tracked by id ------------------------------------------------


def describe_job(job: Job) -> bool:
    """Learn a tracked job's kind and target URL from the listings, when it lacks either (a
    bare id or a pasted URL), within one worker deadline. Asked once, after the job's first
    read; True if the job learned anything. Only updates the job as it is: a job deleted or
    stopped meanwhile stays so."""
    kinds = job.description_wanted()
    if kinds is None:
        return False
    key = job.api_key  # read only now: most jobs stop above
    if key is None:
        return False
    remote_id = str(job.remote_id).lower()
    listing = Listing.of(kinds)
    client = None
    try:
        with clients.for_worker(
            key, RequestBudget(key.pk), max_retries=1, finish_by=clients.worker_budget()
        ) as client:
            while not listing.done and remote_id not in listing.found:
                listing.read_next(client)
    except firecrawl_api.FirecrawlError as exc:
        logger.info("Could not describe job %s from the listings: %s", job.pk, exc.message)
    finally:
        if client is not None:
            key.note_speed(client.slowest)
    found = listing.found.get(remote_id)
    if found is None:
        return False
    rows = Job.objects.tracked().filter(pk=job.pk)
    return bool(rows.learn(kind=found.kind, target_url=found.url))
