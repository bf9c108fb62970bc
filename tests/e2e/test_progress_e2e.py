"""Progress that counts failures, in the browser: the bar, the counts, the jobs list and the chart
agree on done (scraped, failed or cancelled) of every URL, while a job runs and after a cancel."""

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey
from tests.e2e.conftest import Syncer, TaskWorker, sync_until_settled

Track = Callable[..., Job]
NewBatch = Callable[..., str]


def progress_numbers(page: Page) -> tuple[int, int]:
    bar = page.get_by_role("progressbar", name="Scraping progress")
    return int(bar.get_attribute("aria-valuenow") or -1), int(
        bar.get_attribute("aria-valuemax") or -1
    )


def test_failed_urls_count_as_done_and_the_denominator_stays_the_urls_submitted(
    alice_page: Page,
    key: ApiKey,
    sim: FakeFirecrawl,
    worker: TaskWorker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = alice_page
    monkeypatch.setattr(sim, "post_rate", 40)
    # 120 URLs, every 7th fails: Firecrawl's own total shrinks as they do (117, 115, … 103).
    urls = [
        f"https://blog.example.test/{'fail' if n % 7 == 0 else 'post'}/{n}" for n in range(1, 121)
    ]
    page.goto("/start/")
    page.get_by_label("URLs").fill("\n".join(urls))
    page.get_by_label("Label").first.fill("Blog archive")
    page.get_by_role("button", name="Start batch").click()
    page.get_by_role("button", name="Confirm").click()

    counts = page.get_by_test_id("scrape-counts")
    expect(counts).to_contain_text("failed", timeout=15_000)
    # While it runs, the bar's maximum is every URL of the batch, never Firecrawl's shrinking total.
    seen: set[int] = set()
    while page.get_by_test_id("job-status").inner_text() != "Completed":
        now, most = progress_numbers(page)
        seen.add(most)
        assert 0 <= now <= most
        page.wait_for_timeout(200)
    assert seen <= {120}, f"the bar's maximum moved: {sorted(seen)}"
    expect(counts).to_have_text("103 of 120 pages scraped · 17 failed", timeout=15_000)
    assert progress_numbers(page) == (120, 120)
    # The chart says the same, in pages done.
    expect(page.get_by_role("img", name=re.compile(r"^120 of 120 pages done"))).to_be_visible(
        timeout=15_000
    )

    page.goto("/")
    row = page.get_by_role("row", name=re.compile("Blog archive"))
    expect(row.locator("td[data-label='Progress']")).to_have_text("120 / 120")
    expect(row.locator("td[data-label='Failed']")).to_have_text("17")


def test_a_batch_tracked_by_id_counts_its_failures_once_settled(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    job = sync_until_settled(track(new_batch(n=60, state="completed", fail_every=6)))
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("scrape-counts")).to_have_text("50 of 60 pages scraped · 10 failed")
    assert progress_numbers(page) == (60, 60)


def test_a_cancelled_batch_names_its_cancelled_urls_and_keeps_its_size(
    alice_page: Page, track: Track, new_batch: NewBatch, syncing: Syncer
) -> None:
    page = alice_page
    job = track(new_batch(n=200, rate=8), label="Pricing pages")
    syncing.add(job)
    page.goto(f"/jobs/{job.pk}/")
    counts = page.get_by_test_id("scrape-counts")
    expect(counts).not_to_have_text(re.compile(r"^0 of"), timeout=15_000)

    page.get_by_text("Cancel job", exact=True).click()
    page.get_by_role("button", name="Yes, cancel the job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Cancelled", timeout=15_000)
    expect(page.get_by_text("Up to date: nothing left to fetch.")).to_be_visible(timeout=20_000)

    job.refresh_from_db()
    scraped, cancelled = job.scraped, job.cancelled_count
    assert scraped + cancelled == 200 and cancelled > 0 and job.failed_count == 0
    # Not "13 of 13" with "187 failed": the cancelled URLs are counted, and named, apart.
    expect(counts).to_have_text(f"{scraped} of 200 pages scraped · {cancelled} cancelled")
    assert progress_numbers(page) == (200, 200)
    section = page.locator("section.failures")
    expect(section.locator(".failure-head")).to_contain_text(f"Cancelled · {cancelled} URLs")
    expect(section.get_by_text("no code")).to_have_count(0)

    page.goto("/")
    row = page.get_by_role("row", name=re.compile("Pricing pages"))
    expect(row.locator("td[data-label='Progress']")).to_have_text("200 / 200")
    expect(row.locator("td[data-label='Failed']")).to_contain_text(f"{cancelled} cancelled")


def test_failed_urls_are_links_in_natural_order(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    urls = [f"https://shop.example.test/page/{n}" for n in (105, 14, 3, 27)]
    job = sync_until_settled(
        track(new_batch(urls=urls, state="completed", fail_urls=set(urls)), label="All fail")
    )
    page.goto(f"/jobs/{job.pk}/")
    links = page.locator("section.failures .failure-urls a")
    expect(links).to_have_count(4)
    hrefs = [link.get_attribute("href") for link in links.all()]
    assert hrefs == [f"https://shop.example.test/page/{n}" for n in (3, 14, 27, 105)]
    assert all(link.get_attribute("rel") == "noopener noreferrer nofollow" for link in links.all())
