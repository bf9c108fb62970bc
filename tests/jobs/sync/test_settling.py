"""A job settles only when Firecrawl has: the real server's late numbers, replayed on the simulator.

Measured on a real self-hosted Firecrawl (FIRECRAWL.md): a cancel finishes in the background (for
seconds `total` shrinks and /errors grows), a finished batch says `scraping` for up to ~15 s, and
`completed` can lag the documents already listed. Each test ends on Firecrawl's final numbers.
The simulator's clock is manual; the app's settle interval is real time, kept short here.
"""

import io
import json
import time
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fakecrawl import FakeFirecrawl, ManualClock
from jobs.models import Job
from jobs.sync import sync_job
from jobs.tasks import enqueue_due_jobs, request_sync_if_due, sync_job_task
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job

SETTLE = 0.2  # seconds of real time between the two agreeing reads


@pytest.fixture(autouse=True)
def settle_slowly(settings: Any, sim: FakeFirecrawl) -> None:
    settings.FIRECRAWL_SETTLE_SECONDS = SETTLE
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000
    sim.settle_seconds = 0.0
    sim.cancel_settle_seconds = None
    sim.completed_lag = 0


def poll_until_settled(job: Job, clock: ManualClock, sim_step: float) -> list[tuple[Any, ...]]:
    """Sync as the worker would whenever the job is due, the simulator's clock moving on;
    returns what the job said after each read (status, scraped, total, failed, settled)."""
    seen: list[tuple[Any, ...]] = []
    for _ in range(400):
        job.refresh_from_db()
        if not job.is_active:
            return seen
        if job.next_poll_at > timezone.now():
            time.sleep(min((job.next_poll_at - timezone.now()).total_seconds(), SETTLE) + 0.01)
            continue
        clock.advance(sim_step)  # Firecrawl moved on while we waited
        sync_job(job.pk)
        job.refresh_from_db()
        seen.append((job.status, job.scraped, job.total, job.failed_count, job.is_settled))
        # Due again at once while running (as a fast poll interval would have it).
        if not job.is_terminal:
            Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
    raise AssertionError(f"job did not settle: {seen[-5:]}")


def manifest(client: Client, job: Job) -> dict[str, Any]:
    body = b"".join(client.get(f"/jobs/{job.pk}/download.zip").streaming_content)  # type: ignore[attr-defined]
    result: dict[str, Any] = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("manifest.json"))
    return result


