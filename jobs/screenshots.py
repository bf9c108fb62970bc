"""Keeping screenshots: the worker fetches the pending screenshots of one key's jobs into
storage (STORAGES["default"]: the filesystem or S3), and deletes the files of deleted jobs.

What may be fetched, and how (allowed hosts, size, type, one deadline per image, no key sent) is
firecrawl_api.images; which host is allowed for a job is here (`allowed_hosts`); what a result
means for the row is the model's (jobs.models.screenshots). HTTP, to the storage host and to S3,
never runs inside a transaction, and every row is written with a conditional UPDATE: a job
deleted meanwhile, or a second fetcher, never leaves a file that nothing refers to.
"""

import logging
import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from firecrawl_api.images import Image, ImageFetcher, ImageRefused, host_of
from firecrawl_api.wire import ScrapedDocument
from jobs.models import Document, Job, Screenshot
from jobs.models.screenshots import MAX_PER_DOCUMENT
from keys.allowlist import allowed_api_url

logger = logging.getLogger(__name__)

# Rows read at once by the fetcher, and files deleted per task.
FETCH_BATCH = 50
DELETE_BATCH = 200
# The largest screenshot kept (a full-page screenshot of a long page is a few MB), and the
# longest one fetch may take, connecting and every byte included (seconds).
MAX_BYTES = 20 * 2**20
FETCH_DEADLINE = 30.0


def allowed_hosts(job: Job) -> set[str]:
    """Where the job's screenshots may be fetched from: the storage hosts Firecrawl uses
    (FIRECRAWL_SCREENSHOT_HOSTS), and the host of the job's own Firecrawl server while that
    server is allowed (FIRECRAWL_API_URLS), as a self-hosted server may serve them itself."""
    hosts = {host.lower() for host in settings.FIRECRAWL_SCREENSHOT_HOSTS}
    if allowed_api_url(job.api_url) and host_of(job.api_url):
        hosts.add(host_of(job.api_url))
    return hosts


def new_fetcher() -> ImageFetcher:
    return ImageFetcher(
        max_bytes=MAX_BYTES,
        deadline=FETCH_DEADLINE,
    )


def fetch_due(key_pk: int, *, seconds: float) -> int:
    """Keep the due screenshots of the key's jobs, starting none after `seconds`; returns how
    many were attempted. One image takes at most FETCH_DEADLINE, so a slow
    storage host holds the worker about `seconds` plus that, then the rest waits its turn."""
    started = time.monotonic()
    attempted = 0
    storage = storages["default"]
    with new_fetcher() as fetcher:
        while time.monotonic() - started < seconds:
            due = Screenshot.objects.due().filter(job__api_key_id=key_pk).select_related("job")
            batch = list(due[:FETCH_BATCH])
            if not batch:
                break
            for shot in batch:
                if time.monotonic() - started >= seconds:
                    break
                keep(shot, fetcher, storage)
                attempted += 1
    return attempted


def keep(shot: Screenshot, fetcher: ImageFetcher, storage: Storage) -> None:
    """One attempt at one screenshot: fetch or decode it, store it, record the outcome."""
    try:
        image = _image(shot, fetcher)
        name = _store(shot, image, storage)
    except ImageRefused as exc:
        shot.record_failure(exc.message, retryable=exc.retryable)
        return
    except Exception as exc:
        # A bug, or an answer nothing anticipated: counted as an attempt, never retried at once.
        logger.exception("Screenshot %s could not be kept", shot.pk)
        shot.record_failure(f"Unexpected error ({type(exc).__name__})", retryable=True)
        return
    if not shot.keep(name, image.type.content_type, len(image.data)):
        # The job was deleted (or another fetch won) while this one ran: nothing refers to it.
        try:
            storage.delete(name)
        except Exception as exc:
            logger.warning("Deleting unreferenced screenshot file %s failed: %r", name, exc)


def _image(shot: Screenshot, fetcher: ImageFetcher) -> Image:
    assert shot.job is not None
    if shot.inline:
        return fetcher.decode(_inline_value(shot))
    return fetcher.fetch(shot.source, allowed_hosts(shot.job))


def _inline_value(shot: Screenshot) -> str:
    """The data: URI, from the stored document (the row only notes that it was one)."""
    raw = (
        Document.objects.filter(job=shot.job, position=shot.position)
        .values_list("raw", flat=True)
        .first()
    )
    if raw is None:
        raise ImageRefused("Its document is no longer cached")
    shots, _ = ScrapedDocument.from_text(raw).screenshots(MAX_PER_DOCUMENT)
    value = dict(shots).get(shot.shot)
    if value is None:
        raise ImageRefused("Its document no longer holds this screenshot")
    return value


def _store(shot: Screenshot, image: Image, storage: Storage) -> str:
    try:
        return storage.save(shot.storage_name(image.type.extension), ContentFile(image.data))
    except Exception as exc:
        # The filesystem full, S3 unreachable or refusing: the image may be kept next time.
        logger.warning("Storing screenshot %s failed: %r", shot.pk, exc)
        raise ImageRefused(
            f"Could not write it to storage ({type(exc).__name__})", retryable=True
        ) from None


def delete_orphaned(pks: list[int]) -> int:
    """Delete the files of these rows whose job was deleted, then the rows; returns how many
    went. A file that cannot be deleted now (storage unreachable) keeps its row for later."""
    storage = storages["default"]
    done = []
    for pk, name in Screenshot.objects.orphaned().filter(pk__in=pks).values_list("pk", "name"):
        if name:
            try:
                storage.delete(name)
            except Exception as exc:
                logger.warning("Deleting screenshot file %s failed: %r", name, exc)
                continue
        done.append(pk)
    Screenshot.objects.orphaned().filter(pk__in=done).delete()
    return len(done)
