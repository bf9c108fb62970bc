"""Tests of jobs.firecrawl against the fakecrawl simulator, a real local HTTP server."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault
from jobs.firecrawl import (
    AuthError,
    BadRequest,
    Conflict,
    CreditUsage,
    FirecrawlClient,
    FirecrawlError,
    Forbidden,
    InvalidResponse,
    NotFound,
    PaymentRequired,
    RateLimited,
    ScrapedDocument,
    StatusPage,
    Unreachable,
    UpstreamError,
    _retry_after,
    mask_key,
    parse_job_id,
)

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
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=0, mode="2026") as simulator:
        yield simulator


@pytest.fixture
def mode_2025(sim: FakeFirecrawl) -> Iterator[None]:
    sim.set_mode("2025")
    try:
        yield
    finally:
        sim.set_mode("2026")


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
def key(sim: FakeFirecrawl) -> str:
    """A fresh key of a fresh team ("alice-…"), so no test sees another test's jobs or limits."""
    api_key = f"fc-{uuid.uuid4().hex}"
    sim.add_key(api_key, team=f"alice-{api_key[-8:]}", credits=1000)
    return api_key


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(
    sim: FakeFirecrawl, key: str, sleeps: list[float]
) -> Callable[..., FirecrawlClient]:
    def make(**overrides: Any) -> FirecrawlClient:
        options: dict[str, Any] = {
            "api_url": sim.url,
            "api_key": key,
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


def test_it_reads_every_document_page_by_page(sim: FakeFirecrawl, key: str, client: Any) -> None:
    job_id = sim.create_batch(key, n=250)

    page = client.job_status(job_id)
    pages = [page]
    while page.has_next:
        assert page.next_skip is not None
        page = client.job_status(job_id, skip=page.next_skip)
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
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=120, rate=1000.0, start_offset=0.05)
    sim.cancel(job_id)

    page = client.job_status(job_id)
    calls = 1
    while page.has_next and calls < 10:
        assert page.next_skip is not None
        page = client.job_status(job_id, skip=page.next_skip)
        calls += 1

    assert page.status == "cancelled"
    assert page.next_skip is not None  # upstream still offers a `next`...
    assert not page.has_next  # ...but a page that brings nothing ends the walk
    assert calls < 10


def test_it_passes_limit_and_parses_it_back_from_next(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=30)

    page = client.job_status(job_id, skip=5, limit=10)

    assert len(page.documents) == 10
    assert (page.skip, page.next_skip, page.next_limit) == (5, 15, 10)


def test_it_normalizes_documents_into_typed_fields(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=3)

    page = client.job_status(job_id)

    assert isinstance(page, StatusPage)
    assert page.success is True
    assert page.expires_at is not None and page.expires_at.tzinfo is not None
    doc = page.documents[0]
    assert doc.raw["metadata"]["sourceURL"] == doc.source_url
    assert doc.markdown and doc.url and doc.title
    assert doc.status_code is not None
    assert doc.scrape_id is not None and parse_job_id(doc.scrape_id) is not None
    assert all(isinstance(link, str) for link in doc.links)


def test_it_turns_odd_document_content_into_normal_values() -> None:
    doc = ScrapedDocument.from_raw(
        {
            "markdown": 42,
            "links": ["https://a.example", None, 3],
            "metadata": {
                "title": ["Home", 7, "Shop"],
                "statusCode": "404",
                "sourceURL": ["not", "a string"],
                "url": "https://final.example/",
                "scrapeId": {"nested": True},
            },
            "screenshot": "https://cdn.example/shot.png",
            "brandNew": {"unknown": "field"},
        }
    )
    assert doc.markdown is None
    assert doc.links == ["https://a.example"]
    assert doc.title == "Home / Shop"
    assert doc.status_code == 404
    assert doc.url == "https://final.example/"
    assert doc.scrape_id is None
    assert doc.raw["brandNew"] == {"unknown": "field"}
    assert ScrapedDocument.from_raw({"metadata": "nope"}).metadata == {}
    assert ScrapedDocument.from_raw("just a string").error is not None


def test_it_reads_hostile_documents_without_raising(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=20, hostile=True)

    page = client.job_status(job_id)

    assert len(page.documents) == 20


