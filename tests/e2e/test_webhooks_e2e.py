"""Firecrawl's webhooks in a browser: the simulator sends them, as the server's code does, to the
live server's receiver; the worker runs in a thread of the test (`worker`). The webhook wakes, the
poll reads: what the person sees comes from reads, never from an event's own data."""

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import requests
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import TaskWorker

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from jobs.models import Job
    from keys.models import ApiKey

pytestmark = pytest.mark.e2e

HOOK_KEY = "fc-hooks0000000000000000000000e2e1"
UNSIGNING_KEY = "fc-plain0000000000000000000000e2e2"
SECRET = "whsec-e2e-0123456789"


@pytest.fixture(scope="module")
def hooks_sim() -> Iterator[FakeFirecrawl]:
    """A hosted Firecrawl whose team signs its webhooks, allowed to call the live server."""
    with FakeFirecrawl(seed=31, allow_local_webhooks=True) as sim:
        sim.add_key(HOOK_KEY, team="hooks", webhook_secret=SECRET)
        sim.add_key(UNSIGNING_KEY, team="plain")  # a team without a webhook secret
        yield sim


@pytest.fixture(autouse=True)
def fresh_sim(hooks_sim: FakeFirecrawl) -> Iterator[None]:
    hooks_sim.webhook_drop = 0.0
    hooks_sim.post_rate = None
    hooks_sim.clear_webhook_deliveries()
    hooks_sim.clear_requests()
    yield
    hooks_sim.webhook_drop = 0.0


@pytest.fixture
def hook_key(alice: "User", hooks_sim: FakeFirecrawl, settings: Any, live_server: Any) -> "ApiKey":
    """Alice's key on that Firecrawl, with its secret saved and the dashboard's PUBLIC_URL set."""
    from keys.models import ApiKey

    settings.PUBLIC_URL = live_server.url
    key = ApiKey.objects.create(
        owner=alice, name="Hooks", key=HOOK_KEY, api_url=hooks_sim.url, is_default=True
    )
    key.save_webhook_settings(secret=SECRET, enabled=True)
    return key


def tracked(remote_id: str, timeout: float = 20) -> "Job":
    """The job once the receiver tracked it (a row to wait for, not a time)."""
    from jobs.models import Job

    deadline = time.monotonic() + timeout
    while (job := Job.objects.filter(remote_id=remote_id).first()) is None:
        assert time.monotonic() < deadline, f"job {remote_id} was never tracked"
        time.sleep(0.1)
    return job


def status_reads(sim: FakeFirecrawl, remote_id: str) -> int:
    return sum(1 for r in sim.requests if r.method == "GET" and r.path.endswith(remote_id))


def assert_cache_exact(job: "Job", sim: FakeFirecrawl) -> None:
    """Every document upstream holds, once, at its position, byte for byte."""
    expected = sim.job(str(job.remote_id)).documents
    cached = list(job.documents.order_by("position").values_list("position", "raw"))
    assert [position for position, _ in cached] == list(range(len(expected)))
    assert [json.loads(raw) for _, raw in cached] == expected


def test_a_signed_started_event_for_an_unknown_job_puts_it_in_the_jobs_list_as_a_crawl(
    alice_page: Page, hook_key: "ApiKey", hooks_sim: FakeFirecrawl, worker: TaskWorker
) -> None:
    webhook = {"url": hook_key.webhook_url, "events": ["started"]}
    remote_id = hooks_sim.create_crawl(HOOK_KEY, limit=3, webhook=webhook)
    (delivery,) = [d for d in hooks_sim.wait_for_webhooks() if d.job_id == remote_id]
    assert (delivery.type, delivery.status) == ("crawl.started", 200)

    alice_page.goto("/")

    row = alice_page.get_by_role("row").filter(has_text="Crawl announced by webhook")
    expect(row).to_have_count(1)
    # A fact: "Crawl" under its title, not "Batch or crawl".
    expect(row.locator(".job-kind")).to_have_text(re.compile(r"^Crawl\b"))
    row.get_by_role("link").click()
    expect(alice_page.get_by_test_id("job-kind")).to_have_text("Crawl")
    expect(alice_page.get_by_text(remote_id)).to_be_visible()


