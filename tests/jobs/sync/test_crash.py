"""Crash and restart, in real processes: a worker SIGKILLed inside the transaction that stores a
page, at kill points across pages and within them; a worker SIGKILLed again and again while it
reads pages of a 5,000-document sync; the web server (gunicorn) SIGKILLed during polls and during
a zip download.

All marked slow (`make test` and CI run them, `-m "not slow"` skips them). Every process runs
against the test database.
"""

import contextlib
import io
import json
import os
import signal
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.db import connection, transaction

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Document, FailedUrl, Job
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job
from tests.jobs.sync.support import ServedLog, report
from tests.processes import (
    WebServer,
    assert_cache_exact,
    assert_cache_is_a_prefix,
    session_for,
    start_worker,
)
from tests.waiting import TIMEOUT, wait_until

CRASH_DOCS = int(os.getenv("CRASH_TEST_DOCS", "5000"))
CRASH_KILLS = int(os.getenv("CRASH_TEST_KILLS", "20"))


@pytest.fixture
def served(sim: FakeFirecrawl) -> ServedLog:
    log = ServedLog(sim)
    sim.handle = log  # type: ignore[method-assign]
    return log


# ---------------------------------------------------------------------------------------------
# The worker, killed inside the transaction that stores a page.

# Where each worker kills itself (tests/patched_manage.py), in documents it has written: inside
# a page's insert (before its first row, after one row, some, all but one, all of them) and,
# with "+", once a page is written whole, at the next statement (the job's counters). Pages
# hold 100 documents, and each worker starts where the last one's cache ended, so the kills
# land on the first, second, third and fourth pages of a run, and at six depths inside a page.
IN_WRITE_KILLS = ["0", "1", "57", "99", "100", "100+", "101", "150", "199", "200+", "250",
                  "299", "300+", "342"]  # fmt: skip
