"""Background work, run by django-tasks-db's worker: syncing tracked jobs, indexing their documents,
keeping their screenshots, finding jobs (automatic imports, what the listings say of a job
tracked by id), and deleting the jobs their owners stopped tracking and their files.

django-tasks-db has no periodic scheduler and no recovery for a task whose worker died, so the
job rows are the source of truth: a due job with no live lease gets a sync task from whoever
notices first (the worker's scheduler loop, a job page's poll, a button), and a conditional
UPDATE on `sync_queued_for` keeps that to one queued task per job. Indexing for search works the
same way, on `index_queued_at`, for jobs that have documents not yet indexed (a sync indexes
what it stores as it stores it: this catches up documents stored otherwise), and automatic
imports on the key's `import_due_at`. Screenshots are fetched by one task per key at a time
(`screenshots_queued_at` on the key), and the files of deleted jobs are deleted in batches
claimed row by row (jobs.models.screenshots).

No task holds a worker much longer than one deadline: a sync stops after about one
(jobs.sync), an import reads one page of a listing per task, indexing and deleting go a batch
at a time for about one, each queuing itself again for the rest. And the worker takes the ready
task of highest priority first: a slow key's syncs wait behind every other key's, finding and
deleting jobs behind every sync, so one user's slow upstream costs another at most the one
task already running.

Firecrawl's webhook events wake a job's reads through the same slot (jobs.webhooks): a wake
queues a sync unless one is queued already (a burst of events is one read), brings forward one
queued for later, and an event that arrives while the job is being read queues one more read
right after it. While events keep coming, no sync is queued ahead for the relaxed poll: the
scheduler queues that safety net when it falls due, and the slot stays free for the next wake.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.tasks import Task, task
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from jobs import screenshots, search, sync
from jobs.models import Document, Job, Screenshot, StartRequest
from jobs.models.fast_insert import BATCH
from jobs.models.jobs import lease_duration
from keys import listings
from keys.models import ApiKey, WebhookReceipt

# django-tasks-db claims the ready task of highest priority first, then the earliest run_after,
# then the earliest enqueued.
SYNC_PRIORITY = 0
SLOW_KEY_PRIORITY = -10
BACKGROUND_PRIORITY = -20


@task()
def sync_job_task(job_pk: int, slow: bool = False) -> None:
    """`slow`: queued as a slow key's job (behind other keys' syncs)."""
    Job.objects.filter(pk=job_pk).update(sync_queued_for=None)
    started = timezone.now()
    # Whoever queued this saw the job due, but on a read that may predate a sync which has run
    # since: the slot is free while a sync runs, so a poll that read the job just before can
    # queue a second one. Only a job still due is synced: at most one poll per interval.
    row = (
        Job.objects.filter(pk=job_pk, next_poll_at__lte=timezone.now())
        .values("last_polled_at", "api_key__slow_until")
        .first()
    )
    due = row is not None
    if row is not None and not slow and _slow(row["api_key__slow_until"]):
        # Its key turned slow since this was queued: behind the other keys' syncs now.
        request_syncs([job_pk])
        return
    never_read = row is not None and row["last_polled_at"] is None
    # Its new documents are searchable already (indexed as they were stored).
    result = sync.sync_job(job_pk) if due else sync.SyncResult()
    job = Job.objects.filter(pk=job_pk).first()
    if result.screenshots_added and job is not None and job.api_key_id is not None:
        request_screenshots(job.api_key_id)
    if (
        job is not None
        and never_read
        and job.last_polled_at is not None
        and job.description_wanted() is not None
    ):
        # Its first read: what the listings know of a job tracked by id (its kind, a crawl's
        # start URL) is asked once, in a task of its own.
        _enqueue(describe_job_task, [(job_pk,)], priority=BACKGROUND_PRIORITY)
    if job is None or not job.is_active:
        return
    now = timezone.now()
    if job.event_at is not None and job.event_at >= started:
        # Firecrawl's webhook spoke while this sync ran: what it announced may have come after
        # the read, so one more read follows, however many events came meanwhile.
        read_at = job.woken_read_at(at_once=False, now=now)
        if Job.objects.wake(job.pk, at=read_at, event=False):
            request_sync(job, when=read_at, sooner=True)
            return
    if job.fed_by_events(now) and not job.consecutive_failures:
        return
    when = job.next_poll_at
    if due and not result.ran:
        # Someone else holds the lease: come back later rather than spin on it.
        when = max(when, timezone.now() + timedelta(seconds=settings.FIRECRAWL_POLL_INTERVAL))
    request_sync(job, when=when)


@task()
def index_job_task(job_pk: int) -> None:
    # Catching up documents stored unindexed (the sync indexes its own), for about one
    # deadline: what is left of a huge job is queued again by the scheduler's next round.
    search.index_documents(job_pk, seconds=settings.FIRECRAWL_WORKER_DEADLINE)
    # Cleared only once done, so the scheduler does not queue a second indexer meanwhile (past
    # a lease's length it does, harmlessly: batches never overlap).
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


@task()
def describe_job_task(job_pk: int) -> None:
    job = Job.objects.tracked().select_related("api_key").filter(pk=job_pk).first()
    if job is not None:
        listings.describe_job(job)


@task()
def import_key_task(key_pk: int) -> None:
    """One step of a key's automatic import round (keys.listings.import_step)."""
    key = ApiKey.objects.select_related("owner").filter(pk=key_pk, auto_import=True).first()
    if key is None:
        return
    tracked, next_step_at = listings.import_step(key)
    request_syncs(tracked)
    if next_step_at is not None:
        _enqueue(import_key_task, [(key_pk,)], when=next_step_at, priority=BACKGROUND_PRIORITY)


