"""Tests of firecrawl_api's client against the fakecrawl simulator, a real local HTTP server.

Hostile answers (bombs, drips, impossible values) are in test_hostile_upstream; how each wire
value is read is in test_firecrawl_wire.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fakecrawl import FakeFirecrawl, Fault
from firecrawl_api import (
    AuthError,
    BadRequest,
    Conflict,
    CreditUsage,
    DeadlineExceeded,
    FirecrawlError,
    Forbidden,
    InvalidResponse,
    NotFound,
    NotSupported,
    PaymentRequired,
    RateLimited,
    RecentJob,
    StatusPage,
    Unreachable,
    UpstreamError,
)
from firecrawl_api.client import IDEMPOTENCY_HEADER, MAX_RETRY_AFTER, FirecrawlClient, _retry_after
from firecrawl_api.ids import is_uuid, mask_key, parse_job_reference
from tests.conftest import ALICE_KEY as KEY
from tests.hostile import HostileFirecrawl, json_reply

pytestmark = pytest.mark.sim(credits=1000)

UUID4 = "8a6ce4b8-3d5c-4ec6-b2d8-9722f7e756e8"
UUID7 = "01a22241-7cb8-705d-b6e5-09364c78195f"


# ---------------------------------------------------------------------------------------------
# Fixtures


@dataclass
class Recorder:
    """A tiny HTTP server standing in for a foreign host: it records every hit it gets."""

    hits: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    record = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            record.hits.append((self.command, self.path, dict(self.headers.items())))
            body = json.dumps({"success": True, "status": "completed", "completed": 0, "total": 0})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield record
    server.shutdown()
    server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(sim: FakeFirecrawl, sleeps: list[float]) -> Callable[..., FirecrawlClient]:
    def make(**overrides: Any) -> FirecrawlClient:
        options: dict[str, Any] = {
            "api_url": sim.url,
            "api_key": KEY,
            "api_version": "v1",
            "connect_timeout": 2,
            "read_timeout": 5,
            "sleep": sleeps.append,
        }
        options.update(overrides)
        return FirecrawlClient(**options)

    return make


@pytest.fixture
def client(make_client: Callable[..., FirecrawlClient]) -> FirecrawlClient:
    return make_client()


def requests_for(sim: FakeFirecrawl, job_id: str) -> list[Any]:
    return [record for record in sim.requests if job_id in record.path]


# ---------------------------------------------------------------------------------------------
# Reading status pages


def test_it_reads_every_document_page_by_page(sim: FakeFirecrawl, client: Any) -> None:
    job_id = sim.create_batch(KEY, n=250)

    page = client.job_status(job_id, kind="batch")
    pages = [page]
    while page.has_next:
        assert page.next_skip is not None
        page = client.job_status(job_id, skip=page.next_skip, kind="batch")
        pages.append(page)

    assert [len(p.documents) for p in pages] == [100, 100, 50]
    assert [p.skip for p in pages] == [0, 100, 200]
    assert pages[0].next_skip == 100
    assert pages[-1].next_skip is None
    assert pages[-1].status == "completed"
    assert (pages[-1].completed, pages[-1].total) == (250, 250)
    source_urls = {doc.source_url for p in pages for doc in p.documents}
    assert len(source_urls) == 250
    assert [r.query for r in requests_for(sim, job_id)][-1].get("skip") in ("200", ["200"])


def test_it_ends_the_walk_of_a_cancelled_job_whose_next_never_goes_away(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=120, rate=1000.0, start_offset=0.05)
    sim.cancel(job_id)

    page = client.job_status(job_id, kind="batch")
    calls = 1
    while page.has_next and calls < 10:
        assert page.next_skip is not None
        page = client.job_status(job_id, skip=page.next_skip, kind="batch")
        calls += 1

    assert page.status == "cancelled"
    assert page.next_skip is not None  # upstream still offers a `next`...
    assert not page.has_next  # ...but a page that brings nothing ends the walk
    assert calls < 10


def test_it_passes_limit_and_parses_it_back_from_next(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=30)

    page = client.job_status(job_id, skip=5, limit=10, kind="batch")

    assert len(page.documents) == 10
    assert (page.skip, page.next_skip) == (5, 15)
    assert requests_for(sim, job_id)[-1].query.get("limit") in ("10", ["10"])


def test_it_normalizes_documents_into_typed_fields(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=3)

    page = client.job_status(job_id, kind="batch")

    assert isinstance(page, StatusPage)
    assert page.expires_at is not None and page.expires_at.tzinfo is not None
    doc = page.documents[0]
    assert doc.raw["metadata"]["sourceURL"] == doc.source_url
    assert doc.markdown and doc.url and doc.title
    assert doc.status_code is not None
    assert doc.scrape_id is not None and is_uuid(doc.scrape_id)
    assert all(isinstance(link, str) for link in doc.links)


def test_it_reads_hostile_documents_without_raising(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=20, hostile=True)

    page = client.job_status(job_id, kind="batch")

    assert len(page.documents) == 20


def test_it_reads_v2_and_its_timing_fields(make_client: Any, sim: FakeFirecrawl) -> None:
    job_id = sim.create_batch(KEY, n=5)

    page = make_client(api_version="v2").job_status(job_id, kind="batch")

    assert len(page.documents) == 5
    assert page.created_at is not None
    assert page.duration is not None
    assert requests_for(sim, job_id)[-1].path.startswith("/v2/batch/scrape/")


def test_it_reads_crawl_jobs_on_the_crawl_path(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(KEY, n=5)

    client.job_status(job_id, kind="crawl")

    assert requests_for(sim, job_id)[-1].path == f"/v1/crawl/{job_id}"


def test_it_accepts_uuid_v4_ids(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(KEY, n=2, uuid_version=4)
    assert uuid.UUID(job_id).version == 4

    assert len(client.job_status(job_id.upper(), kind="batch").documents) == 2
    assert requests_for(sim, job_id)[-1].path == f"/v1/batch/scrape/{job_id}"


def test_it_accepts_uuid_v7_ids(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(KEY, n=2)
    assert uuid.UUID(job_id).version == 7

    assert len(client.job_status(job_id, kind="batch").documents) == 2


def test_it_sends_the_key_as_bearer_with_its_own_user_agent(recorder: Recorder) -> None:
    client = FirecrawlClient(recorder.url, "fc-headers-check-0000", sleep=lambda s: None)
    recorder.hits.clear()

    client.job_status(UUID7, kind="batch")

    [(method, path, headers)] = recorder.hits
    assert (method, path) == ("GET", f"/v1/batch/scrape/{UUID7}?skip=0")
    assert headers["Authorization"] == "Bearer fc-headers-check-0000"
    assert headers["Accept"] == "application/json"
    assert "firecrawl-dashboard" in headers["User-Agent"]
    recorder.hits.clear()


# ---------------------------------------------------------------------------------------------
# Pagination safety


def test_it_never_contacts_the_host_named_in_next(
    sim: FakeFirecrawl, client: FirecrawlClient, recorder: Recorder
) -> None:
    job_id = sim.create_batch(KEY, n=150)
    sim.inject(Fault.foreign_next(host=recorder.url), job_id=job_id, count=1)
    recorder.hits.clear()

    first = client.job_status(job_id, kind="batch")
    assert first.next_skip == 100
    second = client.job_status(job_id, skip=first.next_skip, kind="batch")

    assert len(second.documents) == 50
    assert recorder.hits == []
    assert all(r.api_key == KEY for r in requests_for(sim, job_id))


def test_it_never_builds_a_url_from_a_malformed_id(sim: FakeFirecrawl, make_client: Any) -> None:
    calls: list[None] = []
    client = make_client(on_request=lambda: calls.append(None))
    before = len(sim.requests)

    for bad in ["not-a-uuid", f"{UUID7}/../../team", f"{UUID7}?skip=5", "", f"x{UUID7}"]:
        with pytest.raises(BadRequest):
            client.job_status(bad, kind="batch")
    with pytest.raises(BadRequest):
        client.cancel("../credit-usage", kind="batch")
    with pytest.raises(BadRequest):
        client.errors("%2e%2e", kind="batch")

    assert calls == []
    assert len(sim.requests) == before


# ---------------------------------------------------------------------------------------------
# Errors: one class per upstream answer


def test_it_rejects_a_missing_key(make_client: Any) -> None:
    with pytest.raises(AuthError) as caught:
        make_client(api_key="").job_status(UUID7, kind="batch")

    assert caught.value.message == "Firecrawl rejected the API key (401)"
    assert caught.value.status_code == 401


def test_it_rejects_an_invalid_key(make_client: Any) -> None:
    bad_key = "fc-0123456789abcdef0123456789abcdef"

    with pytest.raises(AuthError) as caught:
        make_client(api_key=bad_key).job_status(UUID7, kind="batch")

    assert caught.value.api_message is not None
    assert bad_key not in str(caught.value) and bad_key not in repr(caught.value)


def test_it_reports_running_out_of_credits(sim: FakeFirecrawl, make_client: Any) -> None:
    broke = f"fc-{uuid.uuid4().hex}"
    sim.add_key(broke, team=f"broke-{broke[-8:]}", credits=0)
    requests_before = len(sim.requests)

    try:
        make_client(api_key=broke).start_batch(["https://example.com/a"], options={})
    except PaymentRequired as exc:
        assert exc.status_code == 402
    else:
        pytest.skip("the simulator does not answer 402 for a team without credits")
    assert len(sim.requests) == requests_before + 1


def test_it_forbids_another_teams_errors(sim: FakeFirecrawl, make_client: Any) -> None:
    job_id = sim.create_batch(KEY, n=3)
    bob = f"fc-{uuid.uuid4().hex}"
    sim.add_key(bob, team=f"bob-{bob[-8:]}", credits=1000)

    with pytest.raises(Forbidden) as caught:
        make_client(api_key=bob).errors(job_id, kind="batch")

    assert caught.value.status_code == 403


def test_it_reports_an_unknown_job_as_not_found(client: FirecrawlClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.job_status(str(uuid.uuid4()), kind="batch")

    assert caught.value.message == "Job not found upstream"
    assert caught.value.status_code == 404


def test_it_reports_an_expired_job_as_not_found(
    sim: FakeFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.expire(job_id)

    with pytest.raises(NotFound):
        client.job_status(job_id, kind="batch")
    assert sleeps == []


def test_it_retries_a_rate_limit_after_the_retry_after_header(
    sim: FakeFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.rate_limit(retry_after=1), job_id=job_id, count=1)

    page = client.job_status(job_id, kind="batch")

    assert len(page.documents) == 3
    assert sleeps == [1.0]
    assert [r.status for r in requests_for(sim, job_id)] == [429, 200]


def test_it_reads_the_wait_from_the_rate_limit_text_without_a_header(
    sim: FakeFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=2), job_id=job_id, count=1)

    client.job_status(job_id, kind="batch")

    assert sleeps == [2.0]


def test_it_gives_up_on_rate_limits_after_max_retries(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=12), job_id=job_id, count=10)

    with pytest.raises(RateLimited) as caught:
        make_client(max_retries=2).job_status(job_id, kind="batch")

    assert caught.value.retry_after == 12.0
    assert caught.value.message == "Rate limited by Firecrawl, retry in 12 s"
    assert sleeps == [12.0, 12.0]
    assert len(requests_for(sim, job_id)) == 3


def test_it_hands_a_long_rate_limit_back_to_the_caller_at_once(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.rate_limit(retry_after=90), job_id=job_id, count=1)

    with pytest.raises(RateLimited) as caught:
        make_client(max_wait=30).job_status(job_id, kind="batch")

    assert caught.value.retry_after == 90.0
    assert sleeps == []
    assert len(requests_for(sim, job_id)) == 1


def test_it_backs_off_with_jitter_when_no_wait_is_given(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.server_error(503), job_id=job_id, count=3)

    page = make_client(backoff_base=0.5, max_retries=4).job_status(job_id, kind="batch")

    assert len(page.documents) == 3
    assert len(sleeps) == 3
    for attempt, waited in enumerate(sleeps):
        assert 0 <= waited <= 0.5 * 2**attempt


def test_it_stops_retrying_server_errors_at_max_retries(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=10)

    with pytest.raises(UpstreamError) as caught:
        make_client(max_retries=3).job_status(job_id, kind="batch")

    assert caught.value.status_code == 500
    assert caught.value.exception_id
    assert caught.value.exception_id in caught.value.message
    assert len(requests_for(sim, job_id)) == 4
    assert len(sleeps) == 3


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (Fault.invalid_json(), "not valid JSON"),
        (Fault.html_error_page(), "HTML page instead of JSON"),
    ],
    ids=["invalid JSON", "HTML page"],
)
def test_it_reports_a_body_that_is_not_json(
    sim: FakeFirecrawl, client: FirecrawlClient, fault: Fault, message: str
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(fault, job_id=job_id, count=5)

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id, kind="batch")

    assert message in caught.value.message
    # One retry only: a proxy's hiccup is the only transient reason for a non-JSON 200.
    assert len(requests_for(sim, job_id)) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.invalid_json(), Fault.html_error_page(), Fault.drop()],
    ids=["invalid JSON", "HTML page", "dropped connection"],
)
def test_it_recovers_from_one_bad_response(
    sim: FakeFirecrawl, client: FirecrawlClient, fault: Fault
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(fault, job_id=job_id, count=1)

    assert len(client.job_status(job_id, kind="batch").documents) == 3
    assert len(requests_for(sim, job_id)) == 2


def test_it_retries_a_proxys_bad_gateway_page(sim: FakeFirecrawl, make_client: Any) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.server_error(502), job_id=job_id, count=5)

    with pytest.raises(UpstreamError) as caught:
        make_client(max_retries=1).job_status(job_id, kind="batch")

    assert caught.value.status_code == 502
    assert caught.value.exception_id is None
    assert caught.value.api_message is None


def test_it_reports_success_false_as_a_failed_job(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.success_false(), job_id=job_id, count=1)

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id, kind="batch")

    assert caught.value.message.startswith("Firecrawl reported the job as failed")
    assert len(requests_for(sim, job_id)) == 1


def test_it_retries_a_dropped_connection_then_gives_up(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.drop(), job_id=job_id, count=10)

    with pytest.raises(Unreachable):
        make_client(max_retries=2).job_status(job_id, kind="batch")

    assert len(requests_for(sim, job_id)) == 3
    assert len(sleeps) == 2


def test_it_times_out_on_a_slow_server(sim: FakeFirecrawl, make_client: Any) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.slow(1.5), job_id=job_id, count=2)

    with pytest.raises(Unreachable) as caught:
        make_client(read_timeout=0.2, max_retries=1).job_status(job_id, kind="batch")

    assert "timed out" in caught.value.message


def test_it_reports_a_refused_connection(sleeps: list[float]) -> None:
    client = FirecrawlClient("http://127.0.0.1:9", KEY, max_retries=1, sleep=sleeps.append)

    with pytest.raises(Unreachable) as caught:
        client.job_status(UUID7, kind="batch")

    # A sentence that can be shown alone, with no "Could not reach …: Could not reach …".
    assert (
        caught.value.message
        == "Could not reach Firecrawl at http://127.0.0.1:9 (connection refused)"
    )
    assert len(sleeps) == 1


def test_it_stops_at_the_deadline_however_long_the_server_takes(
    sim: FakeFirecrawl, make_client: Any
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    # Ten minutes: only the deadline ends the wait (the read timeout, 5 s, would say otherwise).
    sim.inject(Fault.slow(600), job_id=job_id, count=1)

    with pytest.raises(DeadlineExceeded) as caught:
        make_client(deadline=0.5).job_status(job_id, kind="batch")

    assert caught.value.message == f"Firecrawl at {sim.url} did not finish answering within 0.5 s"
    assert isinstance(caught.value, Unreachable) and not caught.value.retryable


def test_it_starts_no_wait_that_would_end_past_the_deadline(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=5), job_id=job_id, count=1)

    with pytest.raises(RateLimited) as caught:
        make_client(deadline=3).job_status(job_id, kind="batch")

    assert caught.value.retry_after == 5.0
    assert sleeps == []
    assert len(requests_for(sim, job_id)) == 1


def test_it_tells_a_missing_route_from_a_missing_job(sim: FakeFirecrawl, make_client: Any) -> None:
    # A wrong API URL answers Express's HTML 404 for every route: not "the job expired".
    with pytest.raises(NotSupported) as caught:
        make_client(api_url=sim.url + "/api").job_status(UUID7, kind="batch")

    assert caught.value.message == (
        f"This Firecrawl server has no such endpoint (404 for /api/v1/batch/scrape/{UUID7}); "
        "check the API URL and version"
    )


# ---------------------------------------------------------------------------------------------
# Writes are never retried


def test_it_never_retries_a_cancel(
    sim: FakeFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(KEY, n=3, rate=1.0)
    sim.inject(Fault.server_error(502), job_id=job_id, count=5)

    with pytest.raises(UpstreamError):
        client.cancel(job_id, kind="batch")

    assert [r.method for r in requests_for(sim, job_id)] == ["DELETE"]
    assert sleeps == []


def test_it_cancels_a_running_job(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(KEY, n=50, rate=1.0)

    assert client.cancel(job_id, kind="batch") == "cancelled"
    assert client.job_status(job_id, kind="batch").status == "cancelled"


def test_it_never_retries_starting_a_batch(
    sim: FakeFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    sim.inject(Fault.server_error(503), count=1)
    before = len([r for r in sim.requests if r.method == "POST"])

    with pytest.raises(UpstreamError):
        client.start_batch(["https://example.com/a"], options={})

    assert len([r for r in sim.requests if r.method == "POST"]) == before + 1
    assert sleeps == []


def test_it_reports_cancelling_a_completed_job_as_a_conflict(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(KEY, n=3, state="completed")

    with pytest.raises(Conflict) as caught:
        client.cancel(job_id, kind="batch")

    assert caught.value.status_code == 409
    assert caught.value.api_message


def test_it_lists_each_problem_of_a_rejected_batch(
    client: FirecrawlClient, sleeps: list[float]
) -> None:
    urls = ["https://example.com/a", "not a url", "https://example.com/b", "ftp://x"]

    with pytest.raises(BadRequest) as caught:
        client.start_batch(urls, options={"formats": ["markdown"]})

    details = caught.value.details
    assert {line.partition(":")[0] for line in details} == {"urls[1]", "urls[3]"}
    assert details[0] == "urls[1]: Invalid URL"
    assert caught.value.message == (
        f"Firecrawl rejected the request (400): urls[1]: Invalid URL (and {len(details) - 1} more)"
    )
    assert sleeps == []


def test_it_starts_a_crawl(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    started = client.start_crawl("https://example.com/", options={"limit": 3})

    assert is_uuid(started.id) and started.id == started.id.lower()
    assert started.url.endswith(f"/v1/crawl/{started.id}")
    assert client.job_status(started.id, kind="crawl").total == 3


def test_it_sends_the_idempotency_key_firecrawl_reads(recorder: Recorder) -> None:
    client = FirecrawlClient(recorder.url, "fc-idempotency-check")
    key = str(uuid.uuid4())
    recorder.hits.clear()

    with pytest.raises(InvalidResponse):  # the recorder's answer has no job id
        client.start_batch(["https://example.com/a"], options={}, idempotency_key=key.upper())

    [(method, path, headers)] = recorder.hits
    assert (method, path) == ("POST", "/v1/batch/scrape")
    assert IDEMPOTENCY_HEADER == "x-idempotency-key"
    assert {name.lower(): value for name, value in headers.items()}[IDEMPOTENCY_HEADER] == key
    recorder.hits.clear()


def test_it_refuses_an_idempotency_key_firecrawl_would_refuse(recorder: Recorder) -> None:
    client = FirecrawlClient(recorder.url, "fc-idempotency-check")
    recorder.hits.clear()

    with pytest.raises(ValueError):
        client.start_crawl("https://example.com/", options={}, idempotency_key="retry-1\r\nX: y")

    assert recorder.hits == []


def test_it_starts_a_batch(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    started = client.start_batch(
        ["https://example.com/a", "not a url"],
        options={"formats": ["markdown"], "ignoreInvalidURLs": True},
    )

    assert is_uuid(started.id) and started.id == started.id.lower()
    assert started.id in started.url
    assert started.invalid_urls == ["not a url"]
    assert client.job_status(started.id, kind="batch").total == 1


# ---------------------------------------------------------------------------------------------
# Failed URLs and credits


def test_it_lists_failed_urls(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(KEY, n=10, fail_every=5)

    listing = client.errors(job_id, kind="batch")

    assert len(listing.errors) == 2
    failed = listing.errors[0]
    assert failed.url and failed.error
    assert failed.timestamp is None or failed.timestamp.tzinfo is not None
    assert listing.robots_blocked == []
    assert requests_for(sim, job_id)[-1].path == f"/v1/batch/scrape/{job_id}/errors"


@pytest.mark.sim(mode="2025")
def test_it_finds_v2_failed_urls_on_the_2025_server(sim: FakeFirecrawl, make_client: Any) -> None:
    job_id = sim.create_batch(KEY, n=10, fail_every=5, uuid_version=4)

    listing = make_client(api_version="v2").errors(job_id, kind="batch")

    assert len(listing.errors) == 2
    assert [r.path for r in requests_for(sim, job_id)] == [
        f"/v2/batch/scrape/{job_id}/errors",
        f"/v2/crawl/{job_id}/errors",
    ]


def test_it_does_not_fall_back_when_the_job_is_unknown(
    sim: FakeFirecrawl, make_client: Any
) -> None:
    job_id = str(uuid.uuid4())

    with pytest.raises(NotFound):
        make_client(api_version="v2").errors(job_id, kind="batch")

    assert len(requests_for(sim, job_id)) == 1


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_it_reads_credit_usage_in_both_casings(
    sim: FakeFirecrawl, make_client: Any, version: str
) -> None:
    usage = make_client(api_version=version).credit_usage()

    assert usage.remaining_credits == 1000
    assert usage.known
    path = [r.path for r in sim.requests if r.api_key == KEY][-1]
    assert path == f"/{version}/team/credit-usage"


def test_it_reads_both_casings_whatever_the_version() -> None:
    assert CreditUsage.from_payload({"data": {"remaining_credits": 5}}).remaining_credits == 5
    assert CreditUsage.from_payload({"data": {"remainingCredits": 7}}).remaining_credits == 7
    assert CreditUsage.from_payload({"data": {}}) == CreditUsage.unknown()


def test_it_treats_a_server_without_billing_as_unknown_credits(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    selfhosted = f"fc-{uuid.uuid4().hex}"
    sim.add_key(selfhosted, team=f"selfhosted-{selfhosted[-8:]}", credits=None)

    usage = make_client(api_key=selfhosted).credit_usage()

    assert usage == CreditUsage(None)
    assert not usage.known
    assert sleeps == []


# ---------------------------------------------------------------------------------------------
# Listings of the team's jobs


@pytest.fixture(scope="module")
def canned() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as server:
        yield server


def test_it_lists_recent_batch_scrapes_and_crawls(canned: HostileFirecrawl) -> None:
    batch, crawl = str(uuid.uuid4()), str(uuid.uuid4())
    listing = {
        "success": True,
        "data": [
            {"id": batch, "endpoint": "batch_scrape", "api_version": "v2",
             "created_at": "2026-11-28T13:05:59.963Z", "target": "https://a.example/1"},
            {"id": str(uuid.uuid4()), "endpoint": "scrape", "target": "https://a.example/2"},
            {"id": crawl.upper(), "endpoint": "crawl", "created_at": None, "target": None},
            {"id": "not-an-id", "endpoint": "crawl"},
            "junk",
        ],
        "cursor": "c-2",
        "has_more": True,
    }  # fmt: skip
    canned.reply("/v2/team/activity", json_reply(listing))
    canned.hits.clear()

    page = FirecrawlClient(canned.url, "fc-k").recent_jobs(limit=5, cursor="c-1")

    assert page.jobs == [
        RecentJob(batch, "batch", datetime(2026, 11, 28, 13, 5, 59, 963000, UTC), "https://a.example/1"),
        RecentJob(crawl, "crawl", None, ""),
    ]  # fmt: skip
    assert page.next_cursor == "c-2"
    [(_, path, _)] = canned.hits
    assert path == "/v2/team/activity?limit=5&cursor=c-1"


def test_it_filters_recent_jobs_by_kind_and_ends_with_the_last_page(
    canned: HostileFirecrawl,
) -> None:
    listing = {"success": True, "data": [], "cursor": None, "has_more": False}
    canned.reply("/v2/team/activity", json_reply(listing))
    canned.hits.clear()

    page = FirecrawlClient(canned.url, "fc-k", api_version="v1").recent_jobs(kind="batch")

    assert page.jobs == [] and page.next_cursor is None
    assert [path for _, path, _ in canned.hits] == ["/v2/team/activity?endpoint=batch_scrape"]


def test_it_says_a_server_without_the_activity_listing_cannot_list_recent_jobs(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    sim.activity = False  # a self-hosted server: Express's "Cannot GET" page
    try:
        with pytest.raises(NotSupported):
            client.recent_jobs()
    finally:
        sim.activity = None


def test_it_lists_recent_jobs_of_both_kinds(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    batch = sim.create_batch(KEY, n=2, state="completed")
    crawl = sim.create_crawl(KEY, "https://docs.example.test", limit=3)
    kinds = {job.id: job.kind for job in client.recent_jobs().jobs}
    assert kinds[batch] == "batch" and kinds[crawl] == "crawl"


def test_it_lists_active_crawls(canned: HostileFirecrawl) -> None:
    crawl = str(uuid.uuid4())
    crawls = [
        {"id": crawl, "teamId": "t", "url": "https://a.example/", "status": "scraping",
         "created_at": "2026-11-28T13:05:59Z", "options": {}},
        {"id": 42, "url": "https://b.example/"},
    ]  # fmt: skip
    canned.reply("/v2/crawl/active", json_reply({"success": True, "crawls": crawls}))

    [active] = FirecrawlClient(canned.url, "fc-k", api_version="v2").active_crawls()

    assert (active.id, active.url, active.status) == (crawl, "https://a.example/", "scraping")
    assert active.created_at == datetime(2026, 11, 28, 13, 5, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"success": False, "error": "Invalid job ID format. Job ID must be a valid UUID."}),
        (404, {"success": False, "error": "Job not found"}),
    ],
    ids=["400 invalid job id", "404 job not found"],
)
def test_it_says_a_server_that_takes_active_for_a_job_id_cannot_list_active_crawls(
    canned: HostileFirecrawl, status: int, body: dict[str, Any]
) -> None:
    canned.reply("/v1/crawl/active", json_reply(body, status=status))

    with pytest.raises(NotSupported) as caught:
        FirecrawlClient(canned.url, "fc-k").active_crawls()

    assert caught.value.message == "This Firecrawl server cannot list active crawls"


def test_it_says_a_server_without_the_route_cannot_list_active_crawls(
    sim: FakeFirecrawl, client: FirecrawlClient
) -> None:
    sim.active_crawls = False
    try:
        with pytest.raises(NotSupported):
            client.active_crawls()
    finally:
        sim.active_crawls = True


# ---------------------------------------------------------------------------------------------
# Callbacks, secrets and helpers


def test_it_announces_every_attempt(sim: FakeFirecrawl, make_client: Any) -> None:
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=1)
    calls: list[None] = []

    make_client(on_request=lambda: calls.append(None)).job_status(job_id, skip=2, kind="batch")

    assert len(calls) == 2
    assert len(requests_for(sim, job_id)) == 2


def test_it_never_reveals_the_key(
    sim: FakeFirecrawl, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(max_retries=1)
    job_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=5)
    raised: list[FirecrawlError] = []

    for call in (
        lambda: client.job_status(job_id, kind="batch"),
        lambda: client.job_status(KEY, kind="batch"),
        lambda: make_client(api_key=KEY + "x").job_status(job_id, kind="batch"),
        lambda: FirecrawlClient(
            "http://127.0.0.1:9", KEY, max_retries=1, sleep=lambda s: None
        ).job_status(job_id, kind="batch"),
    ):
        with pytest.raises(FirecrawlError) as caught:
            call()
        raised.append(caught.value)

    assert caplog.records, "retries should be logged"
    assert KEY not in caplog.text
    for exc in raised:
        assert KEY not in str(exc) and KEY not in repr(exc) and KEY not in (exc.api_message or "")
    assert KEY not in repr(client)
    assert mask_key(KEY) in repr(client)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 12 ", 12.0),
        (format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True), 0.0),
        (format_datetime(datetime(9999, 12, 31, tzinfo=UTC), usegmt=True), MAX_RETRY_AFTER),
        ("9" * 30, MAX_RETRY_AFTER),
        # Not whole seconds nor a date: as if unsaid, so the text's wait is used.
        ("1.5", 30.0),
        ("1e308", 30.0),
        ("inf", 30.0),
        ("nan", 30.0),
        ("-5", 30.0),
        ("9" * 5000, 30.0),
        ("Mon, 01 Jan 99999999999 00:00:00 GMT", 30.0),
    ],
)
def test_it_reads_retry_after_as_seconds_or_a_date_within_bounds(
    header: str, expected: float
) -> None:
    assert _retry_after({"Retry-After": header}, "please retry after 30s") == expected


def test_it_reads_retry_after_in_the_future_as_a_date() -> None:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=30)
    before = time.time()

    waited = _retry_after({"Retry-After": format_datetime(moment, True)}, None)

    # From the moment it was read to the one named: bracketed, however slow the machine.
    assert waited is not None
    assert moment.timestamp() - time.time() <= waited <= moment.timestamp() - before


def test_it_reads_the_wait_from_the_text_within_bounds() -> None:
    assert _retry_after({}, "please retry after 2.5s, resets at …") == 2.5
    assert _retry_after({}, f"please retry after {'9' * 400}s") == MAX_RETRY_AFTER
    assert _retry_after({}, "Rate limit exceeded") is None
    assert _retry_after({}, None) is None


def test_it_masks_keys() -> None:
    assert mask_key("fc-0123456789abcdef0123456789ab1a2b") == "fc-…1a2b"
    assert mask_key("sk_live_0123456789abcdef") == "…cdef"
    assert mask_key("fc-selfhosted") == "fc-…sted"  # a made-up self-hosted key
    assert mask_key("fc-test") == "fc-…"  # four of four would be the whole key
    assert mask_key("") == "…"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (UUID7, UUID7),
        (f"  {UUID4}\n", UUID4),
        (UUID4.upper(), UUID4),
        (f"https://api.firecrawl.dev/v1/batch/scrape/{UUID7}?skip=100", UUID7),
        (f"my job is {UUID4}, thanks", UUID4),
        (f"{UUID7} then {UUID4}", UUID7),
        ("https://api.firecrawl.dev/v1/batch/scrape/", None),
        ("0123456789abcdef0123456789abcdef0123456789", None),
        ("", None),
    ],
)
def test_it_finds_the_job_id_in_pasted_text(text: str, expected: str | None) -> None:
    reference = parse_job_reference(text)
    assert (reference.id if reference else None) == expected


def test_it_refuses_other_versions_and_schemes() -> None:
    with pytest.raises(ValueError):
        FirecrawlClient("https://api.firecrawl.dev", "fc-x", api_version="v3")
    with pytest.raises(ValueError):
        FirecrawlClient("ftp://api.firecrawl.dev", "fc-x")
    with pytest.raises(ValueError):
        FirecrawlClient("https://api.firecrawl.dev", "fc-x", deadline=0)
    client = FirecrawlClient("https://api.firecrawl.dev/v1/", "fc-x")
    assert "'https://api.firecrawl.dev'" in repr(client)


def test_an_ipv6_api_url_is_shown_with_its_brackets() -> None:
    client = FirecrawlClient("http://[::1]:9/v1", "fc-k", max_retries=0, deadline=2)
    with pytest.raises(Unreachable) as caught:
        client.job_status(str(uuid.uuid4()), kind="batch")
    assert "http://[::1]:9" in caught.value.message
    assert "api_url='http://[::1]:9'" in repr(client)


def test_a_refused_connection_is_known_not_to_have_reached_firecrawl() -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{spare.getsockname()[1]}"
    client = FirecrawlClient(closed, "fc-0123456789abcdef0123456789ab1a2b", max_retries=0)
    with pytest.raises(Unreachable) as caught:
        client.start_batch(["https://example.com/"], options={})
    assert "connection refused" in caught.value.message
    assert caught.value.may_have_acted is False


def test_a_pasted_api_url_names_its_server() -> None:
    job_id = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"
    pasted = parse_job_reference(f"see https://API.firecrawl.dev/v2/crawl/{job_id}?skip=2")
    assert pasted is not None and pasted.server == "https://api.firecrawl.dev"
    assert pasted.kind == "crawl"
    proxied = parse_job_reference(f"http://fc.internal:3002/base/v1/batch/scrape/{job_id}")
    assert proxied is not None and proxied.server == "http://fc.internal:3002"
    for text in (job_id, f"https://www.firecrawl.dev/app/jobs/{job_id}"):
        reference = parse_job_reference(text)
        assert reference is not None and reference.server is None
