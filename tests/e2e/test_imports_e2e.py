"""Finding jobs in a browser: importing a recent job from the key's listing until every
document is cached. The worker runs in a thread of the test (`worker`), as `manage.py
run_worker` would."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY as KEY
from tests.e2e.conftest import TaskWorker

pytestmark = [pytest.mark.e2e, pytest.mark.key(api_version="v2")]

SITE = "https://docs.example.test"


def test_it_imports_a_recent_job_and_caches_it(
    alice_page: Page, key: Any, sim: FakeFirecrawl, worker: TaskWorker, live_server: Any
) -> None:
    from jobs.models import Job

    page = alice_page
    crawl = sim.create_crawl(KEY, SITE, limit=12, state="completed")
    batch = sim.create_batch(KEY, ["https://shop.example.com/a", "https://shop.example.com/b"])
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()

    page.get_by_role("button", name="Import recent jobs").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import recent jobs")
    rows = page.get_by_test_id("listed-job")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("button", name="Track all")).to_be_visible()
    row = rows.filter(has_text=crawl)
    expect(row).to_contain_text("Crawl")
    expect(row).to_contain_text(SITE)
    expect(row.locator("time")).to_have_count(1)
    expect(rows.filter(has_text=batch)).to_contain_text("https://shop.example.com/a")

    row.get_by_role("button", name="Track").click()

    job = Job.objects.get(remote_id=crawl)
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
    expect(page.get_by_test_id("job-kind")).to_have_text("Crawl")
    expect(page.get_by_test_id("target-url")).to_have_text(SITE)
    expect(page.get_by_test_id("cache-state")).to_have_text(
        "All 12 documents cached", timeout=60_000
    )
    # Only the batch is left to import.
    page.go_back()
    page.reload()
    expect(page.get_by_test_id("listed-job")).to_have_count(1)
