"""Finding jobs in a browser: importing a recent job from the key's listing until every
document is cached. The worker runs in a thread of the test (`worker`), as `manage.py
run_worker` would."""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import TaskWorker

pytestmark = pytest.mark.e2e

KEY = "fc-e2eimport000000000000000000000e2e1"
SITE = "https://docs.example.test"


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    """A Firecrawl of Alice's own, so its listings hold only this test's jobs."""
    with FakeFirecrawl(seed=11) as sim:
        sim.add_key(KEY, team="e2e-import")
        yield sim


@pytest.fixture
def key(alice: Any, sim: FakeFirecrawl) -> Any:
    from keys.models import ApiKey

    return ApiKey.objects.create(
        owner=alice, name="Listed", key=KEY, api_url=sim.url, api_version="v2", is_default=True
    )


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
        "All 12 documents cached", timeout=20_000
    )
    # Only the batch is left to import.
    page.go_back()
    page.reload()
    expect(page.get_by_test_id("listed-job")).to_have_count(1)
