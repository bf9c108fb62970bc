"""The sync and the worker against a malicious Firecrawl stand-in (tests/hostile.py): every bad
answer becomes a clear error on the job that backs off, a real worker process stops reading a body
past the cap and goes on working, and one user's slow upstream is cut at the deadline so another
user's job gets the worker.
"""

import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from jobs.sync import sync_job
from jobs.tasks import request_sync
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, BOB_KEY, make_job
from tests.hostile import (
    HostileFirecrawl,
    drip_body,
    endless_chunks,
    gzip_bomb,
    json_reply,
    plain_flood,
    status_body,
)
from tests.processes import start_worker
from tests.waiting import wait_until

KEY = "fc-hostilesync00000000000000000bad1"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as server:
        yield server


@pytest.fixture
def hostile_key(alice: Any, hostile: HostileFirecrawl) -> ApiKey:
    return ApiKey.objects.create(owner=alice, name="Hostile", key=KEY, api_url=hostile.url)


@pytest.fixture(autouse=True)
def no_retries(settings: Any) -> None:
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (status_body(total=10**30), "impossible total"),
        (status_body(expiresAt="9999-12-31T23:59:59-14:00"), "impossible expiry time"),
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
        (status_body(duration=1e308), "impossible duration"),
    ],
    ids=["total 10**30", "expiresAt overflowing", "arrays 100,000 deep", "duration 1e308"],
)
def test_an_impossible_answer_is_a_clear_error_that_backs_off(
    hostile_key: ApiKey, hostile: HostileFirecrawl, body: Any, message: str
) -> None:
    job = make_job(hostile_key, hostile.job(json_reply(body)))
    before = timezone.now()
    sync_job(job.pk)
    job.refresh_from_db()
    assert message in job.last_error and "retrying in" in job.last_error
    assert job.is_active and job.consecutive_failures == 1
    # Not retried at once (the review saw 77 failed tasks in 8 minutes): the next poll backs off.
    assert job.next_poll_at - before >= timedelta(seconds=9)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.next_poll_at - before >= timedelta(seconds=19)


def test_odd_values_in_documents_are_normalised_and_the_page_is_kept(
    hostile_key: ApiKey, hostile: HostileFirecrawl
) -> None:
    document = {
        "markdown": "half \ud83d emoji",
        "metadata": {"statusCode": "9" * 5000, "sourceURL": "https://a.example/", "title": "x"},
    }
    body = status_body(data=[document], next="http://[")
    job = make_job(hostile_key, hostile.job(json_reply(body)))
    sync_job(job.pk)
    job.refresh_from_db()
    stored = job.documents.get()
    assert stored.status_code is None and stored.content.markdown == "half \ufffd emoji"
    assert job.last_error == "" and job.documents_cached == 1


def test_an_absurd_retry_after_is_waited_within_reason(
    hostile_key: ApiKey, hostile: HostileFirecrawl
) -> None:
    limited = json_reply({"success": False, "error": "Rate limit"}, 429, {"Retry-After": "1e308"})
    job = make_job(hostile_key, hostile.job(limited))
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.last_error.startswith("Rate limited by Firecrawl, retrying in")
    assert timezone.now() < job.next_poll_at <= timezone.now() + timedelta(minutes=10)


def test_a_key_whose_server_is_no_longer_allowed_sends_nothing_and_pauses_its_jobs(
    hostile_key: ApiKey, hostile: HostileFirecrawl, settings: Any
) -> None:
    job = make_job(hostile_key, hostile.job(json_reply(status_body())))
    settings.FIRECRAWL_API_URLS = ["https://api.firecrawl.dev"]  # narrowed after the key was added
    hostile.hits.clear()
    sync_job(job.pk)
    job.refresh_from_db()
    assert hostile.hits == []
    assert job.sync_state == Job.SyncState.PAUSED
    assert f"no longer allows requests to {hostile.url}" in job.last_error


def test_a_job_stops_caching_at_the_per_job_document_cap(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_MAX_DOCUMENTS_PER_JOB = 150
    job = make_job(key, sim.create_batch(ALICE_KEY, n=300, state="completed"))
    for _ in range(3):
        sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == job.documents.count() == 150
    assert job.sync_state == Job.SyncState.PAUSED
    assert "limit of 150 documents per job" in job.last_error


# ---------------------------------------------------------------------------------------------
# A real worker process


def cached(job: Job) -> int:
    return Job.objects.values_list("documents_cached", flat=True).get(pk=job.pk)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "body",
    [gzip_bomb, plain_flood, endless_chunks],
    ids=["gzip inflating to 4 GB", "600 MB plain body", "endless chunked body"],
)
def test_a_worker_stops_reading_a_body_past_the_cap_and_goes_on_working(
    hostile_key: ApiKey,
    hostile: HostileFirecrawl,
    key: ApiKey,
    sim: FakeFirecrawl,
    body: Any,
    tmp_path: Path,
) -> None:
    job = make_job(hostile_key, hostile.job(body()))
    worker = start_worker(tmp_path / "worker.log")
    try:
        wait_until(
            lambda: Job.objects.get(pk=job.pk).sync_state == Job.SyncState.PAUSED,
            "the job paused",
            process=worker,
        )
        # The same process, alive and well, then caches the next job to its end.
        after = make_job(key, sim.create_batch(ALICE_KEY, n=50, state="completed"))
        request_sync(after)
        wait_until(lambda: cached(after) == 50, "the next job cached", process=worker)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    job.refresh_from_db()
    assert "more than 64 MB in one response" in job.last_error


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_slow_upstream_is_cut_at_the_deadline_so_another_users_job_is_cached(
    hostile_key: ApiKey, hostile: HostileFirecrawl, bob_key: ApiKey, sim: FakeFirecrawl,
    tmp_path: Path,
) -> None:  # fmt: skip
    deadline = 3.0
    # Alice's upstream answers one byte every half second (her page would take 80 minutes);
    # her job is queued first, and one worker runs one task at a time.
    alices = make_job(hostile_key, hostile.job(drip_body(0.5, b"{" + b" " * 10_000)))
    bobs = make_job(bob_key, sim.create_batch(BOB_KEY, n=50, state="completed"))
    request_sync(alices)
    request_sync(bobs)
    worker = start_worker(
        tmp_path / "worker.log", lease_seconds=10, FIRECRAWL_WORKER_DEADLINE=str(deadline)
    )
    try:
        wait_until(lambda: cached(bobs) == 50, "Bob's job cached", process=worker)
        wait_until(
            lambda: Job.objects.get(pk=alices.pk).last_error, "Alice's sync ended", process=worker
        )
    finally:
        worker.terminate()
        worker.wait(10)
    alices.refresh_from_db()
    # What ended her sync, and so gave the worker to Bob's job: the deadline.
    assert f"did not finish answering within {deadline:g} s" in alices.last_error
