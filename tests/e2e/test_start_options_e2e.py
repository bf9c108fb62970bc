"""Every option a crawl or a batch has, in the browser: filled in on Start (the advanced ones
behind a disclosure), checked before Confirm, shown under Options on the confirmation and the job
page, and Run again sends Firecrawl the very same start request (the simulator's request log is
the judge), in the names of the key's API version."""

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey

pytestmark = pytest.mark.e2e


def last_start(sim: FakeFirecrawl, path: str) -> dict[str, Any]:
    posts = [r for r in sim.requests if r.method == "POST" and r.path.endswith(path)]
    body: dict[str, Any] = json.loads(posts[-1].body)
    return body


def starts(sim: FakeFirecrawl) -> int:
    return sim.count_requests("POST", "/crawl") + sim.count_requests("POST", "/batch/scrape")


def fill_crawl(page: Page) -> None:
    page.goto("/start/")
    page.get_by_role("tab", name="Crawl").click()
    crawl = page.locator("#crawl")
    crawl.get_by_label("Start URL").fill("https://docs.example.test/docs")
    crawl.get_by_label("Limit").fill("20")
    crawl.get_by_label("Max depth").fill("2")
    crawl.get_by_label("Include paths").fill("^/docs/.*")
    crawl.get_by_label("Exclude paths").fill("^/docs/old/.*\n^/docs/draft/.*")
    crawl.get_by_label("Links", exact=True).check()
    crawl.get_by_label("Only main content").uncheck()
    crawl.get_by_label("Label").fill("Docs crawl")
    advanced = crawl.get_by_text("Advanced options")
    expect(crawl.get_by_label("Sitemap")).to_be_hidden()  # behind the disclosure
    advanced.click()
    crawl.get_by_label("Match paths against the full URL").check()
    crawl.get_by_label("Crawl the entire domain").check()
    crawl.get_by_label("Follow links to subdomains").check()
    crawl.get_by_label("Sitemap").select_option("skip")
    crawl.get_by_label("Ignore query parameters").check()
    crawl.get_by_label("Delay between pages (s)").fill("1.5")
    crawl.get_by_label("Max concurrency").fill("3")
    crawl.get_by_label("Include tags").fill("article, main")
    crawl.get_by_label("Exclude tags").fill("nav")
    crawl.get_by_label("Wait before reading (ms)").fill("1000")
    crawl.get_by_label("Timeout (ms)").fill("30000")
    crawl.get_by_label("Mobile").check()
    crawl.get_by_label("Keep ads and cookie banners").check()
    crawl.get_by_label("Proxy").select_option("enhanced")
    crawl.get_by_label("Country").fill("de")
    crawl.get_by_label("Languages").fill("de-DE, en")
    crawl.get_by_label("Headers").fill("Cookie: session=abc\nX-Team: docs")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_crawls_options_round_trip_through_run_again(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl, version: str
) -> None:
    page = alice_page
    key.api_version = version
    key.save()
    fill_crawl(page)
    page.get_by_role("button", name="Start crawl").click()

    # The confirmation shows them all, under Options.
    expect(page.get_by_role("heading", name="Options")).to_be_visible()
    options = page.get_by_test_id("options")
    for text in ("Max depth", "^/docs/old/.*, ^/docs/draft/.*", "Ignore it", "1.5 s", "30,000 ms"):
        expect(options).to_contain_text(text)
    expect(options).to_contain_text("Cookie: …")  # a header's value is never shown
    before = starts(sim)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message-success")).to_contain_text("Started on Firecrawl.")
    first = last_start(sim, "/crawl")
    depth = {"v1": "maxDepth", "v2": "maxDiscoveryDepth"}[version]
    sitemaps: dict[str, dict[str, Any]] = {
        "v1": {"ignoreSitemap": True},
        "v2": {"sitemap": "skip"},
    }
    sitemap = sitemaps[version]
    assert first == {
        "url": "https://docs.example.test/docs",
        "limit": 20,
        depth: 2,
        "includePaths": ["^/docs/.*"],
        "excludePaths": ["^/docs/old/.*", "^/docs/draft/.*"],
        "regexOnFullURL": True,
        "crawlEntireDomain": True,
        "allowSubdomains": True,
        **sitemap,
        "ignoreQueryParameters": True,
        "delay": 1.5,
        "maxConcurrency": 3,
        "scrapeOptions": {
            "formats": ["markdown", "links"],
            "onlyMainContent": False,
            "includeTags": ["article", "main"],
            "excludeTags": ["nav"],
            "waitFor": 1000,
            "timeout": 30000,
            "mobile": True,
            "blockAds": False,
            "proxy": "enhanced",
            "location": {"country": "DE", "languages": ["de-DE", "en"]},
            "headers": {"Cookie": "session=abc", "X-Team": "docs"},
        },
    }

    # The job page shows them, and Run again goes through the confirmation.
    expect(page.get_by_role("heading", name="Options")).to_be_visible()
    expect(page.get_by_test_id("options")).to_contain_text("Ignore it: follow links only")
    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the crawl")
    assert starts(sim) == before + 1
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message-success")).to_contain_text("Started on Firecrawl.")
    assert starts(sim) == before + 2
    assert last_start(sim, "/crawl") == first
    assert Job.objects.filter(owner=key.owner, label="Docs crawl").count() == 2


