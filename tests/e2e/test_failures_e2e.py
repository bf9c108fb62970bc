"""Failures in the browser: they appear live while a job runs, and thousands of them stay short."""

import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Frame, Page, expect

from jobs.models import Job
from tests.conftest import make_failed_urls
from tests.e2e.conftest import RequestLog, Syncer

Track = Callable[..., Job]
NewBatch = Callable[..., str]
LONG_MESSAGE = (
    "All scraping engines failed to retrieve content from this URL. Engines tried: [fetch]. "
    "This usually happens when: (1) The URL is invalid or the page doesn't exist (404), "
    "(2) The website is blocking automated access, (3) The website is down or unreachable."
)


def test_failed_urls_appear_while_the_job_runs_without_a_reload(
    alice_page: Page,
    track: Track,
    new_batch: NewBatch,
    syncing: Syncer,
    server_requests: RequestLog,
) -> None:
    page = alice_page
    job = track(new_batch(n=60, rate=10, fail_every=6), label="Some fail")
    navigations: list[str] = []

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", on_navigated)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_role("heading", name="Failed URLs")).to_have_count(0)
    syncing.add(job)

    counts = page.get_by_test_id("scrape-counts")
    expect(counts).to_contain_text("failed", timeout=60_000)
    expect(page.get_by_role("heading", name="Failed URLs")).to_be_visible()
    # The section keeps up with the count, then settles with the job.
    expect(page.get_by_test_id("job-status")).to_have_text("Completed", timeout=60_000)
    # Failed URLs count as done, in the 60 URLs the batch is about.
    expect(counts).to_have_text("50 of 60 pages scraped · 10 failed", timeout=60_000)
    expect(page.locator("section.failures .failure-urls li")).to_have_count(10)
    expect(page.get_by_test_id("failed-range")).to_contain_text("of 10")
    assert navigations == [page.url], f"the page reloaded: {navigations}"

    # Settled: the poll answered 286 and nothing is asked any more.
    expect(page.get_by_text("Up to date: nothing left to fetch.")).to_be_visible(timeout=60_000)
    polls = server_requests.count(f"/jobs/{job.pk}/")
    page.wait_for_timeout(3500)  # longer than a poll interval: a window for one that must not come
    assert server_requests.count(f"/jobs/{job.pk}/") == polls


def test_thousands_of_failures_render_a_short_grouped_paginated_list(
    alice_page: Page, key: Any
) -> None:
    page = alice_page
    job = Job.objects.create(
        owner=key.owner,
        api_key=key,
        api_url=key.api_url,
        api_version="v1",
        remote_id=uuid.uuid4(),
        label="Mostly failed",
        status=Job.Status.COMPLETED,
        fully_cached=True,
        sync_state=Job.SyncState.SETTLED,
    )
    for code, error, count in (
        ("SCRAPE_ALL_ENGINES_FAILED", LONG_MESSAGE, 3000),
        ("SCRAPE_TIMEOUT", "Timed out after 30 s", 1500),
        ("SCRAPE_DNS_RESOLUTION_ERROR", "Host not found", 500),
    ):
        urls = [f"https://shop.example/{code.lower()}/{i:05d}" for i in range(count)]
        make_failed_urls(job, *urls, code=code, error=error)
    assert job.failed_count == 5000

    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("scrape-counts")).to_contain_text("5,000 failed")
    section = page.locator("section.failures")
    expect(section.locator(".failure-urls li")).to_have_count(50)
    # Grouped: each code once, with its count in the whole job and its long message once.
    expect(section.locator(".failure-head")).to_have_count(1)
    expect(section.locator(".failure-head")).to_contain_text("SCRAPE_ALL_ENGINES_FAILED")
    expect(section.locator(".failure-head")).to_contain_text("3,000 URLs")
    expect(section.get_by_text(LONG_MESSAGE[:60])).to_have_count(1)
    urls = [li.get_attribute("title") or "" for li in section.locator(".failure-urls li").all()]
    assert len(urls) == 50 and urls == sorted(urls)  # zero-padded: natural order is text order
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, f"the page is {height} px tall"

    page.get_by_role("navigation", name="Failed URL pages").get_by_role("link", name="Next").click()
    expect(page.get_by_text("Page 2 of 100")).to_be_visible()
    expect(section.locator(".failure-urls li").first).to_have_attribute(
        "title", "https://shop.example/scrape_all_engines_failed/00050"
    )
