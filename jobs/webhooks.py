"""What a Firecrawl webhook event means for a key's jobs: the webhook wakes, the poll reads.

Firecrawl's delivery is best effort (no retry, a 10 s timeout), so an event can say that
something changed, never that nothing did. It never writes documents or counts: the status
endpoint stays their one source, and polling stays the safety net. An event does two things
only: it tracks a job the key's owner did not know (its kind, from the event type, as fact),
and it makes a tracked job due for a read (`JobQuerySet.wake`). The caller queues that read.

A self-hosted server's SELF_HOSTED_WEBHOOK_URL only ever receives `page` events, so a page
event tracks an unknown job as a `started` one does; such a job's end is found by polling.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from firecrawl_api.webhooks import WebhookEvent
from jobs.models import Job, StartRequest
from keys.models import ApiKey

# The metadata key a start request from here registers with its webhook: the form token of the
# press of Confirm (jobs.starting). It exists before Firecrawl answers, unlike the job row, so
# an event that overtakes the answer is recognised, and a start whose answer was lost is found.
START_TOKEN = "dashboard_start"
# A key's webhook tracks at most this many new jobs an hour: whoever holds a URL without a
# secret cannot fill the jobs table faster (events about tracked jobs are not limited by it).
MAX_NEW_JOBS_PER_HOUR = 1000

STOPPED = "an event about a job you stopped tracking"
TOO_MANY = f"more than {MAX_NEW_JOBS_PER_HOUR:,} new jobs announced in an hour"


@dataclass(frozen=True)
class EventOutcome:
    """The job to read and when (None: nothing to read), and why the event was ignored, for
    the key's page ("": it was not)."""

    job: Job | None = None
    read_at: datetime | None = None
    refusal: str = ""
    tracked: bool = False


def apply_event(key: ApiKey, event: WebhookEvent) -> EventOutcome:
    """Track the event's job if the key's owner does not, and make it due for a read."""
    now = timezone.now()
    job = Job.objects.for_user(key.owner_id).filter(remote_id=event.job_id).first()
    created = False
    if job is None:
        if event.job_id in key.stopped_job_ids:
            # Firecrawl goes on sending a running job's events after Stop tracking.
            return EventOutcome(refusal=STOPPED)
        start = _start_from_here(key, event)
        if start is not None and start.awaiting_answer:
            # Firecrawl's event overtook its answer to our start request, which tracks the job
            # (with its label and options) and queues its first read.
            return EventOutcome()
        recent = key.jobs.filter(created_at__gte=now - timedelta(hours=1))
        if recent[:MAX_NEW_JOBS_PER_HOUR].count() >= MAX_NEW_JOBS_PER_HOUR:
            return EventOutcome(refusal=TOO_MANY)
        job, created = Job.objects.track(
            owner=key.owner,
            api_key=key,
            remote_id=event.job_id,
            kind=event.kind,
            label=announced_label(event, now),
            # Announced by Firecrawl: news for its owner, unless it was started here after all.
            origin=Job.Origin.WEBHOOK if start is None else Job.Origin.STARTED,
        )
        if start is not None and start.job_id is None:
            # A start whose answer was lost (no answer, or its process stopped while waiting):
            # its job is this one, and a second press of its Confirm lands here.
            start.finish(StartRequest.State.STARTED, job=job)
    elif not job.kind_confirmed:
        # A job tracked by a bare id: the event type says what it is.
        job, _ = Job.objects.track(
            owner=key.owner, api_key=key, remote_id=event.job_id, kind=event.kind
        )
    at_once = created or event.event != "page"
    read_at = job.woken_read_at(at_once=at_once, now=now)
    if not Job.objects.wake(job.pk, at=read_at, errors=event.failed_page):
        # Settled, paused, keyless, or backing off after failures: its own rules decide.
        return EventOutcome(tracked=created)
    return EventOutcome(job=job, read_at=read_at, tracked=created)


def announced_label(event: WebhookEvent, now: datetime) -> str:
    """How a job tracked from an event is named until its owner renames it."""
    kind = Job.Kind(event.kind).label
    return f"{kind} announced by webhook, {timezone.localtime(now):%d %b %H:%M}"


def _start_from_here(key: ApiKey, event: WebhookEvent) -> StartRequest | None:
    """The press of Confirm that started this job here, from the token in its metadata."""
    try:
        token = uuid.UUID(event.metadata.get(START_TOKEN, ""))
    except ValueError:
        return None
    return StartRequest.objects.filter(api_key=key, token=token).first()
