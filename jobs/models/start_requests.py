"""A press of Confirm on the start form (or an API start), claimed before Firecrawl is asked to
start anything.

The confirmation page carries a form token of our own (a UUID). Whoever creates the row for a
token first (a unique constraint) sends the start to Firecrawl; a second press of the same form
(a double click, a resubmission after Back) finds the row and waits for the first one's job
instead of starting another. Rows are never reused: every outcome is final, and a new
confirmation page brings a new token.

A second press never waits inside its request for the first one's answer: it is sent to a page
(jobs.views.start.start_outcome) that asks again until the row has its outcome. That page keeps
the confirmation (`payload`), so a start that failed can be confirmed again from it.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from jobs.models.jobs import Job
from keys.models import ApiKey

# How long a confirmation page stays valid: long enough to read it, short enough that the credits
# and the key it showed still hold.
CONFIRM_MAX_AGE = timedelta(hours=1)
# Seconds, beyond a web call's deadline, that a press of Confirm may take to track its job.
ANSWER_MARGIN = 5


class StartRequestQuerySet(models.QuerySet["StartRequest"]):
    def claim(
        self, *, token: uuid.UUID, owner: object, api_key: ApiKey, fingerprint: str = ""
    ) -> tuple["StartRequest", bool]:
        """The row for this token, and whether this call created it (and so may start the job).

        A token another user claimed is theirs: it is reported as not found (DoesNotExist)."""
        try:
            with transaction.atomic():
                row = self.create(
                    token=token, owner=owner, api_key=api_key, fingerprint=fingerprint
                )
                return row, True
        except IntegrityError:
            return self.get(token=token, owner=owner), False

    def expired(self) -> "StartRequestQuerySet":
        """Rows no confirmation page can reach any more (its signed payload has expired)."""
        return self.filter(created_at__lt=timezone.now() - 2 * confirmation_max_age())


def confirmation_max_age() -> timedelta:
    return CONFIRM_MAX_AGE


def answer_window() -> timedelta:
    """How long the press that sent a start can be waiting for Firecrawl's answer: its call's
    deadline, and a margin for tracking the job. Past it, a row still `starting` lost its
    answer (its process was stopped)."""
    return timedelta(seconds=settings.FIRECRAWL_WEB_DEADLINE + ANSWER_MARGIN)


class StartRequest(models.Model):
    class State(models.TextChoices):
        # Claimed; the request to Firecrawl is in flight.
        STARTING = "starting", "Starting"
        # Firecrawl started the job; `job` is it.
        STARTED = "started", "Started"
        # Firecrawl refused (400, 402, 429…): nothing was started upstream, nor here.
        FAILED = "failed", "Failed"
        # No usable answer (a timeout, a dropped connection, a 5xx): Firecrawl may or may not
        # have started the job. This token can never send the start again.
        UNCERTAIN = "uncertain", "Uncertain"

    token = models.UUIDField(unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, models.DB_CASCADE, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.STARTING)
    job = models.ForeignKey(Job, models.DB_SET_NULL, null=True, blank=True, related_name="+")
    # What the person who pressed Confirm was told, for a second press of the same form.
    message = models.TextField(blank=True)
    # The signed confirmation, kept by a second press that found the first one waiting: the
    # page it is sent to can show the confirmation again if the start failed.
    payload = models.TextField(blank=True)
    # What was asked to start (a digest), when the token came from an API client's
    # Idempotency-Key: the same key sent with another request must not pass for a replay.
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StartRequestQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.token} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.STARTING

    @property
    def awaiting_answer(self) -> bool:
        """Pending, and the press that sent it may still get Firecrawl's answer."""
        return self.is_pending and timezone.now() - self.created_at < answer_window()

    def finish(self, state: str, *, job: Job | None = None, message: str = "") -> None:
        self.state, self.job, self.message = state, job, message
        self.save(update_fields=["state", "job", "message"])