def test_it_reports_creditsused_minus_one_as_unknown() -> None:
    payload = {"success": True, "status": "scraping", "completed": 0, "total": 3}
    page = StatusPage.from_payload({**payload, "creditsUsed": -1, "next": "x?skip=0"}, skip=0)

    assert page.credits_used is None
    assert page.next_skip == 0
    # A page that brings nothing must end a walk, or a cancelled job's `next` loops forever.
    assert page.has_next is False


def test_it_reads_v2_and_its_timing_fields(make_client: Any, sim: FakeFirecrawl, key: str) -> None:
    job_id = sim.create_batch(key, n=5)

    page = make_client(api_version="v2").job_status(job_id)

    assert len(page.documents) == 5
    assert page.created_at is not None
    assert page.duration is not None
    assert requests_for(sim, job_id)[-1].path.startswith("/v2/batch/scrape/")


def test_it_reads_crawl_jobs_on_the_crawl_path(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=5)

    client.job_status(job_id, kind="crawl")

    assert requests_for(sim, job_id)[-1].path == f"/v1/crawl/{job_id}"


def test_it_accepts_uuid_v4_ids(sim: FakeFirecrawl, key: str, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(key, n=2, uuid_version=4)
    assert uuid.UUID(job_id).version == 4

    assert len(client.job_status(job_id.upper()).documents) == 2
    assert requests_for(sim, job_id)[-1].path == f"/v1/batch/scrape/{job_id}"


def test_it_accepts_uuid_v7_ids(sim: FakeFirecrawl, key: str, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(key, n=2)
    assert uuid.UUID(job_id).version == 7

    assert len(client.job_status(job_id).documents) == 2


def test_it_sends_the_key_as_bearer_with_its_own_user_agent(recorder: Recorder) -> None:
    client = FirecrawlClient(recorder.url, "fc-headers-check-0000", sleep=lambda s: None)
    recorder.hits.clear()

    client.job_status(UUID7)

    [(method, path, headers)] = recorder.hits
    assert (method, path) == ("GET", f"/v1/batch/scrape/{UUID7}?skip=0")
    assert headers["Authorization"] == "Bearer fc-headers-check-0000"
    assert headers["Accept"] == "application/json"
    assert "firecrawl-dashboard" in headers["User-Agent"]
    recorder.hits.clear()


# ---------------------------------------------------------------------------------------------
# Pagination safety


def test_it_never_contacts_the_host_named_in_next(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, recorder: Recorder
) -> None:
    job_id = sim.create_batch(key, n=150)
    sim.inject(Fault.foreign_next(host=recorder.url), job_id=job_id, count=1)
    recorder.hits.clear()

    first = client.job_status(job_id)
    assert first.next_skip == 100
    second = client.job_status(job_id, skip=first.next_skip)

    assert len(second.documents) == 50
    assert recorder.hits == []
    assert all(r.api_key == key for r in requests_for(sim, job_id))


def test_it_never_builds_a_url_from_a_malformed_id(sim: FakeFirecrawl, make_client: Any) -> None:
    calls: list[tuple[str, str]] = []
    client = make_client(on_request=lambda method, url: calls.append((method, url)))
    before = len(sim.requests)

    for bad in ["not-a-uuid", f"{UUID7}/../../team", f"{UUID7}?skip=5", "", f"x{UUID7}"]:
        with pytest.raises(BadRequest):
            client.job_status(bad)
    with pytest.raises(BadRequest):
        client.cancel("../credit-usage")
    with pytest.raises(BadRequest):
        client.errors("%2e%2e")

    assert calls == []
    assert len(sim.requests) == before


# ---------------------------------------------------------------------------------------------
# Errors: one class per upstream answer


def test_it_rejects_a_missing_key(make_client: Any) -> None:
    with pytest.raises(AuthError) as caught:
        make_client(api_key="").job_status(UUID7)

    assert caught.value.message == "Firecrawl rejected the API key (401)"
    assert caught.value.status_code == 401


def test_it_rejects_an_invalid_key(make_client: Any) -> None:
    bad_key = "fc-0123456789abcdef0123456789abcdef"

    with pytest.raises(AuthError) as caught:
        make_client(api_key=bad_key).job_status(UUID7)

    assert caught.value.api_message is not None
    assert bad_key not in str(caught.value) and bad_key not in repr(caught.value)


def test_it_reports_running_out_of_credits(sim: FakeFirecrawl, make_client: Any) -> None:
    broke = f"fc-{uuid.uuid4().hex}"
    sim.add_key(broke, team=f"broke-{broke[-8:]}", credits=0)
    requests_before = len(sim.requests)

    try:
        make_client(api_key=broke).start_batch(["https://example.com/a"])
    except PaymentRequired as exc:
        assert exc.status_code == 402
    else:
        pytest.skip("the simulator does not answer 402 for a team without credits")
    assert len(sim.requests) == requests_before + 1


def test_it_forbids_another_teams_errors(sim: FakeFirecrawl, key: str, make_client: Any) -> None:
    job_id = sim.create_batch(key, n=3)
    bob = f"fc-{uuid.uuid4().hex}"
    sim.add_key(bob, team=f"bob-{bob[-8:]}", credits=1000)

    with pytest.raises(Forbidden) as caught:
        make_client(api_key=bob).errors(job_id)

    assert caught.value.status_code == 403


def test_it_reports_an_unknown_job_as_not_found(client: FirecrawlClient) -> None:
    with pytest.raises(NotFound) as caught:
        client.job_status(str(uuid.uuid4()))

    assert caught.value.message == "Job not found upstream"
    assert caught.value.status_code == 404


def test_it_reports_an_expired_job_as_not_found(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.expire(job_id)

    with pytest.raises(NotFound):
        client.job_status(job_id)
    assert sleeps == []


def test_it_retries_a_rate_limit_after_the_retry_after_header(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.rate_limit(retry_after=1), job_id=job_id, count=1)

    page = client.job_status(job_id)

    assert len(page.documents) == 3
    assert sleeps == [1.0]
    assert [r.status for r in requests_for(sim, job_id)] == [429, 200]


def test_it_reads_the_wait_from_the_rate_limit_text_without_a_header(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=2), job_id=job_id, count=1)

    client.job_status(job_id)

    assert sleeps == [2.0]


def test_it_gives_up_on_rate_limits_after_max_retries(
    sim: FakeFirecrawl, key: str, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=12), job_id=job_id, count=10)

    with pytest.raises(RateLimited) as caught:
        make_client(max_retries=2).job_status(job_id)

    assert caught.value.retry_after == 12.0
    assert caught.value.message == "Rate limited by Firecrawl, retry in 12 s"
    assert sleeps == [12.0, 12.0]
    assert len(requests_for(sim, job_id)) == 3


def test_it_hands_a_long_rate_limit_back_to_the_caller_at_once(
    sim: FakeFirecrawl, key: str, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.rate_limit(retry_after=90), job_id=job_id, count=1)

    with pytest.raises(RateLimited) as caught:
        make_client(max_wait=30).job_status(job_id)

    assert caught.value.retry_after == 90.0
    assert sleeps == []
    assert len(requests_for(sim, job_id)) == 1


def test_it_backs_off_with_jitter_when_no_wait_is_given(
    sim: FakeFirecrawl, key: str, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.server_error(503), job_id=job_id, count=3)

    page = make_client(backoff_base=0.5, max_retries=4).job_status(job_id)

    assert len(page.documents) == 3
    assert len(sleeps) == 3
    for attempt, waited in enumerate(sleeps):
        assert 0 <= waited <= 0.5 * 2**attempt


def test_it_stops_retrying_server_errors_at_max_retries(
    sim: FakeFirecrawl, key: str, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=10)

    with pytest.raises(UpstreamError) as caught:
        make_client(max_retries=3).job_status(job_id)

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
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, fault: Fault, message: str
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(fault, job_id=job_id, count=5)

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id)

    assert message in caught.value.message
    # One retry only: a proxy's hiccup is the only transient reason for a non-JSON 200.
    assert len(requests_for(sim, job_id)) == 2


