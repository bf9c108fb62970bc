"""Screenshots of cached documents, kept in storage before Firecrawl's copies expire.

One row per image of a document: its own screenshot and each one its page actions took. Rows are
made in the transaction that stores the page's documents, from the URLs already parsed there;
the worker fetches them later (jobs.screenshots), never a request. A row is pending until its
image is kept, or failed with the reason; a failure that may pass is retried with a growing wait,
a few times. Nothing is dropped silently: a value that is no URL, or screenshots beyond the cap
per document, are failed rows that say so.

A deleted job's rows stay behind with no job (the foreign key is set NULL in the database,
whatever deleted the job): their files are deleted in the background, in batches, then the rows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from secrets import token_hex
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, F, Q
from django.utils import timezone

from firecrawl_api.text import clean_text

if TYPE_CHECKING:
    from firecrawl_api.wire import ScrapedDocument
    from jobs.models.jobs import Job

# The screenshots kept per document: a page has one of its own and one per screenshot action;
# more than this is a hostile or broken answer, said on the one failed row that stands for them.
MAX_PER_DOCUMENT = 20
# A signed storage URL is about a thousand characters.
MAX_SOURCE_LENGTH = 8192
# Attempts at an image whose failures may pass, the first retry this long after the first
# failure, each wait doubling, never more than MAX_RETRY_WAIT: about two hours in all, well
# before Firecrawl's copy expires (24 hours).
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_WAIT = timedelta(hours=1)
REASON_LENGTH = 500
# Where files go in storage, one folder per job.
FOLDER = "screenshots"


@dataclass(frozen=True)
class ScreenshotCounts:
    kept: int = 0
    pending: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.kept + self.pending + self.failed


class ScreenshotQuerySet(models.QuerySet["Screenshot"]):
    def pending(self) -> "ScreenshotQuerySet":
        """Still to keep: of a job that exists and is tracked (a stopped job's rows are being
        deleted, its files with them)."""
        return self.filter(
            state=Screenshot.State.PENDING, job__isnull=False, job__stopped_at__isnull=True
        )

    def due(self, now: datetime | None = None) -> "ScreenshotQuerySet":
        """Pending screenshots whose next attempt is due, oldest first."""
        now = now or timezone.now()
        return self.pending().filter(next_attempt_at__lte=now).order_by("next_attempt_at", "pk")

    def kept(self) -> "ScreenshotQuerySet":
        return self.filter(state=Screenshot.State.KEPT)

    def orphaned(self) -> "ScreenshotQuerySet":
        """Rows whose job was deleted: their files are deleted next (jobs.screenshots)."""
        return self.filter(job__isnull=True)

    def claim_orphaned(self, limit: int, until: datetime) -> list[int]:
        """Up to `limit` rows of deleted jobs that nobody is deleting, claimed until `until`
        (a conditional UPDATE, then read back by that moment: of two claimers, each row goes
        to one)."""
        free = self.orphaned().filter(next_attempt_at__lte=timezone.now())
        pks = list(free.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if not pks:
            return []
        free.filter(pk__in=pks).update(next_attempt_at=until)
        claimed = self.orphaned().filter(pk__in=pks, next_attempt_at=until)
        return list(claimed.values_list("pk", flat=True))

    def counts(self, job: "Job") -> ScreenshotCounts:
        """How many of the job's screenshots are kept, pending and failed."""
        rows = self.filter(job=job).order_by().values_list("state").annotate(n=Count("pk"))
        by_state = dict(rows)
        return ScreenshotCounts(
            kept=by_state.get(Screenshot.State.KEPT, 0),
            pending=by_state.get(Screenshot.State.PENDING, 0),
            failed=by_state.get(Screenshot.State.FAILED, 0),
        )

    def reasons(self, job: "Job", limit: int = 10) -> list[tuple[str, str, int]]:
        """Why the job's screenshots were not kept (failed) or not yet (pending, with a reason):
        (state, reason, how many), the most common first."""
        rows = (
            self.filter(job=job)
            .exclude(state=Screenshot.State.KEPT)
            .exclude(reason="")
            .order_by()
            .values_list("state", "reason")
            .annotate(n=Count("pk"))
            .order_by("-n", "state", "reason")
        )
        return list(rows[:limit])

    def abandon_keyless(self) -> int:
        """Fail the pending screenshots of jobs whose API key was deleted: like their sync, their
        fetching stops there (and the job page says so)."""
        return (
            self.pending()
            .filter(job__api_key__isnull=True)
            .update(
                state=Screenshot.State.FAILED,
                reason="The job's API key was deleted before this screenshot was kept",
            )
        )


