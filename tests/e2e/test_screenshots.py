"""Screenshots of the real app for the README (opt-in: SCREENSHOTS=1 writes docs/screenshots/)."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import Syncer, sync_until_settled
from tests.waiting import wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("SCREENSHOTS"), reason="set SCREENSHOTS=1 to refresh"),
]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page: Page, name: str, **options: Any) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), **options)


def test_it_takes_the_readme_screenshots(
    alice_page: Page,
    new_batch: Callable[..., str],
    track: Callable[..., Any],
    syncing: Syncer,
    sim: FakeFirecrawl,
    key: Any,
) -> None:
    page = alice_page
    # Firecrawl's v2 API reports when a job was created and how long it ran: the list shows both.
    key.api_version = "v2"
    key.save()
    done = track(new_batch(n=50, state="completed"), label="Docs site, 50 pages")
    failures = track(new_batch(n=120, state="completed", fail_every=9), label="Blog archive")
    cancelled_id = new_batch(n=400, rate=20, start_offset=8)
    sim.cancel(cancelled_id)
    cancelled = track(cancelled_id, label="Pricing pages")
    for job in (done, failures, cancelled):
        sync_until_settled(job)

    # A job mid-progress, synced in the background like the worker does.
    running = track(new_batch(n=600, rate=12), label="Product catalogue")
    syncing.add(running)
    # Enough polls for a chart with a slope (a picture, so it waits for the data it shows).
    wait_until(lambda: running.samples.count() >= 6, "six progress samples")

    page.set_viewport_size({"width": 1200, "height": 820})
    page.goto(f"/jobs/{running.pk}/")
    expect(page.get_by_role("progressbar")).not_to_have_attribute("aria-valuenow", "0")
    expect(page.locator(".chart-figure")).to_be_visible()
    shoot(page, "job-progress")

    page.goto("/")
    expect(page.get_by_role("link", name="Product catalogue")).to_be_visible()
    shoot(page, "dashboard")

    page.goto(f"/jobs/{failures.pk}/documents/")
    page.get_by_role("columnheader", name="Title").get_by_role("link").click()
    expect(page.get_by_role("columnheader", name="Title")).to_have_attribute(
        "aria-sort", "ascending"
    )
    shoot(page, "documents")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/jobs/{failures.pk}/documents/?status=2xx")
    page.locator(".document-results").evaluate("el => el.scrollIntoView()")
    shoot(page, "documents-phone")

    page.emulate_media(color_scheme="dark")
    page.goto("/")
    page.locator("#jobs-list").evaluate("el => el.scrollIntoView()")
    shoot(page, "jobs-phone-dark")
    page.goto(f"/jobs/{running.pk}/")
    expect(page.locator(".chart-figure")).to_be_visible()
    shoot(page, "job-phone-dark")