@pytest.mark.parametrize(
    "fault",
    [Fault.invalid_json(), Fault.html_error_page(), Fault.drop()],
    ids=["invalid JSON", "HTML page", "dropped connection"],
)
def test_it_recovers_from_one_bad_response(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, fault: Fault
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(fault, job_id=job_id, count=1)

    assert len(client.job_status(job_id).documents) == 3
    assert len(requests_for(sim, job_id)) == 2


def test_it_retries_a_proxys_bad_gateway_page(
    sim: FakeFirecrawl, key: str, make_client: Any
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.server_error(502), job_id=job_id, count=5)

    with pytest.raises(UpstreamError) as caught:
        make_client(max_retries=1).job_status(job_id)

    assert caught.value.status_code == 502
    assert caught.value.exception_id is None
    assert caught.value.api_message is None


def test_it_reports_success_false_as_a_failed_job(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.success_false(), job_id=job_id, count=1)

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id)

    assert caught.value.message.startswith("Firecrawl reported the job as failed")
    assert len(requests_for(sim, job_id)) == 1


def test_it_retries_a_dropped_connection_then_gives_up(
    sim: FakeFirecrawl, key: str, make_client: Any, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.drop(), job_id=job_id, count=10)

    with pytest.raises(Unreachable):
        make_client(max_retries=2).job_status(job_id)

    assert len(requests_for(sim, job_id)) == 3
    assert len(sleeps) == 2