def test_a_batchs_urls_and_options_round_trip_through_run_again(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl
) -> None:
    page = alice_page
    key.api_version = "v2"
    key.save()
    urls = [f"https://shop.example.test/item/{n}" for n in range(1, 6)]
    page.goto("/start/")
    batch = page.locator("#batch")
    batch.get_by_label("URLs").fill("\n".join(urls))
    batch.get_by_label("HTML", exact=True).check()
    batch.get_by_text("Advanced options").click()
    batch.get_by_label("Max concurrency").fill("2")
    batch.get_by_label("Wait before reading (ms)").fill("500")
    batch.get_by_label("Country").fill("us")
    page.get_by_role("button", name="Start batch").click()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message-success")).to_contain_text("Started on Firecrawl.")
    first = last_start(sim, "/batch/scrape")
    assert first == {
        "urls": urls,
        "ignoreInvalidURLs": True,
        "maxConcurrency": 2,
        "formats": ["markdown", "html"],
        "onlyMainContent": True,
        "waitFor": 500,
        "location": {"country": "US"},
    }
    expect(page.get_by_test_id("options")).to_contain_text("Markdown, HTML")

    page.get_by_role("button", name="Run again").click()
    expect(page.get_by_test_id("url-count")).to_have_text("5 URLs")
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".message-success")).to_contain_text("Started on Firecrawl.")
    assert last_start(sim, "/batch/scrape") == first


def test_an_invalid_regex_is_refused_before_anything_is_sent(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl
) -> None:
    page = alice_page
    page.goto("/start/?tab=crawl")
    crawl = page.locator("#crawl")
    crawl.get_by_label("Start URL").fill("https://docs.example.test/")
    crawl.get_by_label("Include paths").fill("^/guide/.*\n^/guide/(.*")
    sent = len(sim.requests)
    page.get_by_role("button", name="Start crawl").click()

    # Back on the form, the crawl tab open, the pattern named; Firecrawl was never asked.
    expect(page.get_by_role("tab", name="Crawl")).to_have_attribute("aria-selected", "true")
    errors = crawl.locator(".has-error .field-errors")
    expect(errors).to_contain_text("Line 2 is not a regular expression")
    expect(errors).to_contain_text("^/guide/(.*")
    expect(crawl.get_by_label("Start URL")).to_have_value("https://docs.example.test/")
    assert len(sim.requests) == sent, sim.requests[sent:]


def test_out_of_range_numbers_and_bad_headers_open_the_advanced_options_with_their_errors(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl
) -> None:
    page = alice_page
    page.goto("/start/")
    batch = page.locator("#batch")
    batch.get_by_label("URLs").fill("https://shop.example.test/")
    batch.get_by_text("Advanced options").click()
    batch.get_by_label("Wait before reading (ms)").fill("20000")
    batch.get_by_label("Timeout (ms)").fill("30000")
    batch.get_by_label("Headers").fill("Not a header")
    batch.get_by_label("Country").fill("ZZ")
    sent = len(sim.requests)
    page.get_by_role("button", name="Start batch").click()

    details = batch.get_by_test_id("advanced-batch")
    expect(details).to_have_attribute("open", "")
    expect(batch.get_by_text("Wait at most half the timeout (15,000 ms)")).to_be_visible()
    expect(batch.get_by_text("Line 1 is not “Name: value”")).to_be_visible()
    expect(batch.get_by_text("two-letter ISO 3166-1 code")).to_be_visible()
    assert len(sim.requests) == sent