class Screenshot(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        KEPT = "kept", "Kept"
        FAILED = "failed", "Failed"

    # NULL once the job is deleted (ON DELETE SET NULL in the database): the row then only
    # waits for its file to be deleted.
    job = models.ForeignKey(
        "jobs.Job", models.DB_SET_NULL, null=True, blank=True, related_name="screenshots"
    )
    # The document's position, and which of its screenshots: 0 its own, n its actions' n-th.
    position = models.PositiveIntegerField()
    shot = models.PositiveSmallIntegerField()
    # Where it came from: the URL, or "data:<type>;base64" when the image came inside the
    # document (read from the stored document when it is kept).
    source = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=REASON_LENGTH, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # The kept file: its name in storage (STORAGES["default"]), type (by its first bytes), size.
    name = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=30, blank=True)
    size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    kept_at = models.DateTimeField(null=True, blank=True)

    objects = ScreenshotQuerySet.as_manager()

    class Meta:
        ordering = ["job", "position", "shot"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "position", "shot"], name="unique_screenshot_per_document"
            ),
        ]
        indexes = [
            # What the fetcher looks for: pending rows by when they are due.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="screenshot_due",
            ),
            # The job page's counts.
            models.Index(fields=["job", "state"], name="screenshot_state"),
            # Rows whose job was deleted, by when their file's deletion is due.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(job__isnull=True),
                name="screenshot_orphaned",
            ),
        ]

    def __str__(self) -> str:
        return f"Screenshot {self.shot} of document {self.position} ({self.state})"

    # -- Made with the page's documents --------------------------------------------------------

    @classmethod
    def rows_for(cls, job: "Job", position: int, doc: "ScrapedDocument") -> list["Screenshot"]:
        """The rows for a document's screenshots, each pending, or failed at once when its value
        can never be an image; screenshots beyond MAX_PER_DOCUMENT are one failed row."""
        shots, more = doc.screenshots(MAX_PER_DOCUMENT)
        rows = [cls._row(job, position, number, value) for number, value in shots]
        if more:
            rows.append(
                cls(
                    job=job,
                    position=position,
                    shot=max((number for number, _ in shots), default=-1) + 1,
                    state=cls.State.FAILED,
                    reason=f"{more:,} more screenshots than the {MAX_PER_DOCUMENT} kept per "
                    "document; not kept",
                )
            )
        return rows

    @classmethod
    def _row(cls, job: "Job", position: int, shot: int, value: str | None) -> "Screenshot":
        row = cls(job=job, position=position, shot=shot)
        if value is None:
            row.state, row.reason = cls.State.FAILED, "Firecrawl sent a screenshot that is no URL"
        elif value[:5].lower() == "data:":
            # The image itself stays in the document; only its announced type is noted here.
            row.source = clean_text(value[:100].partition(",")[0])
        elif value[:8].lower().startswith(("http://", "https://")):
            row.source = clean_text(value[:MAX_SOURCE_LENGTH])
            if len(value) > MAX_SOURCE_LENGTH:
                row.state = cls.State.FAILED
                row.reason = f"The screenshot URL is longer than {MAX_SOURCE_LENGTH:,} characters"
        else:
            row.source = clean_text(value[:200])
            row.state = cls.State.FAILED
            row.reason = "Firecrawl sent a screenshot that is neither an http(s) URL nor data:"
        return row

    # -- What the document page and the zip call it --------------------------------------------

    @property
    def inline(self) -> bool:
        """The image came inside the document (a data: URI) rather than as a URL."""
        return self.source[:5].lower() == "data:"

    @property
    def label(self) -> str:
        return "Screenshot" if self.shot == 0 else f"Screenshot of action {self.shot}"

    @property
    def filename(self) -> str:
        """`<position>.<ext>`, or `<position>-action-<n>.<ext>` for an action's screenshot: its
        name in the zip's screenshots/ folder and in a download."""
        stem = str(self.position) if self.shot == 0 else f"{self.position}-action-{self.shot}"
        return stem + PurePosixPath(self.name).suffix

    def storage_name(self, extension: str) -> str:
        """A new name in storage: never one in use (a random part), so a file of a deleted job
        that is not yet gone is never overwritten."""
        return f"{FOLDER}/{self.job_id}/{self.position}-{self.shot}-{token_hex(8)}.{extension}"

    # -- The fetcher's writes (conditional: a deleted job or another fetch wins) ---------------

    def _claimed(self) -> "ScreenshotQuerySet":
        """This row as the fetcher read it: still pending, no attempt since, its job not gone."""
        return Screenshot.objects.filter(
            pk=self.pk, state=self.State.PENDING, attempts=self.attempts, job__isnull=False
        )

    def keep(self, name: str, content_type: str, size: int) -> bool:
        """Record the kept file; False if the row changed meanwhile (the caller then deletes
        the file, which nothing refers to)."""
        return bool(
            self._claimed().update(
                state=self.State.KEPT,
                name=name,
                content_type=content_type,
                size=size,
                reason="",
                attempts=F("attempts") + 1,
                kept_at=timezone.now(),
            )
        )

    def record_failure(self, message: str, *, retryable: bool, now: datetime | None = None) -> None:
        """A failed attempt: retried later if it may pass and attempts are left, else failed."""
        now = now or timezone.now()
        attempts = self.attempts + 1
        changes: dict[str, Any] = {"attempts": attempts}
        if retryable and attempts < MAX_ATTEMPTS:
            wait = min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY_WAIT)
            changes["next_attempt_at"] = now + wait
            reason = f"{message.rstrip('.')}; retrying in {_duration(wait)}"
        else:
            changes["state"] = self.State.FAILED
            reason = message
            if retryable:
                reason = f"{message.rstrip('.')}; gave up after {attempts} attempts"
        changes["reason"] = clean_text(reason)[:REASON_LENGTH]
        self._claimed().update(**changes)


def _duration(wait: timedelta) -> str:
    seconds = round(wait.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    return f"{round(seconds / 60)} min"