def test_a_page_event_makes_the_cached_count_rise_while_the_poll_interval_is_long(
    alice_page: Page,
    hook_key: "ApiKey",
    hooks_sim: FakeFirecrawl,
    worker: TaskWorker,
    settings: Any,
) -> None:
    from tests.conftest import make_job

    # Ten minutes between polls: within this test, only events can make the job be read.
    settings.FIRECRAWL_POLL_INTERVAL = 600
    settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL = 600
    webhook = {"url": hook_key.webhook_url, "events": ["page"]}
    remote_id = hooks_sim.create_batch(HOOK_KEY, n=10_000, rate=5.0, webhook=webhook)
    try:
        job = make_job(hook_key, remote_id, kind="batch")
        alice_page.goto(f"/jobs/{job.pk}/")
        cache = alice_page.get_by_test_id("cache-state")
        expect(cache).to_contain_text("Cached 0 of")

        # Each rise comes a page event later: the count moves again and again, never waiting
        # for the ten-minute poll.
        for _ in range(3):
            shown = cache.inner_text()
            expect(cache).not_to_have_text(shown, timeout=15_000)
        expect(alice_page.get_by_test_id("webhook-event")).to_contain_text("last event")
        assert status_reads(hooks_sim, remote_id) >= 3
    finally:
        hooks_sim.expire(remote_id)  # no more events once the test is over


def test_a_wrong_or_missing_signature_and_an_unknown_token_change_nothing(
    alice_page: Page,
    hook_key: "ApiKey",
    hooks_sim: FakeFirecrawl,
    worker: TaskWorker,
    live_server: Any,
) -> None:
    from jobs.models import Job

    # Signed with another secret (a team whose secret is not the one saved here), unsigned (a
    # team without one), and to a URL whose token no key has.
    hook_key.save_webhook_settings(secret="whsec-not-the-teams", enabled=True)
    ids = [
        hooks_sim.create_batch(HOOK_KEY, n=2, webhook=hook_key.webhook_url),
        hooks_sim.create_batch(UNSIGNING_KEY, n=2, webhook=hook_key.webhook_url),
    ]
    stranger = f"{live_server.url}/keys/webhook/{uuid.uuid4().hex}/"
    ids.append(hooks_sim.create_batch(HOOK_KEY, n=2, webhook=stranger))

    deliveries = [d for d in hooks_sim.wait_for_webhooks() if d.job_id in ids]

    statuses = sorted({(d.url == stranger, d.status) for d in deliveries})
    assert statuses == [(False, 401), (True, 404)]
    refused = sum(d.status == 401 for d in deliveries)
    assert refused == 8  # 2 batches x (started, 2 pages, completed)
    assert not Job.objects.exists()
    alice_page.goto("/")
    expect(alice_page.get_by_text("Crawl announced by webhook")).to_have_count(0)
    expect(alice_page.get_by_text("Batch scrape announced by webhook")).to_have_count(0)
    alice_page.goto("/keys/")
    alice_page.get_by_role("link", name="Hooks").click()
    expect(alice_page.get_by_test_id("webhook-refused")).to_have_text(str(refused))
    expect(alice_page.get_by_test_id("webhook-deliveries")).to_contain_text(
        "No delivery received yet."
    )
    expect(alice_page.get_by_test_id("webhook-deliveries")).to_contain_text(
        "a wrong or missing signature"
    )


def test_a_replayed_webhook_id_changes_nothing(
    alice_page: Page, hook_key: "ApiKey", hooks_sim: FakeFirecrawl, worker: TaskWorker
) -> None:
    from jobs.models import Job
    from jobs.tasks import stop_tracking
    from keys.models import WebhookReceipt

    webhook = {"url": hook_key.webhook_url, "events": ["started"]}
    remote_id = hooks_sim.create_batch(HOOK_KEY, n=3, webhook=webhook)
    (delivery,) = [d for d in hooks_sim.wait_for_webhooks() if d.job_id == remote_id]
    job = tracked(remote_id)
    alice_page.goto(f"/keys/{hook_key.pk}/")
    last = alice_page.get_by_test_id("webhook-deliveries").locator("time")
    delivered = last.get_attribute("datetime")
    # The owner stops tracking the job and clears the memory of having done so: only the
    # receipt of the delivery now stands between a replay and the job coming back.
    stop_tracking(job)
    hook_key.refresh_from_db()
    type(hook_key).objects.filter(pk=hook_key.pk).update(stopped_job_ids=[])

    answer = requests.post(delivery.url, data=delivery.body, headers=delivery.headers, timeout=10)

    assert (answer.status_code, answer.json()) == (200, {"message": "Already received"})
    assert not Job.objects.tracked().exists()
    assert WebhookReceipt.objects.count() == 1
    alice_page.goto("/")
    expect(alice_page.get_by_text("Batch scrape announced by webhook")).to_have_count(0)
    alice_page.goto(f"/keys/{hook_key.pk}/")
    expect(last).to_have_attribute("datetime", delivered or "")
    expect(alice_page.get_by_test_id("webhook-refused")).to_have_text("0")


