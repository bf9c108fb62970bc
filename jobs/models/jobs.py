"""A tracked Firecrawl job and its state machine: what Firecrawl last said, where the cache
stands, and when to read it again.

Every rule about a job's life lives here: when a read settles it, what a failure means, when the
next poll is due, who may write it (a lease). The sync (jobs.sync) only orchestrates: it reads
Firecrawl and hands each answer to these methods. HTTP never happens in this module.
"""

import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from firecrawl_api.ids import parse_job_reference
from firecrawl_api.text import MAX_MESSAGE, MAX_URL, cut
from jobs.models import search_index
from jobs.models.documents import Document
from jobs.models.failed_urls import FailedUrl
from jobs.models.fast_insert import BATCH, insert_new
from jobs.models.screenshots import Screenshot
from keys.budget import backoff
from keys.models import ApiKey

if TYPE_CHECKING:
    import firecrawl_api

# A 404 this soon after tracking is Firecrawl's creation race, not an unknown job.
NOT_FOUND_GRACE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=10)
# Rows deleted per transaction when a stopped job's data goes (documents can be large).
PURGE_BATCH = 200
# Reads woken by page events come at most this often per job: a batch completing 20 pages a
# second is read about once a second, not 20 times.
WAKE_SPACING = timedelta(seconds=1)


class JobGone(Exception):
    """The job was deleted (Stop tracking) while it was being synced."""


class LeaseLost(Exception):
    """This sync no longer holds the job: its lease ran out and another sync took the job over,
    or the owner's action (Refresh now, another key) took the lease away."""


@dataclass(frozen=True)
class Completeness:
    complete: bool
    # Why not, in a sentence (empty when complete).
    note: str


@dataclass(frozen=True)
class Progress:
    """How far a job has come, in pages: what the progress bar, the page's and the list's
    counts, the chart and the API all show (Job.progress).

    Firecrawl's `total` leaves out the URLs that failed, so done counts them: done = scraped +
    failed + cancelled, of done + pending; for a batch started here, of the URLs it was started
    with (a URL that is neither scraped, failed nor pending is still to be accounted for). For a
    batch tracked by id the status and /errors are read a moment apart, so until it settles the
    sum can be a URL or two off while URLs fail."""

    scraped: int
    # URLs Firecrawl could not scrape, and URLs left unscraped by a cancel (from /errors).
    failed: int
    cancelled: int
    # Pages Firecrawl still counts as to do (its total less what it has scraped).
    pending: int
    # The denominator: every page (or URL) the job is about, as far as is known now.
    total: int

    @property
    def done(self) -> int:
        return self.scraped + self.failed + self.cancelled

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * self.done / self.total))

    def segments(self) -> list[tuple[str, float, float]]:
        """The bar's parts, scraped then failed then cancelled: (name, start, width), in
        percent of the total."""
        parts, start = [], 0.0
        for name, count in (
            ("scraped", self.scraped),
            ("failed", self.failed),
            ("cancelled", self.cancelled),
        ):
            width = 100 * count / self.total if self.total else 0.0
            width = min(width, 100 - start)
            if width > 0:
                parts.append((name, round(start, 3), round(width, 3)))
            start += width
        return parts


@dataclass(frozen=True)
class Attention:
    """Why a job needs its owner to look at it (Job.attention): its status word, shown instead
    of Firecrawl's, and the reason, in a sentence."""

    word: str
    reason: str
    # The CSS name of the word's colour.
    tone: str


@dataclass(frozen=True)
class PageOutcome:
    added: int
    # The page repeated documents already cached (a self-hosted server's skip bug).
    repeated: bool
    # The job reached FIRECRAWL_MAX_DOCUMENTS_PER_JOB with this page.
    capped: bool
    # Screenshots of the new documents waiting to be kept (jobs.screenshots fetches them).
    screenshots: int = 0


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.FIRECRAWL_SYNC_LEASE_SECONDS)


def settle_interval() -> timedelta:
    return timedelta(seconds=settings.FIRECRAWL_SETTLE_SECONDS)


