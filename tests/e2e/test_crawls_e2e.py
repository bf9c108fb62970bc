"""Crawls in a browser: a crawl tracked by its bare id or by its URL, until every document is
cached, shown as a crawl with its start URL. The worker runs in a thread of the test."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY as KEY
from tests.e2e.conftest import TaskWorker

pytestmark = [pytest.mark.e2e, pytest.mark.key(api_version="v2")]

SITE = "https://docs.example.test"


@pytest.mark.parametrize("pasted", ["bare id", "URL"])
def test_it_tracks_a_crawl_by_id_or_url_until_every_document_is_cached(
    pasted: str,
    alice_page: Page,
    key: Any,
    sim: FakeFirecrawl,
    worker: TaskWorker,
) -> None:
    page = alice_page
    crawl = sim.create_crawl(KEY, SITE, limit=30, rate=15.0)
    page.goto("/")
    page.get_by_label("Job ID").fill(
        crawl if pasted == "bare id" else f"{sim.url}/v2/crawl/{crawl}"
    )
    page.get_by_role("button", name="Track").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 30 documents cached", timeout=60_000
    )
    # What the listings said after the first read: a crawl, and where it started.
    page.reload()
    expect(page.get_by_test_id("job-kind")).to_have_text("Crawl")
    expect(page.get_by_test_id("target-url")).to_have_text(SITE)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    # Titled after its start URL's host, its kind and start URL under the title.
    row = page.get_by_role("row", name=re.compile("Crawl of docs.example.test"))
    expect(row.locator(".job-kind")).to_have_text(f"Crawl · {SITE}")