def test_a_background_cancel_settles_on_firecrawls_final_numbers(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    # Job C, measured: cancelled at 38 done of 150; total then shrank 150 -> 66 -> 53 -> 38
    # while /errors grew to 112, one URL every 1/8 s.
    sim.cancel_settle_seconds = 112 * 0.125
    remote_id = sim.create_batch(KEY, n=150, rate=1.0)
    job = make_job(key, remote_id)
    clock.advance(38)
    sync_job(job.pk)
    assert alice_client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert job.is_active

    reads = poll_until_settled(job, clock, sim_step=1.5)

    upstream = sim.job(remote_id)
    assert (upstream.status, upstream.completed, upstream.total) == ("cancelled", 38, 38)
    assert len(upstream.failed) == 112
    job.refresh_from_db()
    assert (job.status, job.completed, job.total, job.documents_cached) == ("cancelled", 38, 38, 38)
    # Every URL the cancel left is listed by /errors, and counted as cancelled, not as failed.
    assert (job.failed_count, job.cancelled_count) == (0, 112)
    assert job.failed_urls.filter(robots_blocked=False, cancelled=True).count() == 112
    # The app saw the numbers move after the cancel, and did not settle on any of them.
    assert any(total > 38 for _, _, total, _, _ in reads)
    assert [settled for *_, settled in reads].count(True) == 1 and reads[-1][-1]
    assert manifest(alice_client, job)["complete"] is True
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "38 of 150 pages scraped" in page and "112 cancelled" in page
    assert " failed" not in page.split('data-testid="scrape-counts"')[1].split("</span>")[0]


def test_the_manifest_says_complete_only_once_firecrawl_has_settled(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    sim.cancel_settle_seconds = 10.0
    remote_id = sim.create_batch(KEY, n=40, rate=1.0)
    job = make_job(key, remote_id)
    clock.advance(10)
    sync_job(job.pk)
    alice_client.post(f"/jobs/{job.pk}/cancel/")
    sync_job(job.pk)  # the first read after the cancel: cancelled, numbers still moving
    job.refresh_from_db()
    assert job.status == "cancelled" and not job.is_settled
    early = manifest(alice_client, job)
    assert early["complete"] is False and "settled" in early["note"]

    reads = poll_until_settled(job, clock, sim_step=2)

    final = manifest(alice_client, job)
    assert len(reads) > 2
    assert final["complete"] is True
    assert final["counts"]["cancelled"] == 30 and final["counts"]["failed"] == 0
    assert final["counts"]["upstreamTotal"] == 10


def test_a_late_completion_is_waited_for_not_guessed(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    # A finished batch says `scraping` with completed == total for up to ~15 s.
    sim.settle_seconds = 15.0
    remote_id = sim.create_batch(KEY, n=20, state="completed")
    job = make_job(key, remote_id)

    reads = poll_until_settled(job, clock, sim_step=3)

    scraping = [read for read in reads if read[0] == "scraping"]
    assert scraping and all(scraped == total == 20 for _, scraped, total, _, _ in scraping)
    assert reads[-1] == ("completed", 20, 20, 0, True)


def test_counts_never_show_more_cached_than_scraped(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    # One read gave completed: 62 with 63 documents listed (the server counts after listing).
    sim.completed_lag = 1
    remote_id = sim.create_batch(KEY, n=87, rate=1.0)
    job = make_job(key, remote_id)
    clock.advance(63)
    sync_job(job.pk)
    job.refresh_from_db()
    assert (job.completed, job.documents_cached) == (62, 63)

    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "63 of 87 pages scraped" in page
    assert "Cached 63 of 87 documents" in page
    assert 'aria-valuenow="63"' in page


def test_polling_stops_once_settled_and_nothing_reaches_firecrawl_after(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=30, state="completed", fail_every=10)
    job = make_job(key, remote_id)
    poll_until_settled(job, clock, sim_step=1)
    sim.clear_requests()

    job.refresh_from_db()
    for _ in range(3):
        response = alice_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
        assert response.status_code == 286  # htmx stops polling
        assert request_sync_if_due(job) is False
    Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now() - timedelta(hours=1))
    enqueue_due_jobs()  # the scheduler's round: it may index documents, never sync this job
    job.refresh_from_db()
    assert job.sync_queued_for is None
    sync_job_task.call(job.pk)  # a task queued before it settled finds nothing to do
    assert sim.requests == []
    job.refresh_from_db()
    assert job.is_settled and job.failed_count == 3


def test_refresh_now_reads_the_failed_urls_again(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    # Settled on numbers that Firecrawl later changed (a cancel finishing very late).
    sim.cancel_settle_seconds = 100.0
    remote_id = sim.create_batch(KEY, n=20, rate=1.0)
    job = make_job(key, remote_id)
    clock.advance(5)
    sync_job(job.pk)
    alice_client.post(f"/jobs/{job.pk}/cancel/")
    clock.advance(10)  # 1 URL failed in 10 s: within one settle interval nothing moves
    poll_until_settled(job, clock, sim_step=0)
    job.refresh_from_db()
    assert job.is_settled and 0 < job.cancelled_count < 15

    clock.advance(100)
    alice_client.post(f"/jobs/{job.pk}/refresh/")
    poll_until_settled(job, clock, sim_step=0)

    job.refresh_from_db()
    assert (job.total, job.cancelled_count) == (5, 15)
    assert job.failed_urls.count() == 15  # never duplicated


def test_an_id_firecrawl_never_knew_says_so_after_the_creation_race(
    sim: FakeFirecrawl, key: ApiKey, alice_client: Client
) -> None:
    job = make_job(key, str(uuid.uuid4()))
    sync_job(job.pk)  # a 404 in the first seconds: Firecrawl's creation race
    job.refresh_from_db()
    assert job.is_active and "does not know this job yet" in job.last_error

    Job.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(minutes=2), next_poll_at=timezone.now()
    )
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.sync_state == Job.SyncState.NOT_FOUND and not job.is_active
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Not found on Firecrawl" in page and "API version" in page
    assert "Check again" in page and "expired upstream" not in page
    assert "Pending" in page  # what Firecrawl last said is still shown, as such

    alice_client.post(f"/jobs/{job.pk}/refresh/")
    job.refresh_from_db()
    assert job.is_active  # re-checked on the next sync
