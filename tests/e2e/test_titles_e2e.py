"""Readable names in the browser: a job without a label is titled from its file, its crawl's
host or its size (never its raw id once anything is known), the import page labels what it
tracks, and a key saved without checking shows masked like any other."""

import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey
from tests.e2e.conftest import sync_until_settled

pytestmark = pytest.mark.e2e

KEY = "fc-e2etitles000000000000000000000e2e2"


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    """A Firecrawl of Alice's own, so its listing holds only this test's jobs."""
    with FakeFirecrawl(seed=12) as sim:
        sim.add_key(KEY, team="e2e-titles")
        yield sim


@pytest.fixture
def key(alice: Any, sim: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(
        owner=alice, name="Titles", key=KEY, api_url=sim.url, api_version="v2", is_default=True
    )


def heading(page: Page) -> Any:
    return page.get_by_role("heading", level=1)


def test_unlabelled_jobs_are_titled_from_their_file_host_or_size(
    alice_page: Page, key: ApiKey, tmp_path: Any
) -> None:
    page = alice_page
    listing = tmp_path / "pricing-pages.txt"
    listing.write_text("https://shop.example.test/a\nhttps://shop.example.test/b\n")
    page.goto("/start/")
    page.locator("#batch").get_by_label("Or upload a file").set_input_files(str(listing))
    page.get_by_role("button", name="Start batch").click()
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("pricing-pages.txt")

    page.goto("/start/")
    page.locator("#batch").get_by_label("URLs").fill(
        "https://shop.example.test/a\nhttps://shop.example.test/b\nhttps://shop.example.test/c"
    )
    page.get_by_role("button", name="Start batch").click()
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Batch of 3 URLs")

    page.goto("/start/?tab=crawl")
    page.locator("#crawl").get_by_label("Start URL").fill("https://docs.example.test/guide")
    page.get_by_role("button", name="Start crawl").click()
    page.get_by_role("button", name="Confirm").click()
    expect(heading(page)).to_have_text("Crawl of docs.example.test")

    page.goto("/")
    for title in ("pricing-pages.txt", "Batch of 3 URLs", "Crawl of docs.example.test"):
        expect(page.get_by_role("link", name=title, exact=True)).to_be_visible()
    expect(page.locator(".jobs-table code")).to_have_count(0)  # no raw ids


def test_a_job_tracked_by_its_id_is_titled_by_what_firecrawl_says_of_it(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl
) -> None:
    page = alice_page
    remote_id = sim.create_batch(KEY, n=4, state="completed")
    page.goto("/")
    page.get_by_label("Job ID").fill(remote_id)
    page.get_by_role("button", name="Track").click()
    # Nothing is known yet: its kind and a short id, never the 36 characters.
    expect(heading(page)).to_have_text(f"Job {remote_id[:8]}…")
    job = sync_until_settled(Job.objects.get(remote_id=remote_id))
    page.reload()
    expect(heading(page)).to_have_text("Job of 4 pages")  # a batch or a crawl: not known yet
    Job.objects.track(owner=key.owner, api_key=key, remote_id=remote_id, kind="batch")
    page.reload()
    expect(heading(page)).to_have_text("Batch of 4 URLs")
    job.refresh_from_db()
    assert str(job) == "Batch of 4 URLs"


def test_the_import_page_labels_what_it_tracks(
    alice_page: Page, key: ApiKey, sim: FakeFirecrawl
) -> None:
    page = alice_page
    remote_id = sim.create_batch(KEY, ["https://shop.example.test/a"], state="completed")
    page.goto(f"/keys/{key.pk}/import/")
    row = page.get_by_test_id("listed-job").filter(has_text=remote_id)
    row.get_by_placeholder("Label (optional)").fill("Spring sale")
    row.get_by_role("button", name="Track").click()
    expect(heading(page)).to_have_text("Spring sale")
    assert Job.objects.get(remote_id=remote_id).label == "Spring sale"


def test_a_key_saved_without_checking_is_shown_masked(alice_page: Page) -> None:
    page = alice_page
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        offline = f"http://127.0.0.1:{spare.getsockname()[1]}"
    for name, secret, hint in (
        ("Self-hosted", "fc-selfhosted", "fc-…sted"),
        ("Long one", f"fc-{uuid.uuid4().hex}1234", "fc-…1234"),
    ):
        page.goto("/keys/")
        page.get_by_label("Name").fill(name)
        page.get_by_label("API key", exact=True).fill(secret)
        page.get_by_label("API URL").fill(offline)
        page.get_by_role("button", name="Add key").click()
        page.get_by_role("button", name="Save without checking").click()
        expect(page.locator(".message-success")).to_have_text(f"Key “{name}” added ({hint}).")
        row = page.get_by_role("row", name=re.compile(re.escape(name)))
        expect(row.locator("code")).to_have_text(hint)
    assert page.content().count("selfhosted") == 0
