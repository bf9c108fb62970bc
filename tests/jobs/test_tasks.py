"""Queueing syncs (jobs.tasks): however many pages poll a job, Firecrawl hears from us at most
once per poll interval."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job
from jobs.tasks import request_sync
from keys.models import ApiKey
from tests.conftest import make_job

KEY = "fc-tasks00000000000000000000000be11"


@pytest.fixture(scope="module")
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=13) as sim:
        sim.add_key(KEY, team="tasks")
        yield sim


@pytest.fixture
def key(alice: Any, sim: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(owner=alice, name="Tasks", key=KEY, api_url=sim.url)


def status_requests(sim: FakeFirecrawl, remote_id: str) -> int:
    return sum(1 for r in sim.requests if r.method == "GET" and r.path.endswith(remote_id))


def run_worker_until_idle() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")


@pytest.mark.django_db(transaction=True)
def test_a_poll_that_saw_the_job_due_before_its_sync_does_not_queue_a_second_poll(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    # The benchmark's race (docs/PERFORMANCE.md, Polling): a poll reads the job (due, nobody
    # syncing it), the queued sync starts and frees its queue slot, and the poll's request for
    # a sync lands in that free slot. The sync it queues runs right after the first one.
    settings.FIRECRAWL_POLL_INTERVAL = 60
    remote_id = sim.create_batch(KEY, n=100_000, rate=10.0)
    job = make_job(key, remote_id)
    assert request_sync(job)
    seen_by_the_poll = Job.objects.get(pk=job.pk)
    sim.inject(Fault.slow(1.0), job_id=remote_id)  # the sync is in flight for a second

    def poll_during_the_sync() -> None:
        try:
            deadline = time.monotonic() + 30
            while not Job.objects.filter(pk=job.pk, lease_token__isnull=False).exists():
                assert time.monotonic() < deadline, "the sync never started"
                time.sleep(0.01)
            request_sync(seen_by_the_poll)
        finally:
            connection.close()

    poller = threading.Thread(target=poll_during_the_sync)
    poller.start()
    try:
        run_worker_until_idle()  # the sync, then whatever was queued meanwhile
    finally:
        poller.join()
    assert status_requests(sim, remote_id) == 1
    job.refresh_from_db()
    assert job.documents_cached > 0
    # The next poll is still queued, for when it is due.
    assert job.sync_queued_for == job.next_poll_at


@pytest.mark.django_db(transaction=True)
def test_a_sync_requested_again_when_due_polls_again(key: ApiKey, sim: FakeFirecrawl) -> None:
    remote_id = sim.create_batch(KEY, n=100_000, rate=10.0)
    job = make_job(key, remote_id)
    request_sync(job)
    run_worker_until_idle()
    assert status_requests(sim, remote_id) == 1
    # Due again (as after the poll interval, or the Refresh button): the next sync polls.
    Job.objects.filter(pk=job.pk).update(next_poll_at=job.created_at, sync_queued_for=None)
    job.refresh_from_db()
    assert request_sync(job)
    run_worker_until_idle()
    assert status_requests(sim, remote_id) == 2