def test_it_times_out_on_a_slow_server(sim: FakeFirecrawl, key: str, make_client: Any) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.slow(1.5), job_id=job_id, count=2)

    with pytest.raises(Unreachable) as caught:
        make_client(read_timeout=0.2, max_retries=1).job_status(job_id)

    assert "timed out" in caught.value.message


def test_it_reports_a_refused_connection(key: str, sleeps: list[float]) -> None:
    client = FirecrawlClient("http://127.0.0.1:9", key, max_retries=1, sleep=sleeps.append)

    with pytest.raises(Unreachable) as caught:
        client.job_status(UUID7)

    assert "127.0.0.1:9" in caught.value.message
    assert len(sleeps) == 1


# ---------------------------------------------------------------------------------------------
# Writes are never retried


def test_it_never_retries_a_cancel(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = sim.create_batch(key, n=3, rate=1.0)
    sim.inject(Fault.server_error(502), job_id=job_id, count=5)

    with pytest.raises(UpstreamError):
        client.cancel(job_id)

    assert [r.method for r in requests_for(sim, job_id)] == ["DELETE"]
    assert sleeps == []


def test_it_cancels_a_running_job(sim: FakeFirecrawl, key: str, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(key, n=50, rate=1.0)

    assert client.cancel(job_id) == "cancelled"
    assert client.job_status(job_id).status == "cancelled"


def test_it_never_retries_starting_a_batch(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient, sleeps: list[float]
) -> None:
    sim.inject(Fault.server_error(503), count=1)
    before = len([r for r in sim.requests if r.method == "POST"])

    with pytest.raises(UpstreamError):
        client.start_batch(["https://example.com/a"])

    assert len([r for r in sim.requests if r.method == "POST"]) == before + 1
    assert sleeps == []


def test_it_reports_cancelling_a_completed_job_as_a_conflict(
    sim: FakeFirecrawl, key: str, client: FirecrawlClient
) -> None:
    job_id = sim.create_batch(key, n=3, state="completed")

    with pytest.raises(Conflict) as caught:
        client.cancel(job_id)

    assert caught.value.status_code == 409
    assert caught.value.api_message


def test_it_starts_a_batch(sim: FakeFirecrawl, client: FirecrawlClient) -> None:
    started = client.start_batch(
        ["https://example.com/a", "not a url"], formats=["markdown"], ignoreInvalidURLs=True
    )

    assert parse_job_id(started.id) == started.id
    assert started.id in started.url
    assert started.invalid_urls == ["not a url"]
    assert client.job_status(started.id).total == 1


# ---------------------------------------------------------------------------------------------
# Failed URLs and credits


def test_it_lists_failed_urls(sim: FakeFirecrawl, key: str, client: FirecrawlClient) -> None:
    job_id = sim.create_batch(key, n=10, fail_every=5)

    listing = client.errors(job_id)

    assert len(listing.errors) == 2
    failed = listing.errors[0]
    assert failed.url and failed.error
    assert failed.timestamp is None or failed.timestamp.tzinfo is not None
    assert listing.robots_blocked == []
    assert requests_for(sim, job_id)[-1].path == f"/v1/batch/scrape/{job_id}/errors"


def test_it_finds_v2_failed_urls_on_the_2025_server(
    sim: FakeFirecrawl, key: str, make_client: Any, mode_2025: None
) -> None:
    job_id = sim.create_batch(key, n=10, fail_every=5, uuid_version=4)

    listing = make_client(api_version="v2").errors(job_id)

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
        make_client(api_version="v2").errors(job_id)

    assert len(requests_for(sim, job_id)) == 1


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_it_reads_credit_usage_in_both_casings(
    sim: FakeFirecrawl, key: str, make_client: Any, version: str
) -> None:
    usage = make_client(api_version=version).credit_usage()

    assert usage.remaining_credits == 1000
    assert usage.known
    path = [r.path for r in sim.requests if r.api_key == key][-1]
    assert path == f"/{version}/team/credit-usage"


def test_it_reads_both_casings_whatever_the_version() -> None:
    snake = {"remaining_credits": 5, "plan_credits": 10, "billing_period_start": None}
    camel = {"remainingCredits": 5, "planCredits": 10, "billingPeriodEnd": "2026-01-31T23:59:59Z"}

    assert CreditUsage.from_payload({"data": snake}).remaining_credits == 5
    assert CreditUsage.from_payload({"data": camel}).billing_period_end is not None


def test_it_treats_a_server_without_billing_as_unknown_credits(
    sim: FakeFirecrawl, make_client: Any, sleeps: list[float]
) -> None:
    selfhosted = f"fc-{uuid.uuid4().hex}"
    sim.add_key(selfhosted, team=f"selfhosted-{selfhosted[-8:]}", credits=None)

    usage = make_client(api_key=selfhosted).credit_usage()

    assert usage == CreditUsage(None, None, None, None)
    assert sleeps == []


# ---------------------------------------------------------------------------------------------
# Callbacks, secrets and helpers


def test_it_announces_every_attempt(sim: FakeFirecrawl, key: str, make_client: Any) -> None:
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=1)
    calls: list[tuple[str, str]] = []

    make_client(on_request=lambda m, u: calls.append((m, u))).job_status(job_id, skip=2)

    assert len(calls) == 2
    assert calls[0][0] == "GET"
    assert calls[0][1].endswith(f"/v1/batch/scrape/{job_id}?skip=2")


def test_it_never_reveals_the_key(
    sim: FakeFirecrawl, key: str, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(max_retries=1)
    job_id = sim.create_batch(key, n=3)
    sim.inject(Fault.server_error(500), job_id=job_id, count=5)
    raised: list[FirecrawlError] = []

    for call in (
        lambda: client.job_status(job_id),
        lambda: client.job_status(key),
        lambda: make_client(api_key=key + "x").job_status(job_id),
        lambda: FirecrawlClient(
            "http://127.0.0.1:9", key, max_retries=1, sleep=lambda s: None
        ).job_status(job_id),
    ):
        with pytest.raises(FirecrawlError) as caught:
            call()
        raised.append(caught.value)

    assert caplog.records, "retries should be logged"
    assert key not in caplog.text
    for exc in raised:
        assert key not in str(exc) and key not in repr(exc) and key not in (exc.api_message or "")
    assert key not in repr(client)
    assert mask_key(key) in repr(client)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        (format_datetime(datetime(2000, 1, 1, tzinfo=UTC), usegmt=True), 0.0),
    ],
)
def test_it_reads_retry_after_as_seconds_or_a_date(header: str, expected: float) -> None:
    response = requests.Response()
    response.headers["Retry-After"] = header

    assert _retry_after(response, "please retry after 30s") == expected


def test_it_reads_retry_after_in_the_future_as_a_date() -> None:
    response = requests.Response()
    response.headers["Retry-After"] = format_datetime(
        datetime.now(UTC) + timedelta(seconds=30), True
    )

    waited = _retry_after(response, None)
    assert waited is not None and 25 <= waited <= 30


def test_it_masks_keys() -> None:
    assert mask_key("fc-0123456789abcdef0123456789ab1a2b") == "fc-…1a2b"
    assert mask_key("sk_live_0123456789abcdef") == "…cdef"
    assert mask_key("fc-test") == "…"
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
    assert parse_job_id(text) == expected


def test_it_refuses_other_versions_and_schemes() -> None:
    with pytest.raises(ValueError):
        FirecrawlClient("https://api.firecrawl.dev", "fc-x", api_version="v3")
    with pytest.raises(ValueError):
        FirecrawlClient("ftp://api.firecrawl.dev", "fc-x")
    client = FirecrawlClient("https://api.firecrawl.dev/v1/", "fc-x")
    assert client.api_url == "https://api.firecrawl.dev"
