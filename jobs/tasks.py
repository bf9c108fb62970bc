"""Background work, run by django-tasks-db's worker: syncing tracked jobs, indexing their documents,
keeping their screenshots (and deleting those of deleted jobs), and importing the new jobs of
keys that track them automatically.

django-tasks-db has no periodic scheduler and no recovery for a task whose worker died, so the
job rows are the source of truth: a due job with no live lease gets a sync task from whoever
notices first (the worker's scheduler loop, a job page's poll, a button), and a conditional
UPDATE on `sync_queued_for` keeps that to one queued task per job. Indexing for search works the
same way, on `index_queued_at`, for jobs that have documents not yet indexed, and automatic
imports on the key's `auto_imported_at`. Screenshots are fetched by one task per key at a time
(`screenshots_queued_at` on the key), and the files of deleted jobs are deleted in batches
claimed row by row (jobs.models.screenshots).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.tasks import task
from django.utils import timezone

from jobs import screenshots, search, sync
from jobs.models import Document, Job, Screenshot, StartRequest
from jobs.models.jobs import lease_duration
from keys import listings
from keys.models import ApiKey

# How often a key set to track new jobs automatically lists its jobs: well under the 24 hours
# Firecrawl keeps them, and a few requests per key an hour.
IMPORT_INTERVAL = timedelta(minutes=5)


@task()
def sync_job_task(job_pk: int) -> None:
    Job.objects.filter(pk=job_pk).update(sync_queued_for=None)
    # Whoever queued this saw the job due, but on a read that may predate a sync which has run
    # since: the slot is free while a sync runs, so a poll that read the job just before can
    # queue a second one. Only a job still due is synced: at most one poll per interval.
    row = (
        Job.objects.filter(pk=job_pk, next_poll_at__lte=timezone.now())
        .values("last_polled_at")
        .first()
    )
    due = row is not None
    never_read = row is not None and row["last_polled_at"] is None
    result = sync.sync_job(job_pk) if due else sync.SyncResult()
    if result.documents_added:
        request_index(job_pk)
    job = Job.objects.filter(pk=job_pk).first()
    if result.screenshots_added and job is not None and job.api_key_id is not None:
        request_screenshots(job.api_key_id)
    if job is not None and never_read and job.last_polled_at is not None:
        # Its first read: what the listings know of a job tracked by id (its kind, a crawl's
        # start URL) is asked once, now.
        listings.describe_job(job)
    if job is None or not job.is_active:
        return
    when = job.next_poll_at
    if due and not result.ran:
        # Someone else holds the lease: come back later rather than spin on it.
        when = max(when, timezone.now() + timedelta(seconds=settings.FIRECRAWL_POLL_INTERVAL))
    request_sync(job, when=when)


@task()
def index_job_task(job_pk: int) -> None:
    search.index_documents(job_pk)
    # Cleared only once done, so the scheduler does not queue a second indexer meanwhile (past
    # a lease's length it does, harmlessly: batches never overlap). Documents added after the
    # last batch are picked up by the scheduler's next round.
    Job.objects.filter(pk=job_pk).update(index_queued_at=None)


@task()
def fetch_screenshots_task(key_pk: int) -> None:
    """Keep the due screenshots of one key's jobs for about one worker deadline (plus the
    image in hand: below the lease, after which its queue slot would be taken for lost)."""
    screenshots.fetch_due(key_pk, seconds=settings.FIRECRAWL_WORKER_DEADLINE)
    # Freed only now, so that one task per key runs at a time, however many syncs asked.
    ApiKey.objects.filter(pk=key_pk).update(screenshots_queued_at=None)
    if Screenshot.objects.due().filter(job__api_key_id=key_pk).exists():
        # Out of time with more to do: behind whatever else was queued meanwhile.
        request_screenshots(key_pk)


@task()
def delete_screenshots_task(pks: list[int]) -> None:
    """Delete a batch of deleted jobs' screenshot files (claimed by request_file_deletion)."""
    screenshots.delete_orphaned(pks)


def _free(field: str, now: datetime) -> Q:
    """No task is queued in `field`, or the queued one is presumed lost: not started a lease's
    length after it was due, its worker died."""
    return Q(**{field: None}) | Q(**{f"{field}__lt": now - lease_duration()})