@task()
def purge_job_task(job_pk: int) -> None:
    """Delete a stopped job's rows for about one deadline; queue the rest."""
    Job.objects.filter(pk=job_pk).update(sync_queued_for=None)
    if not Job.objects.purge(job_pk, seconds=settings.FIRECRAWL_WORKER_DEADLINE):
        request_purge(job_pk)
        return
    # The job is gone; its screenshots' rows stay, without a job, until their files are deleted.
    request_file_deletion(batches=5)


def _slow(slow_until: datetime | None) -> bool:
    return slow_until is not None and slow_until > timezone.now()


def _enqueue(
    task: Task[Any, Any],
    calls: Sequence[tuple[Any, ...]],
    *,
    when: datetime | None = None,
    priority: int = SYNC_PRIORITY,
) -> None:
    """Queue `task` once per argument tuple in `calls`, at `when` (None: now), with `priority`.

    Many at once go into django-tasks-db's table in one INSERT per BATCH (its enqueue() makes
    one each): tracking 1,000 listed jobs queues their syncs in one pass.
    """
    if not calls:
        return
    future = when is not None and when > timezone.now()
    queued = task.using(priority=priority, run_after=when if future else None)
    backend = queued.get_backend()
    if len(calls) == 1 or not isinstance(backend, DatabaseBackend):
        for args in calls:
            queued.enqueue(*args)
        return
    DBTaskResult.objects.bulk_create(
        [
            DBTaskResult(
                args_kwargs={"args": list(args), "kwargs": {}},
                priority=priority,
                task_path=queued.module_path,
                queue_name=queued.queue_name,
                # What the backend's pre_save handler sets for "now" (bulk_create sends none).
                run_after=when if future and when else get_date_max(),
                backend_name=backend.alias,
            )
            for args in calls
        ],
        batch_size=BATCH,
    )


def _free(field: str, now: datetime) -> Q:
    """No task is queued in `field`, or the queued one is presumed lost: not started a lease's
    length after it was due, its worker died."""
    return Q(**{field: None}) | Q(**{f"{field}__lt": now - lease_duration()})


def _claim(job_pk: int, field: str, when: datetime) -> bool:
    """Record a task as queued in `field` unless one already is (a conditional UPDATE)."""
    return bool(
        Job.objects.filter(pk=job_pk).filter(_free(field, timezone.now())).update(**{field: when})
    )


