"""Crash and restart, in real processes: a worker SIGKILLed again and again during a 5,000-document
sync, and the web server (gunicorn) SIGKILLed during polls and during a zip download.

All marked slow (the file takes ~70 s; `make test` and CI run them, `-m "not slow"` skips them).
tests/jobs/test_worker.py has a smaller kill test. Every process runs against the test database.
"""

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Document, FailedUrl, Job
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import make_job
from tests.processes import ROOT, assert_cache_exact, child_env, start_worker

KEY = "fc-crashtest00000000000000000000c0de"
CRASH_DOCS = int(os.getenv("CRASH_TEST_DOCS", "5000"))
CRASH_KILLS = int(os.getenv("CRASH_TEST_KILLS", "20"))


class ServedLog:
    """Wraps the simulator to count the documents each status response carried."""

    def __init__(self, sim: FakeFirecrawl) -> None:
        self.sim = sim
        self.served: list[tuple[int, int]] = []  # (skip, documents in the page)
        self.requested: list[int] = []  # the skip of each status request, as it arrives
        self._handle = sim.handle
        self._lock = threading.Lock()

    def __call__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        status_read = method == "GET" and "/errors" not in target
        skip = int(target.partition("skip=")[2].partition("&")[0] or 0)
        if status_read:
            with self._lock:
                self.requested.append(skip)
        response = self._handle(method, target, headers, body)
        if status_read and response.status == 200:
            with self._lock:
                self.served.append((skip, len(json.loads(response.body)["data"])))
        return response

    def asked_from(self, skip: int) -> int:
        """How many status requests so far asked for the page at `skip` or beyond."""
        with self._lock:
            return sum(1 for asked in self.requested if asked >= skip)

    def positions(self) -> Counter[int]:
        """How many times each document position went over the wire in a 200."""
        counts: Counter[int] = Counter()
        for skip, size in self.served:
            counts.update(range(skip, skip + size))
        return counts


@pytest.fixture(scope="module")
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=5) as sim:
        sim.add_key(KEY, team="crash")
        yield sim


@pytest.fixture
def served(sim: FakeFirecrawl) -> Iterator[ServedLog]:
    log = ServedLog(sim)
    sim.handle = log  # type: ignore[method-assign]
    yield log
    del sim.handle  # back to the class's method
    sim.clear_faults()


@pytest.fixture
def key(alice: Any, sim: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(owner=alice, name="Crash", key=KEY, api_url=sim.url)


def report(request: pytest.FixtureRequest, text: str) -> None:
    capture: Any = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{text}", flush=True)


# ---------------------------------------------------------------------------------------------
# The worker, killed 20 times during a 5,000-document sync.


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_5000_document_sync_survives_20_worker_kills(
    key: ApiKey, sim: FakeFirecrawl, served: ServedLog, tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    remote_id = sim.create_batch(KEY, n=CRASH_DOCS, state="completed", doc_size=1500)
    # Slow pages, so that the walk is long and a kill always finds pages in flight.
    sim.inject(Fault.slow(0.15), job_id=remote_id, count=1_000_000)
    job = make_job(key, remote_id)
    log = tmp_path / "worker.log"
    started = time.monotonic()
    cached_at_kills: list[int] = []
    in_flight_at_kills: list[int] = []
    for _ in range(CRASH_KILLS):
        before = job.documents_cached
        worker = start_worker(log, lease_seconds=1)
        # Killed only once this worker has stored something: it is syncing, not waiting for
        # the lease of the worker killed before it.
        grew = wait_for(lambda before=before: cached(job) > before, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert grew, f"the worker stored nothing in 30 s (cached {before})"
        job.refresh_from_db()
        cached_at_kills.append(job.documents_cached)
        # Requests for pages the cache did not hold when the worker died: the kill landed
        # mid-write (a page being read or stored), which the next worker must fetch again.
        in_flight_at_kills.append(served.asked_from(job.documents_cached))
        if job.documents_cached == CRASH_DOCS:
            break
    worker = start_worker(log, lease_seconds=1)
    try:
        wait_for(lambda: not Job.objects.get(pk=job.pk).is_active, timeout=120)
    finally:
        worker.terminate()
        worker.wait(10)
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.is_settled, f"not settled: {job.documents_cached} cached"
    assert_cache_exact(job, sim)
    assert job.fully_cached and job.last_error == ""
    positions = served.positions()
    refetched = sum(1 for count in positions.values() if count > 1)
    report(
        request,
        f"Crash test: {CRASH_DOCS:,} documents, {len(cached_at_kills)} SIGKILLs, {elapsed:.0f} s; "
        f"cached after each kill: {cached_at_kills}; pages in flight at each kill: "
        f"{in_flight_at_kills}; {len(served.served)} status pages served, {refetched} documents "
        f"served more than once; final cache exact ({job.documents_cached:,} documents, "
        "0 duplicates).",
    )
    assert len(cached_at_kills) == CRASH_KILLS, "the job finished before every kill landed"
    assert cached_at_kills == sorted(set(cached_at_kills)), "the cache grew between kills"
    assert all(count > 0 for count in in_flight_at_kills), "every kill landed mid-write"
    # A kill loses at most the page being stored and the one read ahead: nothing else is
    # fetched again.
    assert refetched <= len(cached_at_kills) * 200
    assert "Traceback" not in log.read_text(errors="replace")


def cached(job: Job) -> int:
    return Job.objects.values_list("documents_cached", flat=True).get(pk=job.pk)


def wait_for(condition: Any, timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return False


# ---------------------------------------------------------------------------------------------
# The web server, killed during polls and during a zip download.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class WebServer:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "firecrawl_dash.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=child_env(),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/accounts/login/", timeout=5)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("gunicorn did not start")

    def kill(self) -> None:
        """SIGKILL the whole server: master and workers, as an OOM killer or a power cut would."""
        assert self.process is not None
        for pid in [*worker_pids(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


def worker_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebServer]:
    server = WebServer(tmp_path / "gunicorn.log")
    server.start()
    yield server
    server.stop()


def session_for(user: Any) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session


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
    """No lock left behind by the killed process: a write goes through at once."""
    started = time.monotonic()
    Job.objects.filter(pk__lt=0).update(label="x")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE jobs_job SET label = label WHERE id > 0")
    assert time.monotonic() - started < 2


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
    time.sleep(1.0)
    web.kill()
    time.sleep(0.3)
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
