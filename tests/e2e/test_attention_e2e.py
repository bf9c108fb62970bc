"""Jobs that need attention stand out: their own status word and colour in the list and on the
page (never Pending), the reason one click away, a Needs attention filter that applies as it is
chosen, and a search by label, id or URL that filters as one types."""

import re
import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from jobs.models import Job
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.e2e.conftest import sync_until_settled

Track = Callable[..., Job]
NewBatch = Callable[..., str]


def closed_port() -> int:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port: int = spare.getsockname()[1]
    return port


def troubled_jobs(key: ApiKey, track: Track, new_batch: NewBatch) -> dict[str, Job]:
    """A job of each kind of trouble, read once, and two healthy ones."""
    owner = key.owner
    unknown = track(str(uuid.uuid4()), label="Typo in the id")
    # Past Firecrawl's creation race: a 404 now means it never knew the id.
    Job.objects.filter(pk=unknown.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    down = ApiKey.objects.create(
        owner=owner,
        name="Down",
        key="fc-down0000000000000000000000000000",
        api_url=(f"http://127.0.0.1:{closed_port()}"),
    )
    refused = ApiKey.objects.create(
        owner=owner,
        name="Revoked",
        key="fc-revoked000000000000000000000000",
        api_url=(key.api_url),
    )
    jobs = {
        "not found": unknown,
        "retrying": Job.objects.create(
            owner=owner,
            api_key=down,
            api_url=down.api_url,
            remote_id=uuid.uuid4(),
            label="Server down",
        ),
        "paused": Job.objects.create(
            owner=owner,
            api_key=refused,
            api_url=refused.api_url,
            remote_id=uuid.uuid4(),
            label="Key revoked",
        ),
    }
    for job in jobs.values():
        sync_job(job.pk)
    jobs["running"] = track(new_batch(n=500, rate=0.5), label="Still going")
    jobs["done"] = sync_until_settled(
        track(
            new_batch(n=5, state="completed"),
            label="Blog archive",
            target_url=("https://blog.example.test/"),
        )
    )
    return jobs


def row_of(page: Page, label: str) -> Any:
    return page.get_by_role("row", name=re.compile(re.escape(label)))


def test_jobs_that_need_attention_say_so_in_the_list_and_on_their_page(
    alice_page: Page, key: ApiKey, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    troubled_jobs(key, track, new_batch)
    page.goto("/")
    words = {
        "Typo in the id": "Not found",
        "Server down": "Retrying",
        "Key revoked": "Paused",
        "Still going": "Pending",  # not read yet, and nothing wrong
        "Blog archive": "Completed",
    }
    for label, word in words.items():
        expect(row_of(page, label).get_by_test_id("status-word")).to_have_text(word)
    # The three in trouble are not Pending, and each has its own colour.
    colours = {
        page.evaluate(
            "el => getComputedStyle(el).backgroundColor",
            row_of(page, label).get_by_test_id("status-word").element_handle(),
        )
        for label in ("Typo in the id", "Server down", "Blog archive", "Still going")
    }
    assert len(colours) == 4, colours

    # The reason is one click away: the word links to it on the job's page.
    row_of(page, "Server down").get_by_role("link", name="Retrying").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+/#job-problem$"))
    expect(page.get_by_test_id("job-status")).to_have_text("Retrying")
    expect(page.get_by_test_id("job-problem")).to_contain_text("connection refused")
    expect(page.get_by_test_id("job-problem")).to_contain_text("retrying in")


def test_the_needs_attention_filter_applies_as_it_is_chosen(
    alice_page: Page, key: ApiKey, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    troubled_jobs(key, track, new_batch)
    page.goto("/")
    rows = page.locator(".jobs-table tbody tr")
    expect(rows).to_have_count(5)
    # No Filter button to press: choosing the option is enough, and the address follows.
    expect(page.get_by_role("button", name="Filter")).to_be_hidden()
    page.get_by_label("Status").select_option(label="Needs attention")
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"[?&]status=attention"))
    for label in ("Typo in the id", "Server down", "Key revoked"):
        expect(row_of(page, label)).to_be_visible()
    # Pending lists the job not yet read, not the ones in trouble.
    page.get_by_label("Status").select_option(label="Pending")
    expect(rows).to_have_count(1)
    expect(row_of(page, "Still going")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Status")).to_have_value("pending")
    expect(rows).to_have_count(1)


def test_the_search_finds_jobs_by_label_id_or_url_as_one_types(
    alice_page: Page, key: ApiKey, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    jobs = troubled_jobs(key, track, new_batch)
    page.goto("/")
    rows = page.locator(".jobs-table tbody tr")
    search = page.get_by_label("Search jobs")
    search.fill("revoked")
    expect(rows).to_have_count(1)
    expect(row_of(page, "Key revoked")).to_be_visible()
    search.fill("blog.example.test")
    expect(rows).to_have_count(1)
    expect(row_of(page, "Blog archive")).to_be_visible()
    search.fill(f"https://api.firecrawl.dev/v2/batch/scrape/{jobs['running'].remote_id}")
    expect(rows).to_have_count(1)
    expect(row_of(page, "Still going")).to_be_visible()
    search.fill("nothing is called this")
    expect(page.get_by_test_id("no-matches")).to_have_text(
        "No jobs match “nothing is called this”. Show all."
    )
