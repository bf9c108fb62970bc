"""The fault matrix: each upstream fault, a job synced to its end, its cache checked against truth.

Each case runs the real sync against the Firecrawl simulator over HTTP (a manual sim clock, so
it is deterministic), sometimes through a small rewriting proxy for what the simulator cannot do
itself (status flip-flopping, garbage JSON, a body that trickles in, expiry between two pages).
For each case: documents lost = 0, duplicated = 0, and the job ends in the right state with the
right message. The module prints a table (fault, upstream requests, documents expected / cached /
duplicated, final state) and writes it to fault-matrix.txt in pytest's temp dir.
"""

import http.server
import json
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import pytest

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from jobs.models import Job
from jobs.sync import sync_job
from keys import clients
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job

N = 300  # documents per job; 3 pages of 100 when complete

# ---------------------------------------------------------------------------------------------
# A rewriting proxy in front of the simulator.

Rewrite = Callable[[str, int, bytes], tuple[int, bytes] | None]


class RewritingProxy:
    """Forwards to the simulator; `rewrite(path_and_query, status, body)` may replace the answer.

    `before(path_and_query)` runs before forwarding (to change the simulator mid-walk), and
    `trickle` sends each body in small pieces with a pause between them (a slow body).
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.rewrite: Rewrite | None = None
        self.before: Callable[[str], None] | None = None
        self.trickle: tuple[int, float] | None = None  # (pieces, pause seconds)
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.serve(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        if self.before is not None:
            self.before(handler.path)
        request = urllib.request.Request(
            self.target + handler.path,
            headers={"Authorization": handler.headers.get("Authorization", "")},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as upstream:
                status, body = upstream.status, upstream.read()
        except HTTPError as error:
            status, body = error.code, error.read()
        if self.rewrite is not None and (replaced := self.rewrite(handler.path, status, body)):
            status, body = replaced
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if self.trickle is None:
            handler.wfile.write(body)
            return
        pieces, pause = self.trickle
        size = max(1, -(-len(body) // pieces))
        for start in range(0, len(body), size):
            handler.wfile.write(body[start : start + size])
            handler.wfile.flush()
            time.sleep(pause)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------------------------
# Fixtures and the table.


@dataclass
class Row:
    fault: str
    requests: int
    expected: int
    cached: int
    duplicated: int
    lost: int
    state: str
    message: str
    seen: list[str] = field(default_factory=list)


@pytest.fixture
def proxy(sim: FakeFirecrawl) -> Iterator[RewritingProxy]:
    proxy = RewritingProxy(sim.url)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def table(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Row]]:
    rows: list[Row] = []
    yield rows
    if not rows:
        return
    text = format_table(rows)
    path = Path(tmp_path_factory.getbasetemp()) / "fault-matrix.txt"
    path.write_text(text)
    # Shown even when the tests pass, so the figures are in every CI log.
    capture: Any = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{text}\n(written to {path})", flush=True)


def format_table(rows: list[Row]) -> str:
    head = ["fault", "upstream requests", "expected", "cached", "duplicated", "lost", "final state"]
    body = [
        [r.fault, *map(str, (r.requests, r.expected, r.cached, r.duplicated, r.lost)), r.state]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]

    def fmt(line: list[str]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |"

    lines = ["Fault matrix (one job per fault, synced to its end)", fmt(head)]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [fmt(line) for line in body]
    lines.append("")
    lines.append("Messages shown on the job page along the way (first distinct ones):")
    for r in rows:
        shown = " / ".join(m for m in r.seen[:3]) or "(none)"
        lines.append(f"- {r.fault}: {shown}")
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def fast_retries(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "MAX_RETRY_WAIT", 0)  # 429s are rescheduled, not slept through
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000
    monkeypatch.setattr(clients, "READ_TIMEOUT", 0.3)


@pytest.fixture
def proxied_key(alice: Any, proxy: RewritingProxy) -> ApiKey:
    return ApiKey.objects.create(owner=alice, name="Proxied", key=KEY, api_url=proxy.url)


# ---------------------------------------------------------------------------------------------
# Driving a job to its end, and measuring it.


def drive(
    job: Job,
    clock: ManualClock,
    *,
    after_round: Callable[[int, Job], None] | None = None,
    rounds: int = 200,
) -> tuple[Job, list[str], list[str]]:
    """Sync until the job is settled; returns it, the messages seen, and the statuses seen."""
    messages: list[str] = []
    statuses: list[str] = []
    for number in range(rounds):
        sync_job(job.pk)
        job.refresh_from_db()
        statuses.append(job.status)
        for shown in (
            job.last_error,
            job.upstream_warning and f"Firecrawl: {job.upstream_warning}",
        ):
            if shown and shown not in messages:
                messages.append(shown)
        if not job.is_active:
            return job, messages, statuses
        if after_round is not None:
            after_round(number, job)
        clock.advance(1)
    raise AssertionError(f"job did not settle: {job.status} {job.last_error}")


def measure(
    fault: str,
    job: Job,
    sim: FakeFirecrawl,
    messages: list[str],
    expected_docs: list[dict[str, Any]] | None = None,
) -> Row:
    remote_id = str(job.remote_id)
    if expected_docs is None:
        # The truth is what the job holds once it is over upstream, not what a sync saw.
        sim.complete(remote_id)
        expected_docs = sim.job(remote_id).documents
    cached = list(job.documents.order_by("position").values_list("position", "raw", "scrape_id"))
    counts = Counter(scrape_id for _, _, scrape_id in cached)
    duplicated = sum(n - 1 for n in counts.values())
    expected_ids = {d["metadata"]["scrapeId"] for d in expected_docs}
    lost = len(expected_ids - set(counts))
    # Exactly the truth, in upstream order, at upstream positions, byte for byte.
    assert [p for p, _, _ in cached] == list(range(len(cached)))
    assert [json.loads(raw) for _, raw, _ in cached] == expected_docs
    assert job.documents_cached == len(cached)
    state = job.status
    if job.sync_state == Job.SyncState.EXPIRED:
        state += ", expired upstream"
    if job.pagination_stuck:
        state += ", pagination stuck"
    if job.sync_state == Job.SyncState.PAUSED:
        state += ", needs attention"
    requests = sum(1 for r in sim.requests if remote_id in r.path)
    return Row(
        fault, requests, len(expected_docs), len(cached), duplicated, lost, state,
        job.last_error, messages,
    )  # fmt: skip


def record(table: list[Row], row: Row) -> Row:
    table.append(row)
    assert row.lost == 0 and row.duplicated == 0, row
    return row


# ---------------------------------------------------------------------------------------------
# Faults the simulator injects, on a job that completes while it is synced.

INJECTED = [
    ("429 with Retry-After", Fault.rate_limit(retry_after=3), 4, "retrying in 3 s"),
    ("429, wait only in text", Fault.rate_limit(retry_after=None, wait_text=7), 4, "in 7 s"),
    (
        "429, no hint at all",
        Fault.rate_limit(retry_after=None, wait_text=None),
        7,
        "retrying in 1 s",
    ),
    ("500 burst", Fault.server_error(500), 7, "internal error (500), exception ID"),
    ("502 burst (nginx HTML)", Fault.server_error(502), 7, "internal error (502)"),
    ("503 burst (text)", Fault.server_error(503), 7, "internal error (503)"),
    ("timeouts (no answer in 0.3 s)", Fault.slow(0.6), 6, "did not answer in time"),
    ("slow answers (0.1 s each)", Fault.slow(0.1), 10, None),
    ("connection dropped mid-page", Fault.drop(), 7, "dropped mid-response"),
    ("truncated JSON", Fault.invalid_json(), 4, "not valid JSON"),
    ("HTML error page on a 200", Fault.html_error_page(), 4, "HTML page instead of JSON"),
    ("HTML error page on a 502", Fault.html_error_page(status=502), 7, "internal error (502)"),
    ("404 in the first seconds", Fault.not_found(), 2, "does not know this job yet"),
]


@pytest.mark.parametrize(
    ("name", "fault", "count", "message"), INJECTED, ids=[case[0] for case in INJECTED]
)
def test_an_injected_fault_loses_and_duplicates_nothing(
    sim: FakeFirecrawl,
    clock: ManualClock,
    key: ApiKey,
    table: list[Row],
    name: str,
    fault: Fault,
    count: int,
    message: str | None,
) -> None:
    remote_id = sim.create_batch(KEY, n=N, rate=30)
    # The faults land on the first reads, mid-walk and past a sync's retries (4 per read).
    clock.advance(4)
    sim.inject(fault, job_id=remote_id, count=count)
    job, messages, _ = drive(make_job(key, remote_id), clock)
    row = record(table, measure(name, job, sim, messages))
    assert job.status == Job.Status.COMPLETED and job.fully_cached
    assert job.last_error == "", "the fault's message is cleared once the sync recovers"
    if message is None:
        assert messages == []
    else:
        assert any(message in shown for shown in messages), messages
    assert row.cached == N


def test_total_shrinking_as_urls_fail(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, table: list[Row]
) -> None:
    remote_id = sim.create_batch(KEY, n=N, rate=30, fail_every=7)
    job, messages, _ = drive(make_job(key, remote_id), clock)
    record(table, measure("total shrinking (every 7th URL fails)", job, sim, messages))
    assert job.status == Job.Status.COMPLETED
    assert job.total == N - N // 7 == job.documents_cached
    assert job.failed_urls.count() == N // 7


def test_a_foreign_host_in_next_is_never_contacted(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, table: list[Row]
) -> None:
    hits: list[str] = []

    class Trap(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.headers.get("Authorization", ""))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    trap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    try:
        remote_id = sim.create_batch(KEY, n=N, rate=30)
        host = f"http://127.0.0.1:{trap.server_address[1]}"
        sim.inject(Fault.foreign_next(host=host), job_id=remote_id, count=1000)
        job, messages, _ = drive(make_job(key, remote_id), clock)
    finally:
        trap.shutdown()
        trap.server_close()
    record(table, measure("foreign host in next", job, sim, messages))
    assert hits == [], "the key went to the host named in `next`"
    assert job.status == Job.Status.COMPLETED


def test_the_repeated_page_mode_stops_with_a_message(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, table: list[Row]
) -> None:
    sim.set_mode("2025")  # the self-hosted server that ignores skip: every page is page one
    remote_id = sim.create_batch(KEY, n=N, state="completed")
    job, messages, _ = drive(make_job(key, remote_id), clock)
    reachable = sim.job(remote_id).documents[:100]  # all this server can ever give
    row = record(table, measure("repeated pages (skip ignored)", job, sim, messages, reachable))
    assert job.pagination_stuck and job.status == Job.Status.COMPLETED
    assert row.cached == 100
    assert job.last_error == (
        f"Firecrawl returned the same page twice; 100 of {N} documents could be fetched"
    )
    assert row.requests <= 4  # page one, its repeat, /errors: no loop


def test_results_expiring_between_two_pages(
    sim: FakeFirecrawl, clock: ManualClock, proxied_key: ApiKey, proxy: RewritingProxy,
    table: list[Row],
) -> None:  # fmt: skip
    remote_id = sim.create_batch(KEY, n=N, state="completed")

    def expire_at_third_page(path: str) -> None:
        if "skip=200" in path:
            sim.expire(remote_id)

    proxy.before = expire_at_third_page
    job, messages, _ = drive(make_job(proxied_key, remote_id), clock)
    served = sim.job(remote_id).documents[:200]
    row = record(table, measure("expiry during the sync", job, sim, messages, served))
    assert job.sync_state == Job.SyncState.EXPIRED and row.cached == 200
    assert job.last_error == f"Results expired upstream: 200 of {N} documents were cached"


def test_a_job_expiring_while_it_runs(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, table: list[Row]
) -> None:
    remote_id = sim.create_batch(KEY, n=N, rate=30)

    def expire_after_four_rounds(number: int, job: Job) -> None:
        if number == 3:
            sim.expire(remote_id)

    job, messages, _ = drive(make_job(key, remote_id), clock, after_round=expire_after_four_rounds)
    cached = job.documents_cached
    served = sim.job(remote_id).documents[:cached]
    record(table, measure("expiry while running", job, sim, messages, served))
    assert job.sync_state == Job.SyncState.EXPIRED and 0 < cached < N
    assert (
        job.last_error == f"Results expired upstream: {cached} of {job.total} documents were cached"
    )


def test_a_failed_kickoff_success_false_on_a_200(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, table: list[Row]
) -> None:
    remote_id = sim.create_batch(KEY, n=0, state="failed")
    sim.inject(Fault.success_false(), job_id=remote_id, path_contains="?skip", count=1)
    job, messages, _ = drive(make_job(key, remote_id), clock)
    record(table, measure("success:false on a 200", job, sim, messages))
    assert job.status == Job.Status.FAILED and job.is_settled
    assert "failed to start" in job.upstream_warning


def status_flipper(proxy: RewritingProxy, said: str, lie: str, every: int) -> Any:
    """A lagging replica: every `every`-th status read that says `said` says `lie` instead."""
    reads = Counter[str]()

    def flip(path: str, status: int, body: bytes) -> tuple[int, bytes] | None:
        if status != 200 or "/errors" in path:
            return None
        reads["n"] += 1
        payload = json.loads(body)
        if payload.get("status") != said or reads["n"] % every:
            return None
        payload["status"] = lie
        if lie == "scraping":
            # A running job always has a `next` upstream.
            payload["next"] = payload.get("next") or f"{proxy.url}{path}"
        return 200, json.dumps(payload).encode()

    return flip


def test_status_flip_flopping_never_steps_back(
    sim: FakeFirecrawl, clock: ManualClock, proxied_key: ApiKey, proxy: RewritingProxy,
    table: list[Row],
) -> None:  # fmt: skip
    """Replicas disagreeing: every other read says `scraping` again once the job completed."""
    remote_id = sim.create_batch(KEY, n=N, rate=30)
    proxy.rewrite = status_flipper(proxy, "completed", "scraping", every=2)
    job, messages, statuses = drive(make_job(proxied_key, remote_id), clock)
    # Once completed, never `scraping` again, whatever a lagging replica said.
    first_done = statuses.index(Job.Status.COMPLETED)
    assert set(statuses[first_done:]) == {Job.Status.COMPLETED}
    record(table, measure("status flip-flopping", job, sim, messages))
    assert job.status == Job.Status.COMPLETED


def test_a_body_that_trickles_in_slower_than_the_read_timeout(
    sim: FakeFirecrawl, clock: ManualClock, proxied_key: ApiKey, proxy: RewritingProxy,
    table: list[Row],
) -> None:  # fmt: skip
    """Each piece comes within the read timeout (0.3 s), the whole body takes longer."""
    remote_id = sim.create_batch(KEY, n=N, state="completed")
    proxy.trickle = (6, 0.1)
    job, messages, _ = drive(make_job(proxied_key, remote_id), clock)
    record(table, measure("slow body (trickled, 0.6 s)", job, sim, messages))
    assert job.status == Job.Status.COMPLETED and messages == []


@pytest.mark.parametrize(
    ("name", "garbage", "message"),
    [
        ("invalid JSON (trailing comma)", b'{"success":true,"status":"scraping",}', "not valid"),
        ("JSON that is not an object", b'["success", true]', "not an object"),
        ("JSON without status/counters", b'{"success":true}', "lacks status or counters"),
    ],
)
def test_garbage_json_is_retried_later(
    sim: FakeFirecrawl, clock: ManualClock, proxied_key: ApiKey, proxy: RewritingProxy,
    table: list[Row], name: str, garbage: bytes, message: str,
) -> None:  # fmt: skip
    remote_id = sim.create_batch(KEY, n=N, rate=30)
    reads = Counter[str]()

    def corrupt(path: str, status: int, body: bytes) -> tuple[int, bytes] | None:
        # Reads 3 to 7: past one sync's single retry of an unreadable body, mid-walk.
        reads["n"] += 1
        return (200, garbage) if 3 <= reads["n"] <= 7 and "/errors" not in path else None

    proxy.rewrite = corrupt
    job, messages, _ = drive(make_job(proxied_key, remote_id), clock)
    record(table, measure(name, job, sim, messages))
    assert job.status == Job.Status.COMPLETED and job.last_error == ""
    assert any(message in shown for shown in messages), messages


def test_a_replica_claiming_completion_too_early(
    sim: FakeFirecrawl, clock: ManualClock, proxied_key: ApiKey, proxy: RewritingProxy,
    table: list[Row],
) -> None:  # fmt: skip
    """Flip-flopping the other way: some reads say `completed` while the job still runs."""
    remote_id = sim.create_batch(KEY, n=N, rate=30)
    proxy.rewrite = status_flipper(proxy, "scraping", "completed", every=3)
    job, messages, _ = drive(make_job(proxied_key, remote_id), clock)
    record(table, measure("status flip-flopping (early completed)", job, sim, messages))
    assert job.status == Job.Status.COMPLETED


def test_a_zip_taken_while_the_sync_adds_documents_is_consistent(
    key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from jobs import export
    from tests.conftest import make_documents

    monkeypatch.setattr(export, "ROWS_PER_BATCH", 10)  # the zip reads 50 documents in 5 batches
    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e12", status="scraping")
    make_documents(job, 50)
    chunks = export.zip_stream(job, job.documents.all())
    data = next(chunks)  # the first batch is written, the zip is still reading
    make_documents(job, 30, start=50)  # the sync stores the next page meanwhile
    data += b"".join(chunks)
    archive = zipfile.ZipFile(io.BytesIO(data))
    lines = archive.read("documents.jsonl").decode().splitlines()
    manifest = json.loads(archive.read("manifest.json"))
    markdown = [name for name in archive.namelist() if name.startswith("markdown/")]
    # The zip holds the job as it was when the download began, in each of its parts.
    assert len(lines) == manifest["counts"]["inZip"] == len(manifest["documents"]) == 50
    assert len(markdown) == 50
