"""Queueing syncs (jobs.tasks): however many pages poll a job, Firecrawl hears from us at most
once per poll interval."""

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from jobs.tasks import request_sync
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job
from tests.waiting import wait_until


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
    # Ten documents scraped already, then one a second: the first read has some however fast
    # the machine, and fits one status page however slow.
    remote_id = sim.create_batch(KEY, n=100_000, rate=1.0, start_offset=10.0)
    job = make_job(key, remote_id)
    assert request_sync(job)
    seen_by_the_poll = Job.objects.get(pk=job.pk)
    # The sync's read of the job is answered only once the poll has asked for its sync: the
    # sync is in flight for as long as the poll takes, however slow the machine.
    polled = threading.Event()
    answer = sim.handle

    def held(method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        if remote_id in target:
            assert polled.wait(timeout=120), "the poll never came"
        return answer(method, target, headers, body)

    sim.handle = held  # type: ignore[method-assign]

    def poll_during_the_sync() -> None:
        try:
            wait_until(
                lambda: Job.objects.filter(pk=job.pk, lease_token__isnull=False).exists(),
                "the sync started",
            )
            request_sync(seen_by_the_poll)
        finally:
            polled.set()
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
