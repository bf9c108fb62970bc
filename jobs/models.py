"""Tracked Firecrawl jobs, the API keys they are read with, and their cached results."""

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs.fields import EncryptedTextField
from jobs.firecrawl import mask_key


class ApiKey(models.Model):
    class Version(models.TextChoices):
        V1 = "v1", "v1"
        V2 = "v2", "v2"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key = EncryptedTextField()
    # The masked form, kept beside the ciphertext so lists never decrypt anything.
    key_hint = models.CharField(max_length=20, editable=False)
    api_url = models.URLField("API URL", default="https://api.firecrawl.dev")
    api_version = models.CharField(
        "API version", max_length=2, choices=Version.choices, default=Version.V1
    )
    is_default = models.BooleanField(default=False)
    remaining_credits = models.BigIntegerField(null=True, blank=True)
    credits_checked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # This minute's count of requests to Firecrawl with this key (see jobs.ratelimit).
    budget_window = models.DateTimeField(null=True, blank=True, editable=False)
    budget_used = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_key_name_per_owner"),
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="one_default_key_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.key_hint = mask_key(self.key)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete the key; if it was the default, the owner's next key becomes the default."""
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            if self.is_default:
                successor = ApiKey.objects.filter(owner=self.owner_id).first()
                if successor is not None:
                    successor.make_default()
        return deleted

    def make_default(self) -> None:
        ApiKey.objects.filter(owner=self.owner_id, is_default=True).exclude(pk=self.pk).update(
            is_default=False
        )
        self.is_default = True
        self.save(update_fields=["is_default", "key_hint"])


class JobQuerySet(models.QuerySet["Job"]):
    def for_user(self, user: Any) -> "JobQuerySet":
        return self.filter(owner=user)

    def active(self) -> "JobQuerySet":
        """Jobs a poll could still change (the inverse of Job.is_settled)."""
        terminal = Q(status__in=Job.TERMINAL)
        cache_done = Q(fully_cached=True) | (Q(pagination_stuck=True) & terminal)
        settled = terminal & cache_done & Q(errors_fetched_at__isnull=False)
        return self.filter(
            needs_attention=False, expired_upstream=False, api_key__isnull=False
        ).exclude(settled)

    def needing_sync(self, now: datetime | None = None) -> "JobQuerySet":
        """Active jobs whose next poll is due and that nobody is syncing."""
        now = now or timezone.now()
        return (
            self.active()
            .filter(next_poll_at__lte=now)
            .filter(Q(lease_expires_at=None) | Q(lease_expires_at__lt=now))
        )


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

    TERMINAL = (Status.COMPLETED, Status.CANCELLED, Status.FAILED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="jobs")
    # Kept when the key is deleted, so the cache stays browsable; syncing then stops.
    # Deletes cascade in the database (DB_*), so a 100,000-document job goes in one statement.
    api_key = models.ForeignKey(
        ApiKey, models.DB_SET_NULL, null=True, blank=True, related_name="jobs"
    )
    api_url = models.URLField("API URL")
    api_version = models.CharField("API version", max_length=2, choices=ApiKey.Version.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.BATCH)
    remote_id = models.UUIDField("Batch ID")
    label = models.CharField(max_length=200, blank=True)

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

    # Where the local cache stands.
    next_skip = models.PositiveIntegerField(default=0)
    documents_cached = models.PositiveIntegerField(default=0)
    fully_cached = models.BooleanField(default=False)
    expired_upstream = models.BooleanField(default=False)
    # Upstream repeated a page instead of moving on (a self-hosted server's skip bug).
    pagination_stuck = models.BooleanField(default=False)
    errors_fetched_at = models.DateTimeField(null=True, blank=True)
    # Set on errors only the user can fix (a rejected key, no credits): polling stops until then.
    needs_attention = models.BooleanField(default=False)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(default=timezone.now, db_index=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # At most one sync per job: whoever holds an unexpired lease is syncing it.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When a queued sync task is due; lets many pollers ask for a sync while only one is queued.
    sync_queued_for = models.DateTimeField(null=True, blank=True)
    # The same for the task that indexes new documents for search (see jobs.search).
    index_queued_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "kind", "remote_id"], name="unique_job_per_owner"
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.label or str(self.remote_id)

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def cache_done(self) -> bool:
        """Every document upstream can give us is cached."""
        return self.fully_cached or (self.pagination_stuck and self.is_terminal)

    @property
    def is_settled(self) -> bool:
        """Nothing left that a poll could change: the page can stop polling (see active())."""
        if self.expired_upstream or self.needs_attention or self.api_key_id is None:
            return True
        return self.is_terminal and self.cache_done and self.errors_fetched_at is not None

    @property
    def progress_percent(self) -> int:
        if not self.total:
            return 100 if self.is_terminal else 0
        return min(100, round(100 * self.completed / self.total))

    @property
    def expires_in(self) -> timedelta | None:
        if self.expires_at is None or self.expired_upstream:
            return None
        return self.expires_at - timezone.now()