def test_a_lost_share_of_events_still_ends_in_an_exact_cache(
    alice_page: Page,
    hook_key: "ApiKey",
    hooks_sim: FakeFirecrawl,
    worker: TaskWorker,
    settings: Any,
) -> None:
    from tests.conftest import make_job

    # Half the events never leave Firecrawl, then all of them: the last pages and the
    # completion are certainly lost. The poll, a safety net every few seconds while events
    # came, finds what they did not announce.
    settings.FIRECRAWL_POLL_INTERVAL = 2
    settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL = 4
    hooks_sim.webhook_drop = 0.5
    remote_id = hooks_sim.create_batch(
        HOOK_KEY, n=300, rate=30.0, fail_every=25, webhook=hook_key.webhook_url
    )
    job = make_job(hook_key, remote_id, kind="batch")
    alice_page.goto(f"/jobs/{job.pk}/")
    deadline = time.monotonic() + 20
    while sum(d.job_id == remote_id for d in hooks_sim.webhook_deliveries) < 60:
        assert time.monotonic() < deadline, "the job's first events never came"
        time.sleep(0.05)
    hooks_sim.webhook_drop = 1.0

    expect(alice_page.get_by_test_id("cache-state")).to_have_text(
        "All 288 documents cached", timeout=60_000
    )
    expect(alice_page.get_by_test_id("failed-count")).to_contain_text("12")
    deliveries = [d for d in hooks_sim.wait_for_webhooks() if d.job_id == remote_id]
    assert {d.outcome for d in deliveries} == {"delivered", "dropped"}
    assert deliveries[-1].type == "batch_scrape.completed"
    assert deliveries[-1].outcome == "dropped"
    job.refresh_from_db()
    assert job.event_at is not None
    assert_cache_exact(job, hooks_sim)


def test_a_job_started_here_carries_the_webhook_and_caches_exactly_with_every_event_lost(
    alice_page: Page,
    hook_key: "ApiKey",
    hooks_sim: FakeFirecrawl,
    worker: TaskWorker,
    live_server: Any,
) -> None:
    from jobs.models import Job

    hooks_sim.webhook_drop = 1.0
    hooks_sim.post_rate = 10.0
    urls = [f"https://shop.example.com/item/{i}" for i in range(40)]
    alice_page.goto("/start/")
    alice_page.get_by_label("URLs").fill("\n".join(urls))
    alice_page.get_by_role("button", name="Start batch").click()
    alice_page.get_by_role("button", name="Confirm").click()

    expect(alice_page.get_by_test_id("cache-state")).to_have_text(
        "All 40 documents cached", timeout=30_000
    )
    (start,) = [r for r in hooks_sim.requests if r.method == "POST"]
    webhook = start.payload["webhook"]
    assert webhook["url"] == f"{live_server.url}/keys/webhook/{hook_key.webhook_token}/"
    assert set(webhook["events"]) == {"started", "page", "completed", "failed"}
    job = Job.objects.get(owner=hook_key.owner)
    assert webhook["metadata"] == {"dashboard_start": webhook["metadata"]["dashboard_start"]}
    deliveries = [d for d in hooks_sim.wait_for_webhooks() if d.job_id == str(job.remote_id)]
    assert deliveries and {d.outcome for d in deliveries} == {"dropped"}
    assert job.event_at is None
    assert_cache_exact(job, hooks_sim)
