"""The sync and the worker against a malicious Firecrawl stand-in (tests/hostile.py): every bad
answer becomes a clear error on the job that backs off, memory stays bounded in a real worker
process, and one user's slow upstream does not hold up another user's job.
"""

import signal
import time
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
from tests.conftest import make_job
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

KEY = "fc-hostilesync00000000000000000bad1"


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as server:
        yield server


@pytest.fixture
def key(alice: Any, hostile: HostileFirecrawl) -> ApiKey:
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
    key: ApiKey, hostile: HostileFirecrawl, body: Any, message: str
) -> None:
    job = make_job(key, hostile.job(json_reply(body)))
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
    key: ApiKey, hostile: HostileFirecrawl
) -> None:
    document = {
        "markdown": "half \ud83d emoji",
        "metadata": {"statusCode": "9" * 5000, "sourceURL": "https://a.example/", "title": "x"},
    }
    body = status_body(data=[document], next="http://[")
    job = make_job(key, hostile.job(json_reply(body)))
    sync_job(job.pk)
    job.refresh_from_db()
    stored = job.documents.get()
    assert stored.status_code is None and stored.content.markdown == "half \ufffd emoji"
    assert job.last_error == "" and job.documents_cached == 1


def test_an_absurd_retry_after_is_waited_within_reason(
    key: ApiKey, hostile: HostileFirecrawl
) -> None:
    limited = json_reply({"success": False, "error": "Rate limit"}, 429, {"Retry-After": "1e308"})
    job = make_job(key, hostile.job(limited))
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.last_error.startswith("Rate limited by Firecrawl, retrying in")
    assert timezone.now() < job.next_poll_at <= timezone.now() + timedelta(minutes=10)


def test_a_key_whose_server_is_no_longer_allowed_sends_nothing_and_pauses_its_jobs(
    key: ApiKey, hostile: HostileFirecrawl, settings: Any
) -> None:
    job = make_job(key, hostile.job(json_reply(status_body())))
    settings.FIRECRAWL_API_URLS = ["https://api.firecrawl.dev"]  # narrowed after the key was added
    hostile.hits.clear()
    sync_job(job.pk)
    job.refresh_from_db()
    assert hostile.hits == []
    assert job.sync_state == Job.SyncState.PAUSED
    assert f"no longer allows requests to {hostile.url}" in job.last_error


def test_a_job_stops_caching_at_the_per_job_document_cap(alice: Any, settings: Any) -> None:
    settings.FIRECRAWL_MAX_DOCUMENTS_PER_JOB = 150
    with FakeFirecrawl(seed=4) as sim:
        sim.add_key(KEY)
        key = ApiKey.objects.create(owner=alice, name="Capped", key=KEY, api_url=sim.url)
        job = make_job(key, sim.create_batch(KEY, n=300, state="completed"))
        for _ in range(3):
            sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == job.documents.count() == 150
    assert job.sync_state == Job.SyncState.PAUSED
    assert "limit of 150 documents per job" in job.last_error


# ---------------------------------------------------------------------------------------------
# A real worker process


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "body",
    [gzip_bomb, plain_flood, endless_chunks],
    ids=["gzip inflating to 4 GB", "600 MB plain body", "endless chunked body"],
)
def test_the_workers_memory_stays_bounded_whatever_the_upstream_sends(
    key: ApiKey, hostile: HostileFirecrawl, body: Any, tmp_path: Path
) -> None:
    job = make_job(key, hostile.job(body()))
    worker = start_worker(tmp_path / "worker.log")
    try:
        paused = wait_for(lambda: Job.objects.get(pk=job.pk).sync_state == Job.SyncState.PAUSED, 60)
        peak = peak_rss_mb(worker.pid)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    job.refresh_from_db()
    print(f"worker peak RSS: {peak:.0f} MB; {job.last_error}")
    assert paused, job.last_error
    assert "more than 64 MB in one response" in job.last_error
    assert peak < 250


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_slow_upstream_holds_up_another_users_job_no_longer_than_one_deadline(
    key: ApiKey, hostile: HostileFirecrawl, bob: Any, tmp_path: Path
) -> None:
    deadline = 3.0
    with FakeFirecrawl(seed=8) as sim:
        sim.add_key("fc-bob00000000000000000000000000f00d")
        bob_key = ApiKey.objects.create(
            owner=bob, name="Bob", key="fc-bob00000000000000000000000000f00d", api_url=sim.url
        )
        # Alice's upstream answers one byte every half second, forever; her job is queued first.
        alices = make_job(key, hostile.job(drip_body(0.5, b"{" + b" " * 10_000)))
        bobs = make_job(bob_key, sim.create_batch(bob_key.key, n=50, state="completed"))
        request_sync(alices)
        request_sync(bobs)
        worker = start_worker(tmp_path / "worker.log", FIRECRAWL_WORKER_DEADLINE=str(deadline))
        started = time.monotonic()
        try:
            cached = wait_for(lambda: Job.objects.get(pk=bobs.pk).documents_cached == 50, 30)
            waited = time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait(10)
    alices.refresh_from_db()
    print(f"Bob's job cached {waited:.1f} s after the worker started (deadline {deadline} s)")
    assert cached
    assert f"did not finish answering within {deadline:g} s" in alices.last_error
    # The worker's start-up (imports, migrations check) plus one deadline, with a margin.
    assert waited < deadline + 4