# Characters of a title or URL that the browser sorts on (and indexes).
SORT_PREFIX = 200


class SortPrefix(models.Func):
    """The first SORT_PREFIX characters of a text column, with the bounds written as literals.

    Django's Substr() sends them as query parameters, and SQLite uses an expression index
    only for the very expression it was built on: `substr(url, ?, ?)` would sort in a temp
    b-tree. The index and the browser's ordering both use this class.
    """

    function = "SUBSTRING"
    template = f"%(function)s(%(expressions)s, 1, {SORT_PREFIX})"
    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="SUBSTR", **extra)


class Document(models.Model):
    """One scraped page, stored at its upstream offset (stable: upstream appends completions)."""

    job = models.ForeignKey(Job, models.DB_CASCADE, related_name="documents")
    position = models.PositiveIntegerField()
    scrape_id = models.CharField(max_length=100, blank=True)
    source_url = models.TextField(blank=True)
    url = models.TextField(blank=True)
    title = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    # The document exactly as Firecrawl sent it (JSON text): every field, known or not, is kept.
    raw = models.TextField()
    cached_at = models.DateTimeField(auto_now_add=True)
    # Full-text indexing runs after the insert, in a task (jobs.search.index_documents), so
    # caching a page never waits for tokenising it.
    search_indexed = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="unique_document_position"),
        ]
        indexes = [
            models.Index(fields=["job", "scrape_id"]),
            # The browser's sorts and its status filter walk these in order (with position as the
            # tie-break). Text keys are bounded prefixes: PostgreSQL refuses btree entries over
            # ~2.7 KB, and a scraped title or URL can be longer than that.
            models.Index(fields=["job", "status_code", "position"], name="document_status_sort"),
            models.Index(F("job"), SortPrefix("url"), F("position"), name="document_url_sort"),
            models.Index(F("job"), SortPrefix("title"), F("position"), name="document_title_sort"),
            # Few documents carry an error: the "has error" filter walks only those.
            models.Index(
                fields=["job", "position"], condition=~Q(error=""), name="document_with_error"
            ),
            # What is left to index: empty once the indexer has caught up.
            models.Index(
                fields=["job", "position"],
                condition=Q(search_indexed=False),
                name="document_unindexed",
            ),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @property
    def data(self) -> dict[str, Any]:
        value = json.loads(self.raw)
        return value if isinstance(value, dict) else {}


class FailedUrl(models.Model):
    """A URL Firecrawl could not scrape (from /errors), or one robots.txt blocked."""

    job = models.ForeignKey(Job, models.DB_CASCADE, related_name="failed_urls")
    url = models.TextField()
    remote_id = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    robots_blocked = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "robots_blocked", "id"]

    def __str__(self) -> str:
        return self.url


class ProgressSample(models.Model):
    """Completed/total at one poll: the rate, the ETA and the chart are drawn from these."""

    job = models.ForeignKey(Job, models.DB_CASCADE, related_name="samples")
    at = models.DateTimeField(default=timezone.now)
    completed = models.PositiveIntegerField()
    total = models.PositiveIntegerField()

    class Meta:
        ordering = ["job", "at"]
        indexes = [models.Index(fields=["job", "at"])]

    def __str__(self) -> str:
        return f"{self.completed}/{self.total} at {self.at:%H:%M:%S}"
