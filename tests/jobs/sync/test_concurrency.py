"""Concurrency on PostgreSQL: 4 workers, 20 pollers of the same job and a download, all at once.

Skipped on SQLite (one writer at a time: there is nothing to race). Run it with
DATABASE_URL=postgres://... (CI does). Checks: the cache is exact with no duplicates, no
deadlock or error anywhere, no document went over the wire twice (no faults, so no retries), and
the upstream requests stay within the poll budget whatever the number of pollers.
"""

import io
import json
import math
import threading
import time
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job
from tests.jobs.sync.support import ServedLog, report
from tests.processes import assert_cache_exact, start_worker
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DOCS, RATE = 3000, 300.0  # a job that runs for ~10 s while everything below happens
POLL_INTERVAL = 1  # FIRECRAWL_POLL_INTERVAL in the workers (tests/processes.py child_env)


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrency tests need PostgreSQL (DATABASE_URL=postgres://...)")


def test_four_workers_twenty_pollers_and_a_download_fetch_each_document_once(
    alice: Any, key: ApiKey, sim: FakeFirecrawl, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    served = ServedLog(sim)
    sim.handle = served  # type: ignore[method-assign]
    remote_id = sim.create_batch(KEY, n=DOCS, rate=RATE, doc_size=800, fail_every=100)
    job = make_job(key, remote_id)
    log = tmp_path / "workers.log"
    started = time.monotonic()
    workers = [start_worker(log, lease_seconds=30) for _ in range(4)]
    stop = threading.Event()
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    zips: list[bytes] = []
    lock = threading.Lock()

    def poll() -> None:
        client = Client()
        client.force_login(alice)
        try:
            while not stop.is_set():
                response = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
                with lock:
                    statuses[response.status_code] += 1
                time.sleep(0.1)
        except Exception as exc:  # any error (a deadlock) fails the test below
            errors.append(repr(exc))
        finally:
            connection.close()

    def download() -> None:
        client = Client()
        client.force_login(alice)
        try:
            while not stop.is_set():
                response = client.get(f"/jobs/{job.pk}/download.zip")
                zips.append(b"".join(response.streaming_content))  # type: ignore[attr-defined]
                time.sleep(0.5)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(20)]
    threads.append(threading.Thread(target=download))
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: not Job.objects.get(pk=job.pk).is_active, "the job settled")
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.is_settled and errors == [], errors
    assert_cache_exact(job, sim)
    assert set(statuses) <= {200, 286} and sum(statuses.values()) > 100, statuses
    worker_log = log.read_text(errors="replace")
    assert "deadlock" not in worker_log.lower() and "Traceback" not in worker_log
    # Nothing fetched twice: every document went over the wire exactly once.
    positions = served.positions()
    assert len(positions) == job.documents_cached == DOCS - DOCS // 100
    assert max(positions.values()) == 1, [p for p, n in positions.items() if n > 1][:10]
    # The poll budget: pages that bring documents, plus at most one empty poll per interval,
    # plus the failed-URL listing; 20 pollers add nothing (they never call Firecrawl).
    upstream = [r for r in sim.requests if remote_id in r.path]
    pages_with_documents = sum(1 for _, size in served.served if size)
    budget = pages_with_documents + math.ceil(elapsed / POLL_INTERVAL) + 2
    assert len(upstream) <= budget, (len(upstream), budget)
    # Downloads taken during the sync are consistent snapshots.
    assert zips
    for data in zips:
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.testzip() is None
        lines = archive.read("documents.jsonl").decode().splitlines()
        # (That the manifest agrees with documents.jsonl mid-sync is checked, deterministically,
        # in test_reliability.py::test_a_zip_taken_while_the_sync_adds_documents_is_consistent.)
        ids = [json.loads(line)["metadata"]["scrapeId"] for line in lines]
        assert len(ids) == len(set(ids))
    report(
        request,
        f"Concurrency (PostgreSQL): {DOCS:,} documents, 4 workers, 20 pollers + a download, "
        f"{elapsed:.1f} s; {sum(statuses.values())} polls, {len(zips)} zips, "
        f"{len(upstream)} upstream requests (budget {budget}), "
        f"{pages_with_documents} pages with documents, 0 documents fetched twice, 0 errors.",
    )
