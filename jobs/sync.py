"""The sync: advance one tracked job by reading Firecrawl's status pages into the local cache.

Here is where `next` is followed (as a skip, never as a URL) and where /errors is read; what
each answer means for the job is decided by the job itself (jobs.models.jobs). Every step is
idempotent and commits as it goes, so a crash loses at most the pages in flight, which the next
run fetches again. HTTP never happens inside a transaction, and a lease on the job row makes sure
only one sync of a job runs at a time, whatever the number of workers.

A sync holds a worker about one deadline at most, its requests included (`finish_by`): then the
job is queued again behind the others, so no slow or huge upstream keeps a worker from other
users' jobs. How slowly the key's Firecrawl answered is noted on the key (ApiKey.note_speed).
"""

import logging
import time
import uuid
from dataclasses import dataclass

from django.conf import settings

import firecrawl_api
from firecrawl_api.client import FirecrawlClient
from jobs.models import Job, JobGone, LeaseLost
from jobs.prefetch import PageReader
from keys import clients
from keys.budget import RequestBudget

logger = logging.getLogger(__name__)


@dataclass
class SyncResult:
    ran: bool = False
    pages: int = 0
    documents_added: int = 0
    # Screenshots of the new documents, waiting to be fetched.
    screenshots_added: int = 0
    error: str = ""


def sync_job(job_pk: int) -> SyncResult:
    """Fetch the pages Firecrawl has for the job now, store them, and schedule the next poll."""
    result = SyncResult()
    token = Job.objects.acquire_lease(job_pk)
    if token is None:
        return result
    result.ran = True
    try:
        job = Job.objects.select_related("api_key").get(pk=job_pk)
        # Settled, paused or keyless jobs are never read: a task queued before that is a no-op.
        if job.is_active:
            _sync(job, token, result)
    except (Job.DoesNotExist, JobGone):
        logger.info("Job %s was deleted during its sync", job_pk)
    except LeaseLost:
        # The job is another sync's now, or its owner's action took the lease away: this one
        # writes nothing more (no failed URLs, no next poll, no failure), which the next sync
        # does under its own lease.
        logger.warning("Lost the lease on job %s; another sync or its owner took over", job_pk)
    finally:
        Job.objects.release_lease(job_pk, token)
    return result


def _sync(job: Job, token: uuid.UUID, result: SyncResult) -> None:
    assert job.api_key is not None
    finish_by = clients.worker_budget()
    budget = RequestBudget(job.api_key.pk)
    slowest = 0.0
    try:
        with (
            clients.for_worker(job.api_key, budget, finish_by=finish_by) as client,
            PageReader(job, budget, finish_by=finish_by) as reader,
        ):
            try:
                if job.errors_pending and job.errors_due():
                    job.apply_errors(_read_errors(job, client), lease=token)
                finished = _walk(job, client, reader, token, result, finish_by)
                if finished and job.errors_due():
                    if time.monotonic() + client.slowest > finish_by:
                        job.defer_errors(token)
                    else:
                        job.apply_errors(_read_errors(job, client), lease=token)
            finally:
                slowest = max(client.slowest, reader.slowest)
        if job.sync_state == Job.SyncState.ACTIVE:
            job.conclude(token, resume_now=not finished)
    except firecrawl_api.FirecrawlError as exc:
        # What it means (pause, back off, expired…) is the error's policy, applied by the job.
        result.error = job.record_failure(exc, token)
        logger.info("Sync of job %s: %s", job.pk, result.error)
    except (JobGone, LeaseLost):
        raise
    except Exception as exc:
        # A bug, or an upstream value nothing anticipated: back off and say so on the job,
        # rather than retrying at once forever.
        logger.exception("Sync of job %s failed", job.pk)
        problem = firecrawl_api.FirecrawlError(
            f"The sync failed unexpectedly ({type(exc).__name__}); this is a bug, please report it"
        )
        result.error = job.record_failure(problem, token)
    finally:
        job.api_key.note_speed(slowest)


def _walk(
    job: Job,
    client: FirecrawlClient,
    reader: PageReader,
    token: uuid.UUID,
    result: SyncResult,
    finish_by: float,
) -> bool:
    """Follow the job's pages from its stored skip. False when it stopped for time, leaving
    pages for the next run: no page is asked for that would end past `finish_by`, as far as
    the slowest request so far tells."""
    slowest = client.slowest
    while True:
        if time.monotonic() + slowest > finish_by:
            return False
        asked_at = time.monotonic()
        try:
            ahead = reader.take(job.next_skip)
            page = (
                ahead.page
                if ahead
                else client.job_status(str(job.remote_id), skip=job.next_skip, kind=job.kind)
            )
        except firecrawl_api.NotFound:
            if job.try_other_kind(token):
                continue  # a bare id that is not a batch: ask for it as a crawl, once
            raise
        except firecrawl_api.InvalidResponse as exc:
            if exc.job_status != Job.Status.FAILED:
                raise
            job.mark_failed_kickoff(exc.api_message or "", token)
            return True
        result.pages += 1
        slowest = max(slowest, time.monotonic() - asked_at)
        following = job.next_skip + len(page.documents)
        if page.has_next and following < page.completed:
            # More documents are done upstream than this page brings: the walk will surely
            # ask for the next page, so it is read while this one is stored.
            reader.start(following)
        outcome = job.apply_page(page, token, words=ahead.words if ahead else None)
        result.documents_added += outcome.added
        result.screenshots_added += outcome.screenshots
        if outcome.capped:
            job.pause(
                f"This job reached this server's limit of "
                f"{settings.FIRECRAWL_MAX_DOCUMENTS_PER_JOB:,} documents per job "
                "(FIRECRAWL_MAX_DOCUMENTS_PER_JOB); no more are cached",
                token,
            )
            return True
        if outcome.repeated:
            # The self-hosted skip bug: the page repeats documents we have. Following `next`
            # would loop forever or store duplicates, so stop here and say so.
            job.mark_pagination_stuck(token)
            return True
        if job.next_skip >= page.completed:
            # Caught up. With a running job, what completes from now on waits for the next
            # poll, instead of one sync chasing its tail request after request; with one that
            # is over, a `next` that goes on (a cancelled job's, or a hostile server's) leads
            # nowhere: the settling reads pick up whatever still arrives.
            if job.is_terminal:
                job.mark_walk_done(token)
            return True
        if not page.has_next:
            # An empty page always ends the walk: a cancelled job's `next` points to itself.
            job.mark_walk_done(token)
            return True


def _read_errors(job: Job, client: FirecrawlClient) -> firecrawl_api.ErrorsListing:
    try:
        return client.errors(
            str(job.remote_id),
            kind=job.kind,
            max_items=settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB,
        )
    except (firecrawl_api.NotFound, firecrawl_api.NotSupported):
        # Expired, or a server without the route: nothing more to learn, and what was stored
        # is kept.
        return firecrawl_api.ErrorsListing(errors=[], robots_blocked=[])
