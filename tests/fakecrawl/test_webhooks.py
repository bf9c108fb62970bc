"""Webhooks from the simulator, received by a real local HTTP server, as the server's code sends
them (fakecrawl.webhooks says where each rule comes from)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import ALICE, BOB, Api, Receiver

SECRET = "whsec-alice"
SERVER_SECRET = "whsec-server"
URLS = [f"https://shop.example.com/item/{i}" for i in range(1, 5)]
PAYLOAD_KEYS = ["success", "type", "id", "webhookId", "data", "metadata"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def hooked(clock: ManualClock) -> Iterator[FakeFirecrawl]:
    """A hosted simulator that may call a receiver on loopback; Alice's team has a secret."""
    with FakeFirecrawl(seed=3, clock=clock, allow_local_webhooks=True) as sim:
        sim.add_key(ALICE, team="alice", webhook_secret=SECRET)
        sim.add_key(BOB, team="bob")
        yield sim


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def types(sim: FakeFirecrawl) -> list[str]:
    return [delivery.type for delivery in sim.wait_for_webhooks()]


def test_a_batch_with_a_webhook_reports_started_each_page_and_completed_in_order(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    hooked.post_rate = 2.0
    webhook = {
        "url": receiver.url + "/hooks/alice",
        "headers": {"X-Dashboard": "42"},
        "metadata": {"job": "7"},
    }
    job_id = Api(hooked).start("/v2/batch/scrape", {"urls": URLS, "webhook": webhook})
    clock.advance(10)

    deliveries = hooked.wait_for_webhooks()
    received = receiver.wait_for(len(deliveries))

    assert [d.type for d in deliveries] == ["batch_scrape.started"] + ["batch_scrape.page"] * 4 + [
        "batch_scrape.completed"
    ]
    assert {d.outcome for d in deliveries} == {"delivered"}
    assert [r.body for r in received] == [d.body for d in deliveries]
    assert {r.path for r in received} == {"/hooks/alice"}
    payloads = [r.payload for r in received]
    assert [list(p) for p in payloads] == [PAYLOAD_KEYS] * 6
    assert {p["id"] for p in payloads} == {job_id}
    assert {p["metadata"]["job"] for p in payloads} == {"7"}
    assert len({uuid.UUID(p["webhookId"]) for p in payloads}) == 6
    assert payloads[0]["data"] == payloads[-1]["data"] == []
    documents = Api(hooked).status(job_id)["data"]
    assert [p["data"] for p in payloads[1:5]] == [[doc] for doc in documents]
    for r in received:
        assert r.headers["X-Firecrawl-Signature"] == signed(SECRET, r.body)
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["X-Dashboard"] == "42"


def test_a_crawl_with_a_string_webhook_sends_crawl_events_unsigned_without_a_secret(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    payload = {"url": "https://docs.example.com", "limit": 3, "webhook": receiver.url}
    job_id = Api(hooked, BOB).start("/v1/crawl", payload)
    clock.advance(1)

    deliveries = hooked.wait_for_webhooks()

    assert [d.type for d in deliveries] == ["crawl.started"] + ["crawl.page"] * 3 + [
        "crawl.completed"
    ]
    received = receiver.wait_for(5)
    assert all("X-Firecrawl-Signature" not in r.headers for r in received)
    assert {r.payload["id"] for r in received} == {job_id}
    assert received[0].payload["metadata"] == {}


def test_page_events_fire_as_documents_complete_on_the_manual_clock(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    hooked.create_batch(ALICE, n=10, rate=2.0, webhook=receiver.url)

    at_start = types(hooked)
    clock.advance(1.0)
    after_one_second = types(hooked)
    clock.advance(4.0)
    after_five = types(hooked)

    assert at_start == ["batch_scrape.started"]
    assert after_one_second.count("batch_scrape.page") == 2
    assert after_five.count("batch_scrape.page") == 10
    assert after_five[-1] == "batch_scrape.completed"


def test_completed_waits_for_the_settling_of_the_2026_server(
    clock: ManualClock, receiver: Receiver
) -> None:
    with FakeFirecrawl(clock=clock, settle_seconds=5, allow_local_webhooks=True) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=2, webhook=receiver.url)
        before = types(sim)
        clock.advance(5)
        after = types(sim)

    assert "batch_scrape.completed" not in before
    assert after[-1] == "batch_scrape.completed"


def test_failed_and_cancelled_urls_are_page_events_with_success_false(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    unreachable = hooked.create_batch(ALICE, n=2, fail_every=1, webhook=receiver.url)
    cancelled = hooked.create_batch(ALICE, n=9, rate=1.0, webhook=receiver.url)
    clock.advance(4)
    hooked.cancel(cancelled)
    clock.advance(1)

    deliveries = hooked.wait_for_webhooks()

    for job_id, count in ((unreachable, 2), (cancelled, 5)):
        pages = [
            d.payload for d in deliveries if d.job_id == job_id and d.type == "batch_scrape.page"
        ]
        failed = [page for page in pages if not page["success"]]
        errors = {entry["url"]: entry["error"] for entry in Api(hooked).errors(job_id)}
        assert len(failed) == len(errors) == count
        for page in failed:
            assert list(page) == ["success", "type", "id", "webhookId", "data", "error", "metadata"]
            (only,) = page["data"]
            assert only == {"metadata": {"sourceURL": only["metadata"]["sourceURL"]}}
            assert page["error"] == errors[only["metadata"]["sourceURL"]]
    cancel_errors = {d.payload.get("error") for d in deliveries if d.job_id == cancelled}
    assert "Parent crawl/batch scrape was cancelled" in cancel_errors
    assert [d.type for d in deliveries if d.job_id == cancelled][-1] == "batch_scrape.completed"


def test_the_events_filter_keeps_only_the_events_asked_for(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    webhook = {"url": receiver.url, "events": ["completed", "started"]}
    hooked.create_batch(ALICE, n=3, webhook=webhook)

    assert types(hooked) == ["batch_scrape.started", "batch_scrape.completed"]


def test_the_server_wide_url_gets_every_jobs_pages_only(
    clock: ManualClock, receiver: Receiver
) -> None:
    url = receiver.url + "/fc/{{JOB_ID}}"
    with FakeFirecrawl(
        clock=clock,
        self_hosted=True,
        self_hosted_webhook_url=url,
        self_hosted_webhook_secret=SERVER_SECRET,
        allow_local_webhooks=True,
    ) as sim:
        sim.add_key(ALICE)
        made = sim.create_batch(ALICE, n=2)
        posted = Api(sim).start("/v1/crawl", {"url": "https://docs.example.com", "limit": 2})
        own = sim.create_batch(ALICE, n=1, webhook=receiver.url + "/own")
        clock.advance(1)
        deliveries = sim.wait_for_webhooks()

    by_url: dict[str, list[str]] = {}
    for delivery in deliveries:
        by_url.setdefault(delivery.url, []).append(delivery.type)
    assert by_url == {
        f"{receiver.url}/fc/{made}": ["batch_scrape.page"] * 2,
        f"{receiver.url}/fc/{posted}": ["crawl.page"] * 2,
        f"{receiver.url}/own": [
            "batch_scrape.started",
            "batch_scrape.page",
            "batch_scrape.completed",
        ],
    }
    assert all(
        d.headers["X-Firecrawl-Signature"] == signed(SERVER_SECRET, d.body) for d in deliveries
    )
    assert own in {d.payload["id"] for d in deliveries}


def test_a_server_wide_url_set_later_reports_only_what_happens_after(
    hooked: FakeFirecrawl, clock: ManualClock, receiver: Receiver
) -> None:
    hooked.create_batch(ALICE, n=6, rate=1.0)
    clock.advance(2)
    hooked.self_hosted_webhook_url = receiver.url
    clock.advance(4)

    assert types(hooked) == ["batch_scrape.page"] * 4


def test_delivery_never_holds_up_the_job_and_is_not_retried(
    hooked: FakeFirecrawl, clock: ManualClock
) -> None:
    release = threading.Event()
    with Receiver(status=500, hold=release) as slow:
        job_id = hooked.create_batch(ALICE, n=20, rate=10.0, webhook=slow.url)
        advancing = threading.Thread(target=clock.advance, args=(2,))
        advancing.start()
        advancing.join(timeout=30)  # a delivery in the clock's thread would hold it for 60 s
        held_up = advancing.is_alive()
        if held_up:
            release.set()  # fail below rather than wait out the receiver's own 60 s
        slow.wait_for(1)
        status = Api(hooked).status(job_id)  # answered while the receiver still holds
        release.set()
        deliveries = hooked.wait_for_webhooks()
        received = slow.wait_for(len(deliveries))

    assert not held_up
    assert status["completed"] == 20
    assert len(deliveries) == len(received) == 22
    assert {d.outcome for d in deliveries} == {"failed"}
    assert {d.status for d in deliveries} == {500}


@pytest.mark.parametrize("trickle", [False, True])
def test_a_receiver_that_does_not_answer_in_time_is_given_up(
    hooked: FakeFirecrawl, trickle: bool
) -> None:
    hooked.webhook_timeout = 0.5
    # Silent until released, or answering a byte at a time: the timeout is for the whole request.
    with Receiver(hold=None if trickle else threading.Event(), trickle=trickle) as receiver:
        hooked.create_batch(ALICE, n=1, webhook={"url": receiver.url, "events": ["started"]})
        (delivery,) = hooked.wait_for_webhooks()

    assert (delivery.outcome, delivery.error) == ("failed", "The operation was aborted")
    assert len(receiver.received) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_receiver_is_refused_unless_local_webhooks_are_allowed(
    clock: ManualClock, receiver: Receiver, host: str
) -> None:
    url = receiver.url.replace("127.0.0.1", host)
    with FakeFirecrawl(clock=clock) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=1, webhook=url)
        deliveries = sim.wait_for_webhooks()

    # A private address given as such is never called; a name is cut off once it resolved to one.
    reason = {
        "127.0.0.1": "Aborting webhook call to private IP address",
        "localhost": "InsecureConnectionError",
    }[host]
    assert {(d.outcome, d.error) for d in deliveries} == {("refused", reason)}
    assert receiver.received == []


def test_the_drop_switch_loses_the_same_share_for_the_same_seed(
    clock: ManualClock, receiver: Receiver
) -> None:
    outcomes = []
    for _ in range(2):
        with FakeFirecrawl(seed=9, clock=ManualClock(), allow_local_webhooks=True) as sim:
            sim.webhook_drop = 0.5
            sim.add_key(ALICE)
            sim.create_batch(ALICE, n=40, webhook=receiver.url)
            outcomes.append([(d.payload["data"], d.outcome) for d in sim.wait_for_webhooks()])

    dropped = [outcome for _, outcome in outcomes[0]].count("dropped")
    assert outcomes[0] == outcomes[1]
    assert 10 < dropped < 32
    assert len(receiver.received) == 2 * (42 - dropped)


def test_webhooks_follow_a_real_clock_without_being_driven(receiver: Receiver) -> None:
    with FakeFirecrawl(seed=1, allow_local_webhooks=True) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=3, rate=50.0, webhook=receiver.url)
        received = receiver.wait_for(5)

    assert [r.payload["type"] for r in received][-1] == "batch_scrape.completed"


def test_the_request_log_shows_the_webhook_a_start_carried(hooked: FakeFirecrawl) -> None:
    webhook = {"url": "https://dash.example.com/hooks/x", "metadata": {"dashboard_job": "12"}}
    Api(hooked).start("/v2/batch/scrape", {"urls": URLS[:1], "webhook": webhook})

    (start,) = [r for r in hooked.requests if r.method == "POST"]

    assert start.payload["webhook"] == webhook


@pytest.mark.parametrize(
    ("webhook", "error", "detail"),
    [
        ("not a url", "Bad Request", {"code": "invalid_format", "path": ["webhook", "url"]}),
        (
            {"url": "https://a.example.com", "secret": "x"},
            "Unrecognized key in body -- please review the v2 API documentation for request "
            "body changes",
            {"code": "unrecognized_keys", "keys": ["secret"], "path": ["webhook"]},
        ),
        (
            {"url": "https://a.example.com", "events": ["crawl.page"]},
            "Bad Request",
            {"code": "invalid_value", "path": ["webhook", "events", 0]},
        ),
        (
            {"url": "https://a.example.com", "headers": {"X-Firecrawl-Signature": "forged"}},
            "The following headers are not allowed: x-firecrawl-signature",
            {"code": "custom", "path": ["webhook"]},
        ),
        (42, "Bad Request", {"code": "invalid_type", "path": ["webhook"]}),
    ],
)
def test_a_webhook_the_server_would_refuse_is_a_400(
    hooked: FakeFirecrawl, webhook: Any, error: str, detail: dict[str, Any]
) -> None:
    response = Api(hooked).post("/v2/batch/scrape", json={"urls": URLS[:1], "webhook": webhook})

    body = response.json()
    assert (response.status_code, body["error"]) == (400, error)
    (issue,) = body["details"]
    assert {key: issue[key] for key in detail} == detail
    assert hooked.wait_for_webhooks() == []


def test_waiting_for_webhooks_gives_up_with_a_timeout_error(
    hooked: FakeFirecrawl, receiver: Receiver
) -> None:
    receiver.hold = threading.Event()
    hooked.create_batch(ALICE, n=0, webhook=receiver.url)

    with pytest.raises(TimeoutError):
        hooked.wait_for_webhooks(timeout=0.2)
