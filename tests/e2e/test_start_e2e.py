"""Starting jobs in a browser: a batch from pasted URLs to its cached documents, a double-clicked
Confirm that starts one job upstream, and a retry of a job's failed URLs, linked both ways.
The worker runs in a thread of the test (`worker`), as `manage.py run_worker` would."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl, Fault
from tests.e2e.conftest import RequestLog, TaskWorker

pytestmark = pytest.mark.e2e

URLS = [
    "https://shop.example.com/tea",
    "https://shop.example.com/coffee",
    "https://shop.example.com/cocoa",
]


def batch_posts(sim: FakeFirecrawl) -> int:
    return sim.count_requests("POST", "/batch/scrape")


def fill_batch(page: Page, urls: list[str]) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start").click()
    page.get_by_label("URLs").fill("\n".join(urls))
    page.get_by_role("button", name="Start batch").click()


def test_it_starts_a_batch_from_pasted_urls_and_caches_it(
    alice_page: Page,
    key: Any,
    sim: FakeFirecrawl,
    worker: TaskWorker,
    live_server: Any,
) -> None:
    from jobs.models import Job

    page = alice_page
    before = batch_posts(sim)
    page.goto("/")
    fill_batch(page, [*URLS, URLS[0]])

    # The confirmation: count, credits, nothing started yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the batch")
    expect(page.get_by_test_id("url-count")).to_have_text("3 URLs (1 duplicate left out)")
    expect(page.get_by_test_id("estimated-credits")).to_contain_text("3")
    expect(page.get_by_test_id("remaining-credits")).to_have_text(re.compile(r"^[\d,]+$"))
    assert batch_posts(sim) == before

    page.get_by_role("button", name="Confirm").click()

    job = Job.objects.get(owner=key.owner)
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.locator(".message-success")).to_contain_text("Started on Firecrawl.")
    expect(page.get_by_test_id("job-kind")).to_have_text("Batch scrape")
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 3 documents cached", timeout=60_000
    )
    assert batch_posts(sim) == before + 1


def test_confirm_clicked_twice_starts_one_job_upstream(
    alice_page: Page,
    key: Any,
    sim: FakeFirecrawl,
    worker: TaskWorker,
    server_requests: RequestLog,
    live_server: Any,
) -> None:
    from jobs.models import Job

    page = alice_page
    page.goto("/start/")
    fill_batch(page, URLS)
    before = batch_posts(sim)
    # Firecrawl takes a while to answer, and the person clicks again meanwhile. (A dblclick
    # proper is one submission in Chromium: the second replaces the first before it is sent.)
    sim.inject(Fault.slow(1.5), method="POST", path_contains="/batch/scrape")
    # Playwright's own clicks wait for the first navigation to end, so the page clicks: once,
    # and again 0.4 s later, while the first press is still waiting for Firecrawl.
    confirm = page.get_by_role("button", name="Confirm")
    confirm.evaluate("button => { button.click(); setTimeout(() => button.click(), 400); }")

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 3 documents cached", timeout=60_000
    )
    assert server_requests.count("/start/confirm/") == 2, "the browser sent one press only"
    assert batch_posts(sim) == before + 1
    job = Job.objects.get(owner=key.owner)
    assert page.url == f"{live_server.url}/jobs/{job.pk}/"


def test_it_retries_the_failed_urls_of_a_job_and_links_the_two(
    alice_page: Page,
    track: Callable[..., Any],
    new_batch: Callable[..., str],
    worker: TaskWorker,
) -> None:
    from jobs.models import Job
    from jobs.tasks import request_sync

    page = alice_page
    flaky = ["https://shop.example.com/flaky-1", "https://shop.example.com/flaky-2"]
    original = track(
        new_batch(urls=[*URLS, *flaky], state="completed", fail_urls=set(flaky)), label="Shop"
    )
    request_sync(original)
    page.goto(f"/jobs/{original.pk}/")
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 3 documents cached", timeout=60_000
    )
    page.reload()

    page.get_by_role("button", name="Retry 2 failed URLs").click()

    # Tracked by id here: the batch form, filled in with exactly the failed URLs.
    expect(page.get_by_test_id("retrying")).to_contain_text("Retrying the failed URLs of Shop")
    box = page.get_by_label("URLs")
    expect(box).not_to_have_value("")
    assert sorted(box.input_value().splitlines()) == flaky
    page.get_by_role("button", name="Start batch").click()
    expect(page.get_by_test_id("url-count")).to_have_text("2 URLs")
    page.get_by_role("button", name="Confirm").click()

    retry = Job.objects.get(retry_of=original)
    expect(page.get_by_role("heading", level=1)).to_have_text("Retry of Shop")
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 2 documents cached", timeout=60_000
    )
    back = page.get_by_role("link", name=re.compile(r"^Retry of"))
    expect(back).to_have_attribute("href", f"/jobs/{original.pk}/")
    back.click()
    expect(page.get_by_test_id("retried-in")).to_have_text("Retried in Retry of Shop")
    expect(page.get_by_test_id("retried-in").get_by_role("link")).to_have_attribute(
        "href", f"/jobs/{retry.pk}/"
    )