def _claim(job_pk: int, field: str, when: datetime) -> bool:
    """Record a task as queued in `field` unless one already is (a conditional UPDATE)."""
    return bool(
        Job.objects.filter(pk=job_pk).filter(_free(field, timezone.now())).update(**{field: when})
    )


def request_sync(job: Job, when: datetime | None = None) -> bool:
    """Queue a sync of the job unless one is already queued; True if this call queued it."""
    now = timezone.now()
    when = max(when or now, now)
    if not _claim(job.pk, "sync_queued_for", when):
        return False
    task = sync_job_task if when <= now else sync_job_task.using(run_after=when)
    task.enqueue(job.pk)
    return True


def request_sync_if_due(job: Job) -> bool:
    """What a page showing the job does: ask for a sync when one is due and nobody runs it."""
    return job.needs_sync() and request_sync(job)


def request_index(job_pk: int) -> bool:
    """Queue indexing of the job's new documents unless it is already queued."""
    if not _claim(job_pk, "index_queued_at", timezone.now()):
        return False
    index_job_task.enqueue(job_pk)
    return True


def request_screenshots(key_pk: int) -> bool:
    """Queue the fetching of the key's due screenshots unless it is queued or running already
    (a conditional UPDATE on the key); True if this call queued it."""
    now = timezone.now()
    free = ApiKey.objects.filter(_free("screenshots_queued_at", now), pk=key_pk)
    if not free.update(screenshots_queued_at=now):
        return False
    fetch_screenshots_task.enqueue(key_pk)
    return True


def request_file_deletion(batches: int = 1) -> int:
    """Queue the deletion of deleted jobs' screenshot files, up to `batches` batches of rows
    that no task is deleting yet; returns how many batches were queued."""
    until = timezone.now() + lease_duration()
    queued = 0
    for _ in range(batches):
        pks = Screenshot.objects.claim_orphaned(screenshots.DELETE_BATCH, until)
        if not pks:
            break
        delete_screenshots_task.enqueue(pks)
        queued += 1
    return queued


def enqueue_due_screenshots() -> int:
    """Queue a fetch for every key with due screenshots (a lost task and retries included), and
    the deletion of deleted jobs' files; fail what a deleted key's jobs still had pending."""
    now = timezone.now()
    Screenshot.objects.abandon_keyless()
    due = Screenshot.objects.due(now).filter(job__api_key=OuterRef("pk"))
    keys = ApiKey.objects.filter(_free("screenshots_queued_at", now)).filter(Exists(due))
    queued = sum(request_screenshots(pk) for pk in keys.values_list("pk", flat=True))
    return queued + request_file_deletion(batches=5)


def enqueue_due_jobs() -> int:
    """Queue a sync for every active job that is due, and indexing for every job with documents
    left to index (a lost task included); the worker's scheduler calls this."""
    now = timezone.now()
    due = Job.objects.needing_sync(now).filter(_free("sync_queued_for", now))
    unindexed = Document.objects.filter(job=OuterRef("pk"), search_indexed=False)
    to_index = Job.objects.filter(_free("index_queued_at", now)).filter(Exists(unindexed))
    queued = sum(request_sync(job) for job in due.only("pk"))
    queued += sum(request_index(pk) for pk in to_index.values_list("pk", flat=True))
    return queued + enqueue_due_screenshots()


@task()
def import_key_task(key_pk: int) -> None:
    key = ApiKey.objects.select_related("owner").filter(pk=key_pk, auto_import=True).first()
    if key is not None:
        for job in listings.import_new_jobs(key):
            request_sync(job)


def enqueue_due_imports() -> int:
    """Queue an automatic import for every key that opted in and was not imported for
    IMPORT_INTERVAL (a conditional UPDATE per key, so one worker queues it however many run),
    and forget form tokens no confirmation page can use any more."""
    now = timezone.now()
    due = Q(auto_imported_at=None) | Q(auto_imported_at__lte=now - IMPORT_INTERVAL)
    queued = 0
    for pk in ApiKey.objects.filter(due, auto_import=True).values_list("pk", flat=True):
        if ApiKey.objects.filter(due, pk=pk, auto_import=True).update(auto_imported_at=now):
            import_key_task.enqueue(pk)
            queued += 1
    StartRequest.objects.expired().delete()
    return queued