def request_syncs(
    job_pks: Iterable[int], when: datetime | None = None, *, sooner: bool = False
) -> int:
    """Queue a sync of each of these jobs unless one is queued already, at `when` (None: now),
    a slow key's behind the others; returns how many were queued. A few statements per BATCH
    jobs, each batch claimed in one short transaction.

    `sooner` (a webhook's wake): a sync queued for later than `when` does not stop this one.
    The later one still runs when its time comes, and reads the job only if it is due again.
    """
    now = timezone.now()
    when = max(when or now, now)
    pks = list(job_pks)
    free_slot = _free("sync_queued_for", now)
    if sooner:
        # Never a stopped job: its slot says a deletion is queued (request_purge).
        free_slot |= Q(sync_queued_for__gt=when, stopped_at=None)
    queued = 0
    for start in range(0, len(pks), BATCH):
        with transaction.atomic():
            free = Job.objects.filter(pk__in=pks[start : start + BATCH])
            free = free.filter(free_slot).select_for_update(skip_locked=True, of=("self",))
            claimed = list(free.values_list("pk", "api_key__slow_until"))
            Job.objects.filter(pk__in=[pk for pk, _ in claimed]).update(sync_queued_for=when)
        fast = [(pk,) for pk, slow_until in claimed if not _slow(slow_until)]
        slow = [(pk, True) for pk, slow_until in claimed if _slow(slow_until)]
        _enqueue(sync_job_task, fast, when=when, priority=SYNC_PRIORITY)
        _enqueue(sync_job_task, slow, when=when, priority=SLOW_KEY_PRIORITY)
        queued += len(claimed)
    return queued


def request_sync(job: Job, when: datetime | None = None, *, sooner: bool = False) -> bool:
    """Queue a sync of the job unless one is already queued; True if this call queued it."""
    return request_syncs([job.pk], when, sooner=sooner) == 1


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
        _enqueue(delete_screenshots_task, [(pks,)], priority=BACKGROUND_PRIORITY)
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


def stop_tracking(job: Job) -> None:
    """Stop tracking a job, the one way every page and API does it: gone from every page at
    once, its rows deleted in the background (JobQuerySet.purge), never in the request."""
    job.stop_tracking()
    request_purge(job.pk)


def request_purge(job_pk: int) -> bool:
    """Queue the deletion of a stopped job's rows unless it is queued already. A stopped job
    never syncs, so its `sync_queued_for` says whether a deletion is queued."""
    if not _claim(job_pk, "sync_queued_for", timezone.now()):
        return False
    _enqueue(purge_job_task, [(job_pk,)], priority=BACKGROUND_PRIORITY)
    return True


def enqueue_due_jobs() -> int:
    """Queue a sync for every active job that is due, indexing for every job with documents
    left to index, and the deletion of stopped jobs (a lost task included); the worker's
    scheduler calls this."""
    now = timezone.now()
    due = Job.objects.needing_sync(now).filter(_free("sync_queued_for", now))
    queued = request_syncs(due.values_list("pk", flat=True))
    unindexed = Document.objects.filter(job=OuterRef("pk"), search_indexed=False)
    to_index = Job.objects.tracked().filter(_free("index_queued_at", now)).filter(Exists(unindexed))
    queued += sum(request_index(pk) for pk in to_index.values_list("pk", flat=True))
    stopped = Job.objects.filter(stopped_at__isnull=False).filter(_free("sync_queued_for", now))
    queued += sum(request_purge(pk) for pk in stopped.values_list("pk", flat=True))
    return queued + enqueue_due_screenshots()


def enqueue_due_imports() -> int:
    """Queue an automatic import round for every key that opted in and is due (a conditional
    UPDATE per key, so one worker queues it however many run), and forget form tokens no
    confirmation page can use any more, and webhook receipts past their replay window."""
    now = timezone.now()
    due = Q(import_due_at=None) | Q(import_due_at__lte=now)
    # Not due again until an interval from now: a round whose chain of tasks was lost (its
    # worker died) is simply followed by the next one.
    next_due = now + listings.IMPORT_INTERVAL
    queued = 0
    for pk in ApiKey.objects.filter(due, auto_import=True).values_list("pk", flat=True):
        claimed = ApiKey.objects.filter(due, pk=pk, auto_import=True).update(
            auto_imported_at=now, import_due_at=next_due, import_round=None
        )
        if claimed:
            _enqueue(import_key_task, [(pk,)], priority=BACKGROUND_PRIORITY)
            queued += 1
    StartRequest.objects.expired().delete()
    WebhookReceipt.objects.prune()
    return queued
