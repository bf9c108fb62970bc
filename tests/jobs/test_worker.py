"""The background worker: tasks, the scheduler and concurrency, in real processes (the worker
killed mid-sync is tests/jobs/sync/test_crash.py)."""

import signal
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl
from jobs.models import Document, Job
from jobs.tasks import enqueue_due_jobs, index_job_task, request_sync, sync_job_task
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job
from tests.processes import assert_cache_exact, start_worker
from tests.waiting import wait_for_line, wait_until


@pytest.mark.django_db(transaction=True)
def test_a_queued_task_syncs_the_job(key: ApiKey, sim: FakeFirecrawl) -> None:
    from django.core.management import call_command

    remote_id = sim.create_batch(KEY, n=150, state="completed")
    job = make_job(key, remote_id)
    assert request_sync(job) is True
    assert request_sync(job) is False  # one queued task per job
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    job.refresh_from_db()
    assert job.documents_cached == 150 and job.fully_cached
    # Searchable as cached, with no indexing task.
    assert not job.documents.filter(search_indexed=False).exists()
    assert job.index_queued_at is None
    assert enqueue_due_jobs() == 0  # settled jobs are never queued again


def queued_index_tasks(job: Job) -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=index_job_task.module_path, args_kwargs__args=[job.pk], status="READY"
    ).count()


def test_a_sync_leaves_nothing_to_index_and_queues_no_index_task(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, sim.create_batch(KEY, n=150, state="completed"))
    sync_job_task.call(job.pk)
    assert job.documents.count() == 150
    # Indexed as they were stored: no task is needed, and the scheduler finds none to queue.
    assert not job.documents.filter(search_indexed=False).exists()
    assert queued_index_tasks(job) == 0
    enqueue_due_jobs()
    assert queued_index_tasks(job) == 0


def test_the_scheduler_recovers_a_lost_index_task(db: Any, key: ApiKey) -> None:
    import uuid

    from django.utils import timezone

    # Settled, so the scheduler would not sync it: only the index is left to do.
    job = make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.EXPIRED)
    Document.objects.bulk_create(Document(job=job, position=n, raw="{}") for n in range(3))
    make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.EXPIRED)  # fully indexed: left alone
    # Queued an hour ago and never started: its worker died.
    Job.objects.filter(pk=job.pk).update(index_queued_at=timezone.now() - timedelta(hours=1))
    assert enqueue_due_jobs() == 1
    assert enqueue_due_jobs() == 0  # one queued task per job
    assert queued_index_tasks(job) == 1
    # A worker killed while indexing: the task had started, nothing is queued any more.
    Job.objects.filter(pk=job.pk).update(index_queued_at=None)
    assert enqueue_due_jobs() == 1
    index_job_task.call(job.pk)
    job.refresh_from_db()
    assert job.index_queued_at is None
    assert not job.documents.filter(search_indexed=False).exists()
    assert enqueue_due_jobs() == 0


def test_the_scheduler_queues_only_due_active_jobs(db: Any, key: ApiKey) -> None:
    import uuid

    from django.utils import timezone

    due = make_job(key, str(uuid.uuid4()))
    make_job(key, str(uuid.uuid4()), next_poll_at=timezone.now() + timedelta(hours=1))
    make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.EXPIRED)
    make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.PAUSED)
    make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.SETTLED)
    make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.NOT_FOUND)
    assert enqueue_due_jobs() == 1
    due.refresh_from_db()
    assert due.sync_queued_for is not None
    assert enqueue_due_jobs() == 0


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_and_a_poller_fetch_each_page_once(
    key: ApiKey, sim: FakeFirecrawl, tmp_path: Path, alice: Any
) -> None:
    remote_id = sim.create_batch(KEY, n=2000, state="completed", doc_size=800)
    job = make_job(key, remote_id)
    sim.clear_requests()
    log = tmp_path / "workers.log"
    # A lease and a deadline longer than the whole sync: a page is read twice only if two syncs
    # of the job ever overlap (or one stops for time with the next page read ahead).
    workers = [
        start_worker(log, lease_seconds=120, FIRECRAWL_WORKER_DEADLINE="100") for _ in range(2)
    ]
    stop = threading.Event()

    def poll() -> None:
        client = Client()
        client.force_login(alice)
        while not stop.is_set():
            client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
            time.sleep(0.05)
        connection.close()

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        wait_until(lambda: not Job.objects.get(pk=job.pk).is_active, "the job settled")
    finally:
        stop.set()
        poller.join()
        for worker in workers:
            worker.terminate()
            worker.wait(10)
    assert_cache_exact(job, sim)
    fetched = Counter(
        int(r.query.get("skip", 0))
        for r in sim.requests
        if r.method == "GET" and r.path.endswith(remote_id) and r.status == 200
    )
    pages_with_documents = {skip: count for skip, count in fetched.items() if skip < 2000}
    assert len(pages_with_documents) == 20
    assert set(pages_with_documents.values()) == {1}, pages_with_documents


def test_a_stop_signal_ends_the_worker_loop_between_steps_never_inside_one() -> None:
    from jobs.management.commands.run_worker import GracefulWorker

    worker = GracefulWorker(
        queue_names=["default"],
        excluded_queue_names=[],
        interval=0.1,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="w1",
    )
    # No task running: the stock worker would sys.exit() here, maybe inside a claim's COMMIT.
    worker.shutdown(signal.SIGTERM, None)
    assert worker.running is False
    with pytest.raises(SystemExit):  # a second signal still forces the exit
        worker.shutdown(signal.SIGTERM, None)


@pytest.mark.django_db(transaction=True)
def test_run_worker_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    worker = start_worker(log)
    # Logged by the worker loop once its signal handlers are installed.
    wait_for_line(log, "Starting worker", worker)
    worker.terminate()
    assert worker.wait(60) == 0
    text = log.read_text(errors="replace")
    assert "stopping after the current step" in text and "Traceback" not in text