class JobQuerySet(models.QuerySet["Job"]):
    def tracked(self) -> "JobQuerySet":
        """Jobs not on their way out (Job.stop_tracking): every page and listing shows only
        these."""
        return self.filter(stopped_at=None)

    def for_user(self, user: Any) -> "JobQuerySet":
        return self.tracked().filter(owner=user)

    def active(self) -> "JobQuerySet":
        """Jobs a poll could still change: the query form of Job.is_active."""
        return self.tracked().filter(sync_state=Job.SyncState.ACTIVE, api_key__isnull=False)

    def for_list(self) -> "JobQuerySet":
        """What a list of jobs reads: not a batch's URLs or its start options."""
        return self.defer("start_urls", "start_options", "invalid_urls")

    def needing_attention(self) -> "JobQuerySet":
        """Jobs that need their owner: the query form of Job.attention."""
        return self.filter(attention_q())

    def with_status_word(self, status: str) -> "JobQuerySet":
        """Jobs the lists show with this status: Firecrawl's, unless the job needs attention
        (then its own word is shown instead)."""
        return self.filter(status=status).exclude(attention_q())

    def matching(self, text: str) -> "JobQuerySet":
        """Jobs whose label or start URL contains `text`, or whose Firecrawl id it holds."""
        found = Q(label__icontains=text) | Q(target_url__icontains=text)
        reference = parse_job_reference(text)
        if reference is not None:
            found |= Q(remote_id=reference.id)
        return self.filter(found)

    def needing_sync(self, now: datetime | None = None) -> "JobQuerySet":
        """Active jobs whose next poll is due and that nobody is syncing (Job.needs_sync)."""
        now = now or timezone.now()
        free = Q(lease_expires_at=None) | Q(lease_expires_at__lte=now)
        return self.active().filter(free, next_poll_at__lte=now)

    def acquire_lease(self, pk: int) -> uuid.UUID | None:
        """Claim the job with a conditional UPDATE: whatever the number of workers, one wins."""
        now = timezone.now()
        token = uuid.uuid4()
        free = Q(lease_expires_at=None) | Q(lease_expires_at__lte=now)
        claimed = self.filter(free, pk=pk).update(
            lease_token=token, lease_expires_at=now + lease_duration()
        )
        return token if claimed else None

    def wake(self, pk: int, *, at: datetime, errors: bool = False, event: bool = True) -> bool:
        """Firecrawl's webhook said the job changed: record the event (unless `event` is False:
        the sync re-applies a wake its own write overtook), and make the job due at `at` unless
        it is due sooner (with `errors`, its next read includes /errors). Only an active job
        that is not backing off is woken: a 429's wait, a failing server's backoff and a settled
        or paused job stay as they are. True if the job was woken."""
        values: dict[str, Any] = {
            "next_poll_at": Case(
                When(next_poll_at__gt=at, then=Value(at)), default=F("next_poll_at")
            ),
        }
        if event:
            values["event_at"] = timezone.now()
        if errors:
            values["errors_signature"] = ""
        return bool(self.active().filter(pk=pk, consecutive_failures=0).update(**values))

    def release_lease(self, pk: int, token: uuid.UUID) -> None:
        self.filter(pk=pk, lease_token=token).update(lease_token=None, lease_expires_at=None)

    def track(
        self,
        *,
        owner: Any,
        api_key: ApiKey,
        remote_id: str,
        kind: str | None = None,
        label: str = "",
        target_url: str = "",
        retry_of: "Job | None" = None,
        start_options: dict[str, Any] | None = None,
        invalid_urls: list[str] | None = None,
        start_urls: list[str] | None = None,
        source_name: str = "",
        origin: str | None = None,
    ) -> tuple["Job", bool]:
        """The owner's job with this id, tracked with `api_key` unless it already was.

        `kind` is None when nobody knows it (a bare id): the sync then asks Firecrawl for a
        batch first, then a crawl, and the kind shows as unconfirmed. Returns (job, created).
        An existing job keeps what it has and learns what it lacked: the kind when it was a
        guess, the target URL, and the start options of a job started here (the worker's import
        may have tracked it from the activity listing a moment before the start finished).
        `start_urls`: a batch's URLs as started here (Run again sends them again); the URLs
        Firecrawl accepted are counted (Job.url_count), the progress's denominator.
        `origin` says which path found the job (Job.Origin; by default a person tracked it).
        """
        started: dict[str, Any] = {}
        if start_options is not None:
            started = {
                "start_options": start_options,
                "invalid_urls": invalid_urls or [],
                "start_urls": start_urls or [],
                "source_name": cut(source_name, 200),
                "url_count": Job.accepted_urls(start_urls, invalid_urls),
            }
        target_url = cut(target_url, MAX_URL)
        existing = self.tracked().filter(owner=owner, remote_id=remote_id).first()
        if existing is not None:
            learned: dict[str, Any] = existing.lacking(kind=kind, target_url=target_url)
            if started and existing.start_options is None:
                learned.update(started)
                # Started here after all, whatever found it first.
                learned["origin"] = Job.Origin.STARTED
            if retry_of is not None and existing.retry_of_id is None:
                learned["retry_of"] = retry_of
            if learned:
                self.filter(pk=existing.pk).update(**learned)
                for name, value in learned.items():
                    setattr(existing, name, value)
            return existing, False
        try:
            with transaction.atomic():
                job = self.create(
                    owner=owner,
                    api_key=api_key,
                    api_url=api_key.api_url,
                    api_version=api_key.api_version,
                    kind=kind or Job.Kind.BATCH,
                    kind_confirmed=kind is not None,
                    remote_id=remote_id,
                    label=label,
                    target_url=target_url,
                    retry_of=retry_of,
                    **started,
                    origin=origin or Job.Origin.TRACKED,
                )
        except IntegrityError:
            # A double submit raced us to it: the one that won is the job.
            return self.tracked().get(owner=owner, remote_id=remote_id), False
        return job, True

    def track_many(
        self,
        *,
        owner: Any,
        api_key: ApiKey,
        listed: "Iterable[tuple[str, str, str]]",
        origin: str | None = None,
    ) -> list[int]:
        """Track these (job id, kind, target URL), as a listing named them (the kind is fact),
        with `api_key`: those the owner does not track yet, a few statements per BATCH jobs
        whatever their number. Returns the new jobs' pks. `origin` as for track()."""
        created: list[int] = []
        rows = list(listed)
        for start in range(0, len(rows), BATCH):
            chunk = {
                remote_id.lower(): (kind, url) for remote_id, kind, url in rows[start:][:BATCH]
            }
            new = set(chunk) - self.tracked_ids(owner, chunk)
            if not new:
                continue
            before = timezone.now()
            Job.objects.bulk_create(
                [
                    Job(
                        owner=owner,
                        api_key=api_key,
                        api_url=api_key.api_url,
                        api_version=api_key.api_version,
                        kind=chunk[remote_id][0],
                        kind_confirmed=True,
                        remote_id=remote_id,
                        target_url=cut(chunk[remote_id][1], MAX_URL),
                        origin=origin or Job.Origin.TRACKED,
                    )
                    for remote_id in sorted(new)
                ],
                # Another request may track one of them meanwhile: that one stays.
                ignore_conflicts=True,
            )
            ids = [uuid.UUID(remote_id) for remote_id in new]
            created += (
                self.tracked()
                .filter(owner=owner, remote_id__in=ids, created_at__gte=before)
                .values_list("pk", flat=True)
            )
        return created

    def tracked_ids(self, owner: Any, remote_ids: "Iterable[str]") -> set[str]:
        """Which of these job ids the owner tracks already (with any key), as lowercase text.
        Asked BATCH ids at a time: a listing of any length never makes one long `IN` list."""
        ids = sorted({uuid.UUID(remote_id) for remote_id in remote_ids})
        found: set[str] = set()
        for start in range(0, len(ids), BATCH):
            rows = self.tracked().filter(owner=owner, remote_id__in=ids[start : start + BATCH])
            found.update(str(remote_id) for remote_id in rows.values_list("remote_id", flat=True))
        return found

    def purge(self, pk: int, *, seconds: float) -> bool:
        """Delete a stopped job's rows for about `seconds`, a batch per transaction, then the
        job; True once it is gone. The one place a job's data is deleted (Job.stop_tracking):
        100,000 documents go without holding the database from anyone for long."""
        job = Job(pk=pk)
        give_up_at = time.monotonic() + seconds
        for related in (job.samples, job.failed_urls, job.documents):
            while ids := list(related.order_by().values_list("pk", flat=True)[:PURGE_BATCH]):
                related.model._base_manager.filter(pk__in=ids).delete()
                if time.monotonic() > give_up_at:
                    return False
        # Whatever a sync still in flight added meanwhile goes with the row (DB_CASCADE).
        self.filter(pk=pk, stopped_at__isnull=False).delete()
        return True

    def learn(self, *, kind: str | None = None, target_url: str = "") -> int:
        """Tell these jobs what a listing said of them (the kind as fact, a target URL), where
        they lack it: an UPDATE of existing rows only, so a job deleted meanwhile stays gone.
        Returns how many rows learned something."""
        learned = 0
        if kind is not None:
            learned += self.filter(kind_confirmed=False).update(kind=kind, kind_confirmed=True)
        if target_url:
            learned += self.filter(target_url="").update(target_url=cut(target_url, MAX_URL))
        return learned


