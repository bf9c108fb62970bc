"""Screenshots of the real app for the README (opt-in: SCREENSHOTS=1 writes docs/screenshots/).

Desktop and phone, light and dark: a running job, the jobs list with jobs that need attention,
Start with a crawl's options, failed and cancelled URLs, the document browser."""

import os
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, ViewportSize, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import Syncer, sync_until_settled
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 to refresh"),
]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP: ViewportSize = {"width": 1200, "height": 820}
PHONE: ViewportSize = {"width": 390, "height": 844}


def shoot(page: Page, name: str, **options: Any) -> None:
    """A PNG of the page as it settles: transitions finished (a switch to dark mode fades the
    buttons' colours in over 0.12 s, and a picture taken meanwhile shows light buttons)."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), animations="disabled", **options)


def show_jobs_list(page: Page) -> None:
    """Scroll to the jobs list's heading, its filters and first jobs below the sticky header."""
    page.locator("#jobs-list").evaluate("el => el.closest('section').scrollIntoView()")
    page.evaluate("window.scrollBy(0, -64)")


def test_it_takes_the_readme_screenshots(
    alice_page: Page,
    new_batch: Callable[..., str],
    track: Callable[..., Any],
    syncing: Syncer,
    sim: FakeFirecrawl,
    key: Any,
) -> None:
    from jobs import start_options
    from jobs.models import Job

    page = alice_page
    # Firecrawl's v2 API reports when a job was created and how long it ran: the list shows both.
    key.api_version = "v2"
    key.save()
    done = track(new_batch(n=50, state="completed"), label="Docs site, 50 pages")
    failures = track(new_batch(n=120, state="completed", fail_every=7), label="Blog archive")
    cancelled_id = new_batch(n=200, rate=20, start_offset=0.65)
    sim.cancel(cancelled_id)
    cancelled = track(cancelled_id, label="Pricing pages")
    crawl = track(
        sim.create_crawl(key.key, "https://handbook.example.test", limit=40, state="completed"),
        kind=Job.Kind.CRAWL,
        target_url="https://handbook.example.test",
    )
    for job in (done, failures, cancelled, crawl):
        sync_until_settled(job)
    # Two that need attention: an id Firecrawl never knew, and a server that refuses connections.
    lost = track(str(uuid.uuid4()))
    Job.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(minutes=20),
        sync_state=Job.SyncState.NOT_FOUND,
        last_error="Not found on Firecrawl: no job with this id answers to this key.",
    )
    down = track(str(uuid.uuid4()), label="Nightly changelog")
    Job.objects.filter(pk=down.pk).update(
        consecutive_failures=3,
        last_error="Could not reach Firecrawl (connection refused); retrying in 40 s",
    )

    # A job mid-progress, started here (its options, Run again), synced like the worker does.
    urls = [f"https://shop.example.test/products/{n}" for n in range(1, 601)]
    running = track(
        sim.create_batch(key.key, urls, rate=12, fail_every=23),
        label="Product catalogue",
        start_options=start_options.body(
            "batch", "v2", {"formats": ["markdown", "links"], "only_main_content": True}
        ),
        start_urls=urls,
        url_count=len(urls),
    )
    syncing.add(running)
    # Enough polls for a chart with a slope (a picture, so it waits for the data it shows).
    wait_until(lambda: running.samples.count() >= 6, "six progress samples")

    page.set_viewport_size(DESKTOP)
    page.goto(f"/jobs/{running.pk}/")
    expect(page.get_by_role("progressbar")).not_to_have_attribute("aria-valuenow", "0")
    expect(page.locator(".chart-figure")).to_be_visible()
    expect(page.get_by_test_id("scrape-counts")).to_contain_text("failed")
    shoot(page, "job-progress")
    page.emulate_media(color_scheme="dark")
    shoot(page, "job-progress-dark")
    page.emulate_media(color_scheme="light")

    page.goto("/")
    expect(page.get_by_role("link", name="Product catalogue")).to_be_visible()
    shoot(page, "dashboard", full_page=True)

    page.goto("/start/?tab=crawl")
    crawl_form = page.locator("#crawl")
    crawl_form.get_by_label("Start URL").fill("https://docs.example.com/guide")
    crawl_form.get_by_label("Include paths").fill("^/guide/.*")
    crawl_form.get_by_label("Links", exact=True).check()
    crawl_form.get_by_text("Advanced options").click()
    crawl_form.get_by_label("Sitemap").select_option("skip")
    crawl_form.get_by_label("Country").fill("DE")
    page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
    shoot(page, "start-crawl", full_page=True)

    page.goto(f"/jobs/{failures.pk}/")
    page.locator("#failed-urls").evaluate("el => el.scrollIntoView()")
    page.evaluate("window.scrollBy(0, -80)")  # below the sticky header
    shoot(page, "failures")

    page.goto(f"/jobs/{failures.pk}/documents/")
    page.get_by_role("columnheader", name="Title").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Title")).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_text("CSV or Excel with chosen columns").click()
    shoot(page, "documents")

    page.set_viewport_size(PHONE)
    page.goto(f"/jobs/{failures.pk}/documents/?status=2xx")
    page.locator(".document-results").evaluate("el => el.scrollIntoView()")
    shoot(page, "documents-phone")
    page.goto("/")
    show_jobs_list(page)
    shoot(page, "jobs-phone")

    page.emulate_media(color_scheme="dark")
    page.goto("/")
    show_jobs_list(page)
    shoot(page, "jobs-phone-dark")
    page.goto(f"/jobs/{running.pk}/")
    expect(page.locator(".chart-figure")).to_be_visible()
    shoot(page, "job-phone-dark")
