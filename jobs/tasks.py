"""Background work, run by django-tasks-db's worker: syncing tracked jobs.

django-tasks-db has no periodic scheduler and no recovery for a task whose worker died, so the
job rows are the source of truth: a due job with no live lease gets a sync task from whoever
notices first (the worker's scheduler loop, a job page's poll, a button), and a conditional
UPDATE on `sync_queued_for` keeps that to one queued task per job.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from jobs import sync
from jobs.models import Job


@task()
def sync_job_task(job_pk: int) -> None:
    Job.objects.filter(pk=job_pk).update(sync_queued_for=None)
    result = sync.sync_job(job_pk)
    job = Job.objects.filter(pk=job_pk).first()
    if job is None or job.is_settled:
        return
    when = job.next_poll_at
    if not result.ran:
        # Someone else holds the lease: come back later rather than spin on it.
        when = max(when, timezone.now() + timedelta(seconds=settings.FIRECRAWL_POLL_INTERVAL))
    request_sync(job, when=when)


def request_sync(job: Job, when: datetime | None = None) -> bool:
    """Queue a sync of the job unless one is already queued; True if this call queued it."""
    now = timezone.now()
    when = max(when or now, now)
    claimed = (
        Job.objects.filter(pk=job.pk)
        # A task not started a lease's length after it was due is presumed lost with its worker.
        .filter(Q(sync_queued_for=None) | Q(sync_queued_for__lt=now - sync.lease_duration()))
        .update(sync_queued_for=when)
    )
    if not claimed:
        return False
    task = sync_job_task if when <= now else sync_job_task.using(run_after=when)
    task.enqueue(job.pk)
    return True


def enqueue_due_jobs() -> int:
    """Queue a sync for every active job that is due; the worker's scheduler calls this."""
    now = timezone.now()
    due = Job.objects.needing_sync(now).filter(
        Q(sync_queued_for=None) | Q(sync_queued_for__lt=now - sync.lease_duration())
    )
    return sum(request_sync(job) for job in due.only("pk"))