class Job(models.Model):
    class Kind(models.TextChoices):
        BATCH = "batch", "Batch scrape"
        CRAWL = "crawl", "Crawl"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SCRAPING = "scraping", "Scraping"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class SyncState(models.TextChoices):
        # Polled until Firecrawl's answer has stopped changing.
        ACTIVE = "active", "Active"
        # Over upstream, everything cached, and two reads a settle interval apart agreed.
        SETTLED = "settled", "Settled"
        # Only the user can fix what stopped it (a rejected key, no credits, a URL not allowed).
        PAUSED = "paused", "Paused"
        # Firecrawl deleted the results after we had read the job: the cache is what is left.
        EXPIRED = "expired", "Expired upstream"
        # Firecrawl never knew this id (with this key, server and API version).
        NOT_FOUND = "not_found", "Not found on Firecrawl"

    class Origin(models.TextChoices):
        # How the job came to be tracked: notifications announce the ones nobody here asked for.
        TRACKED = "tracked", "Tracked by id"
        STARTED = "started", "Started here"
        IMPORTED = "imported", "Imported automatically"
        WEBHOOK = "webhook", "Announced by a webhook"

    TERMINAL = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)
    # Found by the worker rather than by a person: "new jobs found" notifications.
    FOUND_ORIGINS = (Origin.IMPORTED, Origin.WEBHOOK)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="jobs")
    # Kept when the key is deleted, so the cache stays browsable; syncing then stops.
    # Deletes cascade in the database (DB_*), so a 100,000-document job goes in one statement.
    api_key = models.ForeignKey(
        ApiKey, models.DB_SET_NULL, null=True, blank=True, related_name="jobs"
    )
    api_url = models.URLField("API URL")
    api_version = models.CharField("API version", max_length=2, choices=ApiKey.Version.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BATCH)
    # False while the kind is a guess: a bare id answered as a batch, which the 2026 server
    # does for crawls too (its status route does not check the kind).
    kind_confirmed = models.BooleanField(default=True)
    remote_id = models.UUIDField("Job ID")
    label = models.CharField(max_length=200, blank=True)
    # A crawl's start URL (or a batch's first URL), where Firecrawl or the start form said it.
    target_url = models.TextField(blank=True)
    # A batch started here to retry another job's failed URLs.
    retry_of = models.ForeignKey(
        "self", models.DB_SET_NULL, null=True, blank=True, related_name="retries"
    )
    # The body options sent to Firecrawl (formats, limit…; not the URLs) when the job was
    # started from this dashboard, so a retry of its failed URLs can reuse them; None otherwise.
    start_options = models.JSONField(null=True, blank=True)
    # URLs Firecrawl refused as invalid when the job was started here (its `invalidURLs`).
    invalid_urls = models.JSONField(default=list, blank=True)
    # A batch's URLs as started here, each once (Run again starts them again; at most
    # FIRECRAWL_START_MAX_URLS), the file they came from, and how many Firecrawl accepted: the
    # progress's denominator. Lists never load the URLs (JobQuerySet.for_list).
    start_urls = models.JSONField(default=list, blank=True)
    source_name = models.CharField(max_length=200, blank=True)
    url_count = models.PositiveIntegerField(null=True, blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.TRACKED)
    # The owner asked for no notifications about this job.
    notifications_muted = models.BooleanField(default=False)

    # What Firecrawl last said about the job.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    completed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    credits_used = models.IntegerField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    remote_completed_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)
    upstream_warning = models.TextField(blank=True)
    # From /errors: how many URLs Firecrawl could not scrape, and robots.txt kept it from (the
    # most any read listed), and how many failed URLs are stored: at most
    # FIRECRAWL_MAX_FAILED_URLS_PER_JOB rows of both kinds are kept.
    failed_count = models.PositiveIntegerField(default=0)
    robots_blocked_count = models.PositiveIntegerField(default=0)
    # URLs /errors lists as left unscraped by a cancel: counted apart from the failed ones
    # (failed_count and failed_stored never include them).
    cancelled_count = models.PositiveIntegerField(default=0)
    failed_stored = models.PositiveIntegerField(default=0)

    # Where the local cache stands.
    next_skip = models.PositiveIntegerField(default=0)
    documents_cached = models.PositiveIntegerField(default=0)
    fully_cached = models.BooleanField(default=False)
    # Upstream repeated a page instead of moving on (a self-hosted server's skip bug).
    pagination_stuck = models.BooleanField(default=False)

    # The sync's own state.
    sync_state = models.CharField(
        max_length=20, choices=SyncState.choices, default=SyncState.ACTIVE
    )
    # The counts (status|completed|total|failed|blocked) of the last terminal read, and when they
    # were first seen: the job settles on a read a settle interval later that agrees.
    settle_signature = models.CharField(max_length=200, blank=True)
    settle_seen_at = models.DateTimeField(null=True, blank=True)
    # The status counts when /errors was last read: read again whenever they change.
    errors_signature = models.CharField(max_length=200, blank=True)
    errors_fetched_at = models.DateTimeField(null=True, blank=True)
    # /errors was due when a sync ran out of time: the next sync reads it first.
    errors_pending = models.BooleanField(default=False)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # When the present trouble began (the first failed read, or the pause, since the last good
    # read or the user's last Refresh): each episode of trouble is one notification.
    trouble_since = models.DateTimeField(null=True, blank=True)
    # When the job last settled (its "finished" notification).
    settled_at = models.DateTimeField(null=True, blank=True)
    # At most one sync per job: whoever holds an unexpired lease is syncing it.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When Firecrawl's webhook last told us something about the job (jobs.webhooks): it is read
    # at once, and while events keep coming its poll relaxes to a safety net.
    event_at = models.DateTimeField(null=True, blank=True)
    # When a queued sync task is due; lets many pollers ask for a sync while only one is queued.
    sync_queued_for = models.DateTimeField(null=True, blank=True)
    # The same for the task that indexes new documents for search (see jobs.search).
    index_queued_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Its owner stopped tracking it: no page shows it any more, and its rows are deleted in the
    # background, a batch at a time (JobQuerySet.purge), then the job itself.
    stopped_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A job id names one job whatever its kind (one being deleted aside: its owner may
            # track the id again at once).
            models.UniqueConstraint(
                fields=["owner", "remote_id"],
                condition=Q(stopped_at=None),
                name="unique_job_per_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            # What the notifications' scan looks for: recent events only (notifications.events).
            models.Index(fields=["sync_state", "settled_at"]),
            models.Index(fields=["trouble_since"]),
            models.Index(fields=["expires_at"]),
            models.Index(fields=["origin", "created_at"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """The label, else a readable name: a crawl's host, a batch's file or its size."""
        if self.label:
            return self.label
        short = f"{str(self.remote_id)[:8]}…"
        host = _host(self.target_url)
        count = self.url_count or self.progress.total
        if not self.kind_confirmed:
            # Firecrawl answers a batch's id and a crawl's alike: say only what is known.
            return f"Job of {count:,} page{'' if count == 1 else 's'}" if count else f"Job {short}"
        if self.kind == self.Kind.CRAWL:
            return f"Crawl of {host}" if host else f"Crawl {short}"
        if self.source_name:
            return self.source_name
        if count:
            return f"Batch of {count:,} URL{'' if count == 1 else 's'}"
        return f"Batch from {host}" if host else f"Batch {short}"

    @staticmethod
    def accepted_urls(urls: list[str] | None, invalid: list[str] | None) -> int | None:
        """How many of a batch's URLs Firecrawl took (it skips the invalid ones); None for a
        crawl or a job not started here."""
        if not urls:
            return None
        return max(len(urls) - len(invalid or []), 0)

    # -- Reading the state -----------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        """A poll could still change this job (JobQuerySet.active() is the query form)."""
        return (
            self.sync_state == self.SyncState.ACTIVE
            and self.api_key_id is not None
            and self.stopped_at is None
        )

    @property
    def is_settled(self) -> bool:
        return self.sync_state == self.SyncState.SETTLED

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def cache_done(self) -> bool:
        """Every document upstream can give us is cached."""
        return self.fully_cached or (self.pagination_stuck and self.is_terminal)

    @property
    def is_complete(self) -> bool:
        """The cache holds all the job will ever have: Firecrawl has settled, nothing is missing."""
        return self.is_settled and self.fully_cached and not self.pagination_stuck

    @property
    def completeness(self) -> Completeness:
        """Whether the cache holds everything the job will ever have (is_complete), and if not,
        why: what the zip's manifest says, in the terms the job page counts in."""
        cached, expected = self.documents_cached, self.documents_expected
        if self.is_complete:
            return Completeness(True, "")
        if self.sync_state == self.SyncState.EXPIRED:
            note = f"Results expired upstream: {cached} of {expected} documents were cached."
        elif self.is_terminal and self.cache_done and not self.pagination_stuck:
            note = (
                "Firecrawl had not settled the job's final numbers when this was downloaded: "
                f"it holds the {cached} documents cached so far."
            )
        elif not self.is_terminal:
            note = (
                f"The job was still {self.status} when this was downloaded: it holds the "
                f"{cached} documents cached so far."
            )
        elif self.pagination_stuck:
            note = "Firecrawl stopped paging before every document was read."
        else:
            note = f"Cached {cached} of {expected} documents so far."
        return Completeness(False, note)

    @property
    def can_cancel(self) -> bool:
        """Whether Cancel job is offered (and accepted): a job still running upstream as far as
        is known, with a key to ask with. An expired job, or one Firecrawl never knew, has
        nothing left to cancel."""
        gone = (self.SyncState.EXPIRED, self.SyncState.NOT_FOUND)
        return self.api_key_id is not None and not self.is_terminal and self.sync_state not in gone

    @property
    def run_time(self) -> timedelta | None:
        """How long the job has run: Firecrawl's own duration once it gives one, else from its
        creation to its completion, or to now while it runs. None when nothing says."""
        if self.duration is not None:
            return timedelta(seconds=self.duration)
        started = self.remote_created_at
        if started is None:
            return None
        if self.remote_completed_at is not None:
            return self.remote_completed_at - started
        if self.is_terminal:
            return None
        return timezone.now() - started

    def needs_sync(self, now: datetime | None = None) -> bool:
        """Active, due, and nobody is syncing it (JobQuerySet.needing_sync() is the query form)."""
        now = now or timezone.now()
        free = self.lease_expires_at is None or self.lease_expires_at <= now
        return self.is_active and free and self.next_poll_at <= now

    @property
    def scraped(self) -> int:
        """Pages Firecrawl has scraped. Its `completed` can lag the documents it already lists,
        so this is never less than what is cached."""
        return max(self.completed, self.documents_cached)

    @property
    def failures_listed(self) -> int:
        """The URLs the Failed URLs section lists: failed, cancelled and robots-blocked."""
        return self.failed_count + self.cancelled_count + self.robots_blocked_count

    @property
    def documents_expected(self) -> int:
        """Documents the job will have, as far as is known now (failed URLs have none)."""
        return max(self.total, self.documents_cached)

    @property
    def progress(self) -> Progress:
        """Done (scraped, failed or cancelled) of every page the job is about: the one
        definition of a job's progress (see Progress)."""
        scraped = self.scraped
        pending = max(self.total - scraped, 0)
        done = scraped + self.failed_count + self.cancelled_count
        if self.kind == self.Kind.BATCH and self.url_count:
            # Its size is known: the status and /errors, read a moment apart, can count a URL
            # that failed in between twice (still in `total`, already failed), never the batch.
            return Progress(
                scraped, self.failed_count, self.cancelled_count, pending, max(self.url_count, done)
            )
        return Progress(scraped, self.failed_count, self.cancelled_count, pending, done + pending)

    @property
    def attention(self) -> Attention | None:
        """Why the job needs its owner now, or None: not found on Firecrawl, paused until the
        owner acts, or retrying after failed reads (JobQuerySet.needing_attention is the query
        form). Such a job never shows as Pending."""
        if self.sync_state == self.SyncState.NOT_FOUND:
            return Attention(
                "Not found", self.last_error or "Firecrawl does not know this id.", "bad"
            )
        if self.sync_state == self.SyncState.PAUSED:
            return Attention("Paused", self.last_error or "Polling is paused.", "warn")
        if self.sync_state == self.SyncState.ACTIVE and self.api_key_id is None:
            return Attention("Paused", "Its API key was deleted: choose another key.", "warn")
        if self.sync_state == self.SyncState.ACTIVE and self.consecutive_failures:
            return Attention("Retrying", self.last_error or "Reading it failed.", "warn")
        return None

    @property
    def status_word(self) -> str:
        """What the lists and the page call the job's state: its attention word, else
        Firecrawl's status."""
        attention = self.attention
        return attention.word if attention else self.get_status_display()

    @property
    def expires_in(self) -> timedelta | None:
        if self.expires_at is None or self.sync_state == self.SyncState.EXPIRED:
            return None
        return self.expires_at - timezone.now()

    def description_wanted(self) -> tuple[str, ...] | None:
        """Which kinds of the listings could tell this job what it lacks (its kind, a crawl's
        start URL): () for both, None when nothing is worth the requests (a batch shows its
        first URL when it was started here or imported, and nothing is lost without it)."""
        if not self.kind_confirmed:
            return ()
        if self.kind == self.Kind.CRAWL and not self.target_url:
            return (self.Kind.CRAWL,)
        return None

    @property
    def failed_urls_capped(self) -> bool:
        """Firecrawl listed more failed URLs than are stored (FIRECRAWL_MAX_FAILED_URLS_PER_JOB)."""
        return self.failed_stored < self.failed_count

    def lacking(self, *, kind: str | None = None, target_url: str = "") -> dict[str, Any]:
        """What a listing or a pasted URL says that this job does not know yet: the kind when
        it was a guess, the target URL when it has none."""
        learned: dict[str, Any] = {}
        if kind is not None and not self.kind_confirmed:
            learned.update(kind=kind, kind_confirmed=True)
        if target_url and not self.target_url:
            learned["target_url"] = cut(target_url, MAX_URL)
        return learned

    def upstream_signature(self) -> str:
        return "|".join(
            str(value)
            for value in (
                self.status,
                self.completed,
                self.total,
                self.failed_count,
                self.cancelled_count,
                self.robots_blocked_count,
            )
        )

    def errors_due(self) -> bool:
        """/errors is read again whenever the counts changed since it was last read, and on
        every read while the job settles (the failed count is part of what must agree)."""
        counts = f"{self.status}|{self.completed}|{self.total}"
        return self.errors_signature != counts or (self.is_terminal and not self.is_settled)

    # -- The sync's writes (each under the sync's lease) -----------------------------------------

    def save_fields(self, fields: list[str], lease: uuid.UUID | None = None) -> None:
        """Write these fields of the job; with `lease`, only while holding it, and renew it.

        Only the named fields: what the web changes meanwhile (a label, a key) is left alone.
        """
        now = timezone.now()
        values: dict[str, Any] = {name: getattr(self, name) for name in fields}
        rows = Job.objects.filter(pk=self.pk)
        if lease is not None:
            rows = rows.filter(lease_token=lease)
            values["lease_expires_at"] = now + lease_duration()
        if not rows.update(updated_at=now, **values):
            if lease is not None and Job.objects.filter(pk=self.pk).exists():
                raise LeaseLost
            raise JobGone

    def apply_page(
        self,
        page: "firecrawl_api.StatusPage",
        lease: uuid.UUID,
        words: Sequence[str] | None = None,
    ) -> PageOutcome:
        """Store a status page: its new documents at their positions, and the job's counters,
        in one transaction that also renews the lease (a sync that lost it stores nothing).
        `words`: the search words of the page's documents, in its order, when they were cut
        ahead (jobs.prefetch); else they are cut here."""
        now = timezone.now()
        try:
            with transaction.atomic():
                fresh = Document.objects.new_in(self, page.documents)
                room = max(settings.FIRECRAWL_MAX_DOCUMENTS_PER_JOB - self.next_skip, 0)
                capped = len(fresh) > room
                fresh = fresh[:room]
                # Positions are upstream offsets. When upstream repeats itself, new documents go
                # after what we have rather than at a position they do not hold.
                start = self.next_skip
                documents = [
                    Document.from_scraped(self, start + i, doc) for i, doc in enumerate(fresh)
                ]
                # Searchable as they are cached: indexed in this transaction, so no cached
                # document is ever missing from search, even after a crash.
                search_index.mark_for_index(documents)
                insert_new(documents)
                fresh_words = None
                if words is not None:  # cut for the whole page: the kept documents' own
                    by_document = dict(zip(map(id, page.documents), words, strict=True))
                    fresh_words = [by_document[id(doc)] for doc in fresh]
                search_index.index_inserted(
                    self.pk, documents, [doc.markdown for doc in fresh], fresh_words
                )
                # Their screenshots with them, from the URLs parsed already: a crash can never
                # leave a cached document whose screenshots nobody will fetch.
                shots = [
                    shot
                    for i, doc in enumerate(fresh)
                    for shot in Screenshot.rows_for(self, start + i, doc)
                ]
                insert_new(shots)
                self.next_skip = start + len(fresh)
                # Positions 0..next_skip-1 are all stored (each page commits whole): no COUNT.
                self.documents_cached = self.next_skip
                self._apply_status(page)
                fields = [*STATUS_FIELDS, "next_skip", "documents_cached", "last_polled_at"]
                if self.kind == self.Kind.CRAWL and not self.kind_confirmed:
                    # Its batch route said 404 and its crawl route answers (try_other_kind):
                    # this server tells the kinds apart, so it is a crawl.
                    self.kind_confirmed = True
                    fields.append("kind_confirmed")
                self.last_polled_at = now
                self.save_fields(fields, lease=lease)
                self._record_progress(now)
        except IntegrityError:
            # The job row vanished under us (foreign key); anything else is a real bug.
            if not Job.objects.filter(pk=self.pk).exists():
                raise JobGone from None
            raise
        repeated = not capped and len(fresh) < len(page.documents)
        pending = sum(shot.state == Screenshot.State.PENDING for shot in shots)
        return PageOutcome(added=len(fresh), repeated=repeated, capped=capped, screenshots=pending)

    def _apply_status(self, page: "firecrawl_api.StatusPage") -> None:
        status = page.status if page.status in self.Status.values else self.Status.SCRAPING
        if status == self.Status.COMPLETED and page.completed < page.total:
            # A replica that lags (or lies) about completion while documents are still coming:
            # believing it would end the walk early and lose the rest. Completed means all done.
            status = self.Status.SCRAPING
        if self.is_terminal and status == self.Status.SCRAPING:
            # Never step back from a terminal state because one read lagged behind.
            status = self.status
        self.status = status
        self.completed = max(page.completed, 0)
        self.total = max(page.total, 0)
        self.credits_used = page.credits_used
        self.expires_at = page.expires_at or self.expires_at
        self.remote_created_at = page.created_at or self.remote_created_at
        self.remote_completed_at = page.completed_at or self.remote_completed_at
        self.duration = page.duration if page.duration is not None else self.duration
        self.upstream_warning = cut(page.warning or "", MAX_MESSAGE)

    def _record_progress(self, now: datetime) -> None:
        """A sample of the progress when it changed: the rate, the ETA and the chart."""
        progress = self.progress
        failed = progress.failed + progress.cancelled
        last = self.samples.order_by("-at").first()
        if last is None or (last.completed, last.failed, last.total) != (
            progress.scraped,
            failed,
            progress.total,
        ):
            ProgressSample.objects.create(
                job=self, at=now, completed=progress.scraped, failed=failed, total=progress.total
            )

    def mark_walk_done(self, lease: uuid.UUID) -> None:
        """An empty page of a job that is over: every document upstream has is cached."""
        if self.is_terminal and not self.fully_cached:
            self.fully_cached = True
            self.save_fields(["fully_cached"], lease=lease)

    def mark_pagination_stuck(self, lease: uuid.UUID) -> None:
        self.pagination_stuck = True
        self.save_fields(["pagination_stuck"], lease=lease)

    def mark_failed_kickoff(self, message: str, lease: uuid.UUID) -> None:
        """HTTP 200 with success:false: the job failed to start, there is nothing to fetch."""
        self.status = self.Status.FAILED
        self.fully_cached = True
        self.upstream_warning = cut(message, MAX_MESSAGE)
        self.last_polled_at = timezone.now()
        self.save_fields(["status", "fully_cached", "upstream_warning", "last_polled_at"], lease)

    def try_other_kind(self, lease: uuid.UUID) -> bool:
        """A bare id that Firecrawl does not know as a batch may be a crawl: ask that, once.

        Still a guess: the kind is confirmed only if the crawl route answers (apply_page). An
        id that neither route knows stays of unknown kind, never shown as a crawl."""
        if self.kind_confirmed or self.kind != self.Kind.BATCH or self.last_polled_at:
            return False
        self.kind = self.Kind.CRAWL
        self.save_fields(["kind"], lease=lease)
        return True

    def apply_errors(self, listing: "firecrawl_api.ErrorsListing", lease: uuid.UUID) -> None:
        """Store the failed and robots-blocked URLs Firecrawl reports, and how many it listed.

        Only ever adds: a URL already stored is recognised by its fingerprint, and one that
        Firecrawl stops listing (its /errors answers empty lists once a job expired) is kept.
        At most FIRECRAWL_MAX_FAILED_URLS_PER_JOB rows are kept per job, written BATCH rows per
        statement, each its own short transaction: a list of 200,000 never holds the database
        from other users' writes.
        """
        room = settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB - self.failed_urls.count()
        rows = (
            FailedUrl.from_listing(
                self,
                item.url,
                item.id,
                item.code,
                item.error,
                item.timestamp,
                cancelled=item.cancelled,
            )
            for item in listing.errors
        )
        blocked = (FailedUrl.from_listing(self, url, robots=True) for url in listing.robots_blocked)
        batch: list[FailedUrl] = []
        for row in (*rows, *blocked):
            if room <= 0:
                break
            batch.append(row)
            if len(batch) == min(BATCH, room):
                room -= self._store_failed(batch)
                batch = []
        if batch and room > 0:
            self._store_failed(batch)
        self.count_failures(
            listed=listing.failed_listed - listing.cancelled_listed,
            cancelled_listed=listing.cancelled_listed,
            robots_listed=listing.robots_listed,
        )
        self.errors_signature = f"{self.status}|{self.completed}|{self.total}"
        self.errors_fetched_at = timezone.now()
        self.errors_pending = False
        fields = ["failed_count", "cancelled_count", "robots_blocked_count", "failed_stored"]
        self.save_fields(
            [*fields, "errors_signature", "errors_fetched_at", "errors_pending"], lease=lease
        )
        self._record_progress(self.errors_fetched_at)

    def defer_errors(self, lease: uuid.UUID) -> None:
        """/errors is due but this sync has no time left for it: the next one reads it first
        (a slow upstream's syncs would otherwise never get to it)."""
        self.errors_pending = True
        self.save_fields(["errors_pending"], lease=lease)

    def _store_failed(self, rows: list[FailedUrl]) -> int:
        """Insert the rows not stored yet; how many were new."""
        prints = [row.fingerprint for row in rows]
        known = set(
            self.failed_urls.filter(fingerprint__in=prints).values_list("fingerprint", flat=True)
        )
        unique = {row.fingerprint: row for row in rows if row.fingerprint not in known}
        fresh = list(unique.values())
        try:
            FailedUrl.objects.bulk_create(fresh, ignore_conflicts=True)
        except IntegrityError:
            # The job row vanished under us (foreign key).
            if not Job.objects.filter(pk=self.pk).exists():
                raise JobGone from None
            raise
        return len(fresh)

    def count_failures(
        self, *, listed: int = 0, cancelled_listed: int = 0, robots_listed: int = 0
    ) -> None:
        """Set the failure counts (the caller saves): the stored URLs, and how many Firecrawl
        listed, which only ever grows (an expired job's /errors lists nothing). URLs the cancel
        left unscraped are counted apart from the failed ones."""
        rows = self.failed_urls.order_by().values("robots_blocked", "cancelled")
        stored = {
            (row["robots_blocked"], row["cancelled"]): row["n"]
            for row in rows.annotate(n=models.Count("id"))
        }
        self.failed_stored = stored.get((False, False), 0)
        self.failed_count = max(self.failed_count, listed, self.failed_stored)
        cancelled_stored = stored.get((False, True), 0)
        self.cancelled_count = max(self.cancelled_count, cancelled_listed, cancelled_stored)
        robots_stored = stored.get((True, False), 0) + stored.get((True, True), 0)
        self.robots_blocked_count = max(self.robots_blocked_count, robots_listed, robots_stored)

    def conclude(self, lease: uuid.UUID, *, resume_now: bool = False) -> None:
        """After a round that read Firecrawl without error: settle the job, or say when to read
        it again. A job settles only when Firecrawl's answer has stopped changing: it is over,
        every document is cached, and a read a settle interval after the first agrees with it
        (a cancel finishes in the background, a completion is confirmed late)."""
        now = timezone.now()
        self.consecutive_failures = 0
        self.last_error = ""
        # A good read ends the trouble, whatever it was.
        self.trouble_since = None
        if self.pagination_stuck:
            self.last_error = (
                f"Firecrawl returned the same page twice; {self.documents_cached:,} of "
                f"{self.documents_expected:,} documents could be fetched"
            )
        if self.is_terminal and self.cache_done and not self.errors_pending:
            signature = self.upstream_signature()
            if signature != self.settle_signature or self.settle_seen_at is None:
                self.settle_signature, self.settle_seen_at = signature, now
            if now - self.settle_seen_at >= settle_interval():
                self.sync_state = self.SyncState.SETTLED
                self.settled_at = now
            self.next_poll_at = self.settle_seen_at + settle_interval()
        else:
            self.settle_signature, self.settle_seen_at = "", None
            self.next_poll_at = now if resume_now else now + self.poll_interval(now)
        fields = ["consecutive_failures", "last_error", "sync_state", "next_poll_at"]
        fields += ["trouble_since", "settled_at"]
        self.save_fields([*fields, "settle_signature", "settle_seen_at"], lease=lease)
        if self.api_key_id is not None:
            ApiKey.objects.filter(pk=self.api_key_id).update(last_used_at=now)

    def poll_interval(self, now: datetime) -> timedelta:
        """Poll running jobs often at first, then less as they age: most batches finish quickly.
        While Firecrawl's events about the job keep arriving, they wake its reads and the poll
        is only a safety net for lost ones."""
        base = settings.FIRECRAWL_POLL_INTERVAL
        age = now - self.created_at
        if age < timedelta(minutes=10):
            seconds = base
        elif age < timedelta(hours=1):
            seconds = base * 3
        else:
            seconds = base * 12
        if self.fed_by_events(now):
            seconds = max(seconds, settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL)
        return timedelta(seconds=seconds)

    def fed_by_events(self, now: datetime) -> bool:
        """Firecrawl's webhook told us about this job within the last safety-net interval."""
        relaxed = timedelta(seconds=settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL)
        return self.event_at is not None and now - self.event_at < relaxed

    def woken_read_at(self, *, at_once: bool, now: datetime) -> datetime:
        """When an event makes the job read: at once for a start or an end, and for pages no
        sooner than WAKE_SPACING after the last read (a burst of events is one read)."""
        if at_once or self.last_polled_at is None:
            return now
        return max(now, self.last_polled_at + WAKE_SPACING)

    def failure_backoff(self) -> timedelta:
        return backoff(settings.FIRECRAWL_POLL_INTERVAL, self.consecutive_failures, MAX_BACKOFF)

    def record_failure(self, exc: "firecrawl_api.FirecrawlError", lease: uuid.UUID) -> str:
        """Turn a failed read into state the job page can show, and decide what happens next:
        what the failure means is the error's own policy (firecrawl_api.errors), which a sync
        reads here only.

        Returns the message shown to the user. Written under the sync's lease: a sync that lost
        it (its owner resumed the job or gave it another key meanwhile) writes nothing
        (LeaseLost), so its stale failure cannot pause a job that has moved on.
        """
        now = timezone.now()
        if exc.counts_as_failure:
            self.consecutive_failures += 1
        if exc.job_missing:
            message = self._not_found(now)
        elif exc.needs_user:
            # Retrying cannot help until the user fixes the key (or the server sends less):
            # stop polling and say why.
            self.sync_state = self.SyncState.PAUSED
            message = exc.message
        else:
            if exc.retry_after is None:
                wait = self.failure_backoff()
            else:
                seconds = min(max(exc.retry_after, 1), MAX_BACKOFF.total_seconds())
                wait = timedelta(seconds=round(seconds))
            self.next_poll_at = now + wait
            message = exc.retrying_message(round(wait.total_seconds()))
        self.last_error = cut(message, 500)
        if self.consecutive_failures and self.trouble_since is None:
            self.trouble_since = now
        fields = ["consecutive_failures", "next_poll_at", "sync_state", "last_error"]
        self.save_fields([*fields, "trouble_since"], lease=lease)
        if exc.rejects_key and self.api_key_id is not None:
            ApiKey.objects.filter(pk=self.api_key_id).update(last_error=message[:500])
        return message

    def _not_found(self, now: datetime) -> str:
        if self.last_polled_at is None:
            if now - self.created_at < NOT_FOUND_GRACE:
                self.next_poll_at = now + timedelta(seconds=settings.FIRECRAWL_POLL_INTERVAL)
                return "Firecrawl does not know this job yet; trying again shortly"
            self.sync_state = self.SyncState.NOT_FOUND
            return (
                "Not found on Firecrawl: no job with this id answers to this key. Check the key, "
                f"the API URL ({self.api_url}) and the API version ({self.api_version}), "
                "then re-check."
            )
        self.sync_state = self.SyncState.EXPIRED
        if self.documents_cached:
            return (
                f"Results expired upstream: {self.documents_cached:,} of "
                f"{self.documents_expected:,} documents were cached"
            )
        return "Results expired upstream before any document was cached"

    def pause(self, message: str, lease: uuid.UUID) -> None:
        """Stop polling until the user acts (Refresh now, another key), and say why; under the
        sync's lease, as every write of a sync."""
        self.sync_state = self.SyncState.PAUSED
        self.last_error = cut(message, 500)
        self.trouble_since = self.trouble_since or timezone.now()
        self.save_fields(["sync_state", "last_error", "trouble_since"], lease=lease)

    # -- The user's actions ----------------------------------------------------------------------

    def stop_tracking(self) -> None:
        """Stop tracking the job: gone from every page at once; its rows are deleted in the
        background (JobQuerySet.purge, queued by jobs.tasks.stop_tracking), never in a request."""
        self.stopped_at = timezone.now()
        Job.objects.filter(pk=self.pk, stopped_at=None).update(stopped_at=self.stopped_at)
        if self.api_key_id is not None:
            # The key remembers it, so the job's webhook events do not bring it back.
            ApiKey.objects.forget_job(self.api_key_id, str(self.remote_id))

    def resume(self) -> None:
        """Read the job again now (Refresh now, another key): whatever paused or settled it may
        have changed upstream, so it is polled until it settles again."""
        if self.sync_state != self.SyncState.EXPIRED:
            self.sync_state = self.SyncState.ACTIVE
        self.next_poll_at = timezone.now()
        self.consecutive_failures = 0
        # The user acted on the trouble: if it comes back, that is news again.
        self.trouble_since = None
        self.settle_signature, self.settle_seen_at = "", None
        # Refresh re-reads the failed URLs too, whatever the counts say.
        self.errors_signature = ""
        # A sync running now asked Firecrawl with what the user has just changed (the key, or
        # the state they resumed from): it loses its lease, so none of its writes lands (a stale
        # 401 cannot pause the job again), and the next sync may start at once.
        self.lease_token, self.lease_expires_at = None, None
        fields = ["sync_state", "next_poll_at", "consecutive_failures", "errors_signature"]
        fields += ["trouble_since", "settle_signature", "settle_seen_at"]
        self.save_fields([*fields, "lease_token", "lease_expires_at"])

    def relabel(self, label: str) -> None:
        """The owner names the job (the import page's label): its title from now on."""
        self.label = label
        self.save_fields(["label"])

    def use_key(self, key: ApiKey) -> None:
        """Read this job with another of the owner's keys on the same server, from now on."""
        self.api_key, self.api_version = key, key.api_version
        self.save_fields(["api_key", "api_version"])
        self.resume()

    def set_notifications_muted(self, muted: bool) -> None:
        """The owner's per-job mute: no notification about this job while it is on."""
        self.notifications_muted = muted
        self.save_fields(["notifications_muted"])

    # -- Starting again --------------------------------------------------------------------------

    @property
    def started_here(self) -> bool:
        return self.start_options is not None

    @property
    def can_run_again(self) -> bool:
        """Run again is offered: the job was started here, so its URLs and options are known,
        and the owner has a key to start it with."""
        urls_known = (
            bool(self.start_urls) if self.kind == self.Kind.BATCH else bool(self.target_url)
        )
        return self.started_here and urls_known

    def retry_urls(self) -> list[str]:
        """The URLs Firecrawl could not scrape, each once, in the order they were reported.
        Robots-blocked URLs are left out (a retry would be blocked again), and so are those a
        cancel left unscraped (the owner stopped them; Run again starts the whole job)."""
        rows = self.failed_urls.filter(robots_blocked=False, cancelled=False).order_by("id")
        return list(dict.fromkeys(rows.values_list("url", flat=True)))


def attention_q() -> Q:
    """The jobs Job.attention names, as a query (JobQuerySet.needing_attention)."""
    state = Job.SyncState
    return (
        Q(sync_state__in=[state.NOT_FOUND, state.PAUSED])
        | Q(sync_state=state.ACTIVE, api_key__isnull=True)
        | Q(sync_state=state.ACTIVE, consecutive_failures__gt=0)
    )


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # a malformed address from upstream: no host to show
        return ""


# What Job.apply_page copies from a status page.
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
]


class ProgressSample(models.Model):
    """A job's progress at one poll (Job.progress): pages scraped, URLs failed or cancelled, of
    the total then; the rate, the ETA and the chart are drawn from these."""

    job = models.ForeignKey(Job, models.DB_CASCADE, related_name="samples")
    at = models.DateTimeField(default=timezone.now)
    completed = models.PositiveIntegerField()
    failed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField()

    class Meta:
        ordering = ["job", "at"]
        indexes = [models.Index(fields=["job", "at"])]

    def __str__(self) -> str:
        return f"{self.completed}+{self.failed}/{self.total} at {self.at:%H:%M:%S}"

    @property
    def done(self) -> int:
        return self.completed + self.failed