IN_WRITE_DOCS = 2_000


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_inside_the_write_of_a_page_leaves_an_exact_cache(
    key: ApiKey, sim: FakeFirecrawl, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    job = make_job(key, sim.create_batch(KEY, n=IN_WRITE_DOCS, state="completed", doc_size=300))
    log = tmp_path / "worker.log"
    cached_at_kills: list[int] = []
    for kill in IN_WRITE_KILLS:
        worker = start_worker(log, lease_seconds=1, patched=True, TEST_KILL_AFTER_DOCUMENTS=kill)
        try:
            assert worker.wait(timeout=TIMEOUT) == -signal.SIGKILL, log.read_text()[-3000:]
        finally:
            worker.kill()
            worker.wait()
        # What the dead worker left: every document once, at its upstream position, and the
        # counters saying exactly that. Nothing of the page it was writing.
        assert_cache_is_a_prefix(job, sim, f"after the kill at {kill}")
        # Indexed in the same transaction: no cached document is missing from search.
        assert not job.documents.filter(search_indexed=False).exists(), f"kill at {kill}"
        cached_at_kills.append(job.documents_cached)
        # Where the kill landed, as the worker said just before it: inside the transaction.
        assert kill_lines(log)[-1].endswith("in a transaction: yes"), kill_lines(log)
    assert len(kill_lines(log)) == len(IN_WRITE_KILLS)
    finish_with_a_worker(job, log)
    assert_cache_exact(job, sim)
    assert job.fully_cached and job.last_error == ""
    report(
        request,
        f"Kills inside the write: {IN_WRITE_DOCS:,} documents, {len(IN_WRITE_KILLS)} SIGKILLs; "
        f"cached after each: {cached_at_kills}; where each landed: "
        + "; ".join(line.removeprefix("test kill: ") for line in kill_lines(log))
        + f"; final cache exact ({job.documents_cached:,} documents, 0 duplicates).",
    )


def kill_lines(log: Path) -> list[str]:
    text = log.read_text(errors="replace")
    return [line for line in text.splitlines() if line.startswith("test kill: ")]


# ---------------------------------------------------------------------------------------------
# The worker, killed 20 times while it reads the pages of a 5,000-document sync.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_20_times_while_pages_are_in_flight_leaves_an_exact_cache(
    key: ApiKey, sim: FakeFirecrawl, served: ServedLog, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    remote_id = sim.create_batch(KEY, n=CRASH_DOCS, state="completed", doc_size=1500)
    # Slow pages, so that the walk is long and a kill always finds pages in flight.
    sim.inject(Fault.slow(0.15), job_id=remote_id, count=1_000_000)
    job = make_job(key, remote_id)
    log = tmp_path / "worker.log"
    cached_at_kills: list[int] = []
    in_flight_at_kills: list[int] = []
    for _ in range(CRASH_KILLS):
        before = job.documents_cached
        worker = start_worker(log, lease_seconds=1)
        # Killed only once this worker has stored something: it is syncing, not waiting for
        # the lease of the worker killed before it.
        try:
            wait_until(more_than(job, before), "a page stored", process=worker)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        job.refresh_from_db()
        cached_at_kills.append(job.documents_cached)
        # Requests for pages the cache did not hold when the worker died: the kill landed with
        # a page in flight (being read or stored), which the next worker must fetch again.
        in_flight_at_kills.append(served.asked_from(job.documents_cached))
        if job.documents_cached == CRASH_DOCS:
            break
    finish_with_a_worker(job, log)
    job.refresh_from_db()
    assert job.is_settled, f"not settled: {job.documents_cached} cached"
    assert_cache_exact(job, sim)
    assert job.fully_cached and job.last_error == ""
    positions = served.positions()
    refetched = sum(1 for count in positions.values() if count > 1)
    report(
        request,
        f"Kills with pages in flight: {CRASH_DOCS:,} documents, {len(cached_at_kills)} SIGKILLs; "
        f"cached after each kill: {cached_at_kills}; pages in flight at each kill: "
        f"{in_flight_at_kills}; {len(served.served)} status pages served, {refetched} documents "
        f"served more than once; final cache exact ({job.documents_cached:,} documents, "
        "0 duplicates).",
    )
    assert len(cached_at_kills) == CRASH_KILLS, "the job finished before every kill landed"
    assert cached_at_kills == sorted(set(cached_at_kills)), "a worker stored nothing"
    assert all(count > 0 for count in in_flight_at_kills), "a kill found no page in flight"
    # A kill loses at most the page being stored and the one read ahead: nothing else is
    # fetched again.
    assert refetched <= len(cached_at_kills) * 200
    assert "Traceback" not in log.read_text(errors="replace")


def finish_with_a_worker(job: Job, log: Path) -> None:
    """An unpatched worker, never killed, takes the job to its end."""
    worker = start_worker(log, lease_seconds=1)
    try:
        wait_until(lambda: not Job.objects.get(pk=job.pk).is_active, "settled", process=worker)
    finally:
        worker.terminate()
        worker.wait(10)


def cached(job: Job) -> int:
    return Job.objects.values_list("documents_cached", flat=True).get(pk=job.pk)


def more_than(job: Job, count: int) -> Callable[[], bool]:
    return lambda: cached(job) > count


# ---------------------------------------------------------------------------------------------
# The web server, killed during polls and during a zip download.


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebServer]:
    server = WebServer(tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def snapshot(job: Job) -> dict[str, Any]:
    """Everything a request could have half-written, except the sync-queue bookkeeping."""
    row: dict[str, Any] = dict(Job.objects.filter(pk=job.pk).values().get())
    for name in ("sync_queued_for", "updated_at"):
        row.pop(name)
    documents = Document.objects.filter(job=job)
    return {
        "job": row,
        "documents": documents.count(),
        "positions": list(documents.order_by("position").values_list("position", flat=True)),
        "raw_bytes": sum(documents.values_list("size", flat=True)),
        "failed": FailedUrl.objects.filter(job=job).count(),
        "keys": list(ApiKey.objects.values_list("pk", "key_hint", "budget_used")),
    }


def assert_database_writable() -> None:
    """No lock left behind by the killed process: a write to every job row goes through. A lock
    held for good fails it: SQLite gives up after its busy timeout, PostgreSQL after this one."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lock_timeout = '60s'")
        cursor.execute("UPDATE jobs_job SET label = label WHERE id > 0")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_web_server_during_polls_leaves_nothing_half_done(
    key: ApiKey, sim: FakeFirecrawl, web: WebServer, alice: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    remote_id = sim.create_batch(KEY, n=400, state="completed")
    job = make_job(key, remote_id)
    before = snapshot(job)
    session = session_for(alice)
    answered: Counter[int] = Counter()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                response = session.get(
                    f"{web.url}/jobs/{job.pk}/", headers={"HX-Request": "true"}, timeout=5
                )
                answered[response.status_code] += 1
            except requests.RequestException:
                answered[0] += 1
                time.sleep(0.02)

    pollers = [threading.Thread(target=poll) for _ in range(8)]
    for thread in pollers:
        thread.start()
    try:
        # Killed once the sync the polls asked for is queued: a kill between a poll's claim of
        # the job's sync slot and its task's insert leaves the slot claimed with no task, which
        # the next poll takes over only a lease's length later (tasks._free), not at once.
        wait_until(
            lambda: answered[200] > 5 and DBTaskResult.objects.exists(),
            "polls answered and their sync queued",
        )
        web.kill()
        wait_until(lambda: answered[0] > 0, "polls refused by the dead server")
    finally:
        stop.set()
        for thread in pollers:
            thread.join()
    assert answered[200] > 5, answered
    assert_database_writable()
    # Every poll asked for a sync, exactly one was queued, nothing else changed.
    assert snapshot(job) == before
    assert DBTaskResult.objects.count() == 1
    job.refresh_from_db()
    assert job.lease_token is None and job.sync_queued_for is not None

    web.start()
    response = session.get(f"{web.url}/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    job.refresh_from_db()
    assert_cache_exact(job, sim)
    assert session.get(f"{web.url}/jobs/{job.pk}/", headers={"HX-Request": "true"}).status_code in (
        200,
        286,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_killing_the_web_server_during_a_zip_download_leaves_nothing_behind(
    key: ApiKey, sim: FakeFirecrawl, web: WebServer, alice: Any, settings: Any
) -> None:
    remote_id = sim.create_batch(KEY, n=1500, state="completed", doc_size=6000, fail_every=50)
    job = make_job(key, remote_id)
    for _ in range(5):
        sync_job(job.pk)
    job.refresh_from_db()
    assert job.is_settled
    before = snapshot(job)
    session = session_for(alice)

    response = session.get(f"{web.url}/jobs/{job.pk}/download.zip", stream=True, timeout=10)
    assert response.status_code == 200
    partial = b""
    for chunk in response.iter_content(64 * 1024):
        partial += chunk
        if len(partial) > 256 * 1024:
            break
    web.kill()  # mid-stream: the server is blocked writing the rest
    with contextlib.suppress(Exception):  # the connection dies with the server
        partial += response.raw.read()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(partial))  # the client got a cut-off file, not a wrong one
    assert_database_writable()
    assert snapshot(job) == before

    web.start()
    whole = session.get(f"{web.url}/jobs/{job.pk}/download.zip", timeout=60).content
    archive = zipfile.ZipFile(io.BytesIO(whole))
    assert archive.testzip() is None
    lines = archive.read("documents.jsonl").decode().splitlines()
    assert len(lines) == job.documents_cached == 1470
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["complete"] is True
    assert manifest["counts"]["inZip"] == 1470 and manifest["counts"]["failed"] == 30
    assert snapshot(job) == before
