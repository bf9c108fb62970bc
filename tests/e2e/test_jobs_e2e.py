"""Tracking a batch and watching it in a browser: live progress, polling that stops, cancel,
failed URLs, stop tracking, and another user's job staying invisible."""

import time
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import RequestLog, Syncer, sync_and_index, sync_until_settled
from tests.waiting import TIMEOUT, wait_until

pytestmark = pytest.mark.e2e

NewBatch = Callable[..., str]
Track = Callable[..., Any]


def test_it_tracks_a_pasted_bare_id_and_lands_on_the_job_page(
    alice_page: Page, key: Any, new_batch: NewBatch, live_server: Any
) -> None:
    from jobs.models import Job

    page = alice_page
    remote_id = new_batch(n=5, state="completed")
    page.goto("/")
    page.get_by_label("Job ID").fill(f"  {remote_id} ")
    page.get_by_role("button", name="Track").click()

    job = Job.objects.get(remote_id=remote_id)
    expect(page).to_have_url(f"{live_server.url}/jobs/{job.pk}/")
    # Nothing known of it yet but its id: a short form of it, not 36 characters.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Job {remote_id[:8]}…")
    expect(page.locator(".message-success")).to_contain_text("Tracking started.")
    expect(page.get_by_role("link", name="Browse documents")).to_be_visible()
    expect(page.get_by_role("link", name="Download zip")).to_be_visible()


def test_it_tracks_a_pasted_url_containing_the_id(
    alice_page: Page, key: Any, new_batch: NewBatch, sim: FakeFirecrawl
) -> None:
    page = alice_page
    remote_id = new_batch(n=5, state="completed")
    page.goto("/")
    page.get_by_label("Job ID").fill(f"{sim.url}/v1/batch/scrape/{remote_id}?skip=0")
    page.get_by_label("Label").fill("Pasted from the API")
    page.get_by_role("button", name="Track").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pasted from the API")
    expect(page.get_by_test_id("job-kind")).to_have_text("Batch scrape")
    expect(page.locator("code", has_text=remote_id)).to_be_visible()

    # Pasting it again opens the same job instead of tracking it twice.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("link", name="Pasted from the API")).to_have_count(1)
    page.get_by_label("Job ID").fill(remote_id)
    page.get_by_role("button", name="Track").click()
    expect(page.locator(".message-info")).to_have_text("You already track this job; here it is.")


def test_it_explains_an_input_without_a_batch_id(alice_page: Page, key: Any) -> None:
    page = alice_page
    page.goto("/")
    page.get_by_label("Job ID").fill("https://www.firecrawl.dev/app/logs")
    page.get_by_role("button", name="Track").click()
    expect(page.get_by_role("alert")).to_contain_text("does not contain a Firecrawl job id")
    expect(page.get_by_label("Job ID")).to_have_value("https://www.firecrawl.dev/app/logs")


def test_it_shows_progress_live_then_stops_polling(
    alice_page: Page,
    track: Track,
    new_batch: NewBatch,
    syncing: Syncer,
    server_requests: RequestLog,
) -> None:
    page = alice_page
    job = track(new_batch(n=40, rate=6), label="Live one")
    syncing.add(job)
    navigations: list[str] = []

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            navigations.append(frame.url)

    page.on("framenavigated", on_navigated)

    page.goto(f"/jobs/{job.pk}/")
    bar = page.get_by_role("progressbar", name="Scraping progress")
    expect(bar).to_have_attribute("aria-valuemax", "40")
    first = int(bar.get_attribute("aria-valuenow") or 0)
    assert first < 40

    seen = {first}
    deadline = time.monotonic() + TIMEOUT
    while int(bar.get_attribute("aria-valuenow") or 0) < 40:
        seen.add(int(bar.get_attribute("aria-valuenow") or 0))
        assert time.monotonic() < deadline, f"progress stalled at {sorted(seen)}"
        page.wait_for_timeout(250)  # the next look at the bar, which the page's polls move
    seen.add(40)
    assert len(seen) >= 2, f"the bar jumped straight to the end: {sorted(seen)}"

    status = page.get_by_test_id("job-status")
    expect(status).to_have_text("Completed", timeout=60_000)
    cache_state = page.get_by_test_id("cache-state")
    expect(cache_state).to_have_text("All 40 documents cached", timeout=60_000)
    expect(page.get_by_text("Up to date: nothing left to fetch.")).to_be_visible(timeout=60_000)

    # Settled: the last poll answered 286, so the page asks nothing more.
    job_path = f"/jobs/{job.pk}/"
    polls_before = server_requests.count(job_path)
    page.wait_for_timeout(5000)  # longer than a poll interval: a window for one that must not come
    assert server_requests.count(job_path) == polls_before
    assert polls_before >= 2, "the page never polled"
    assert navigations == [page.url], f"the page reloaded: {navigations}"


def test_it_lists_the_failed_urls_of_a_job(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    job = sync_until_settled(track(new_batch(n=30, state="completed", fail_every=5)))
    page.goto(f"/jobs/{job.pk}/")

    expect(page.get_by_role("heading", name="Failed URLs")).to_be_visible()
    expect(page.get_by_test_id("scrape-counts")).to_contain_text("6 failed")
    failures = page.locator("section.failures")
    expect(failures.locator(".failure-urls li")).to_have_count(6)
    expect(failures).to_contain_text("https://example.test/page/5")
    expect(page.get_by_test_id("cache-state")).to_have_text("All 24 documents cached")


def test_it_cancels_a_running_job_after_confirmation(
    alice_page: Page, track: Track, new_batch: NewBatch, syncing: Syncer
) -> None:
    page = alice_page
    job = track(new_batch(n=500, rate=5), label="Too big")
    syncing.add(job)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("job-status")).to_have_text("Scraping")

    confirm = page.get_by_role("button", name="Yes, cancel the job")
    expect(confirm).to_be_hidden()
    page.get_by_text("Cancel job", exact=True).click()
    expect(confirm).to_be_visible()
    confirm.click()

    expect(page.locator(".message-success")).to_contain_text("Cancel requested.")
    expect(page.get_by_test_id("job-status")).to_have_text("Cancelled", timeout=60_000)
    expect(page.get_by_text("Cancel job", exact=True)).to_have_count(0)  # gone without a reload
    page.reload()
    expect(page.get_by_test_id("job-status")).to_have_text("Cancelled")
    expect(page.get_by_text("Cancel job", exact=True)).to_have_count(0)


def test_stop_tracking_deletes_the_job_and_its_cache(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    from jobs.models import Document, Job
    from jobs.tasks import purge_job_task

    page = alice_page
    job = sync_until_settled(track(new_batch(n=8, state="completed"), label="Old run"))
    page.goto(f"/jobs/{job.pk}/")
    page.get_by_role("link", name="Stop tracking").click()

    expect(page.get_by_role("heading", name="Stop tracking Old run?")).to_be_visible()
    expect(page.get_by_text("This deletes the 8 cached documents")).to_be_visible()
    page.get_by_role("button", name="Stop tracking and delete").click()

    expect(page.locator(".message-success")).to_contain_text("Stopped tracking Old run")
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Old run")).to_have_count(0)
    # Its rows go in the background, as the worker does it.
    purge_job_task.call(job.pk)
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Document.objects.filter(job_id=job.pk).exists()


def test_bob_cannot_see_alices_job(
    bob_page: Page, bob_key: Any, track: Track, new_batch: NewBatch
) -> None:
    job = sync_until_settled(track(new_batch(n=3, state="completed"), label="Alice's secret"))

    response = bob_page.goto(f"/jobs/{job.pk}/")
    assert response is not None and response.status == 404
    expect(bob_page.get_by_role("heading", name="Not Found")).to_be_visible()
    assert "Alice's secret" not in bob_page.content()

    for path in (f"/jobs/{job.pk}/documents/", f"/jobs/{job.pk}/download.zip"):
        assert bob_page.request.get(path).status == 404, path

    bob_page.goto("/")
    expect(bob_page.get_by_text("No jobs yet.")).to_be_visible()
    expect(bob_page.get_by_role("link", name="Alice's secret")).to_have_count(0)


def test_the_jobs_list_refreshes_while_jobs_run_then_stops_polling(
    alice_page: Page,
    track: Track,
    new_batch: NewBatch,
    syncing: Syncer,
    server_requests: RequestLog,
) -> None:
    page = alice_page
    fast = track(new_batch(n=30, rate=6), label="Live A")
    slow = track(new_batch(n=36, rate=4), label="Live B")
    sync_until_settled(track(new_batch(n=3, state="completed"), label="Done already"))
    syncing.add(fast, slow)
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    page.goto("/")
    started = time.monotonic()
    progress = page.get_by_role("row", name="Live A").locator("td[data-label='Progress']")
    seen = {progress.inner_text()}
    deadline = started + TIMEOUT
    while progress.inner_text() != "30 / 30":
        seen.add(progress.inner_text())
        assert time.monotonic() < deadline, f"the list stalled at {sorted(seen)}"
        page.wait_for_timeout(250)  # the next look at the row, which the list's polls move
    assert len(seen) >= 2, f"the row jumped straight to the end: {sorted(seen)}"
    for label in ("Live A", "Live B"):
        row = page.get_by_role("row", name=label)
        expect(row.get_by_text("Completed")).to_be_visible(timeout=60_000)

    # Once nothing on the page is active, a poll answers 286 and the list asks nothing more:
    # the count of list requests stays put.
    polls = server_requests.count("/")
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 4:
        page.wait_for_timeout(500)
        if server_requests.count("/") != polls:
            polls, quiet_since = server_requests.count("/"), time.monotonic()
        assert time.monotonic() < started + TIMEOUT, "the list kept polling"
    stopped = time.monotonic()
    page.wait_for_timeout(4000)  # longer than a poll interval: a window for one that must not come
    assert server_requests.count("/") == polls
    assert page.locator("#jobs-list[hx-trigger]").count() == 0
    # One request for the whole list every 3 s while it polled, not one per running row.
    seconds = stopped - started
    assert 3 <= polls <= seconds / 3 + 2, f"{polls} requests in {seconds:.0f} s"
    assert navigations == [page.url], f"the page reloaded: {navigations}"


def test_escape_closes_the_cancel_confirmation(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    page = alice_page
    job = track(new_batch(n=500, rate=1), label="Long one")
    page.goto(f"/jobs/{job.pk}/")
    confirm = page.get_by_role("button", name="Yes, cancel the job")
    opener = page.get_by_text("Cancel job", exact=True)
    opener.click()
    expect(confirm).to_be_visible()
    page.keyboard.press("Escape")
    expect(confirm).to_be_hidden()
    expect(opener).to_be_focused()


def test_the_job_page_says_an_error_once_not_on_every_poll(
    alice_page: Page, track: Track, new_batch: NewBatch, server_requests: RequestLog
) -> None:
    """The status fragment is replaced every 3 s; its status and error reach the live region
    only when they change."""
    from jobs.models import Job

    page = alice_page
    job = track(new_batch(n=500, rate=1), label="Troubled", status="scraping")
    page.goto(f"/jobs/{job.pk}/")
    announcer = page.locator("#announcer")
    expect(announcer).to_have_attribute("aria-live", "polite")
    expect(page.locator("#job-status [aria-live]")).to_have_count(0)
    page.evaluate(
        """() => {
          const region = document.getElementById('announcer');
          window.announcements = [];
          new MutationObserver(() => window.announcements.push(region.textContent))
            .observe(region, {childList: true, characterData: true, subtree: true});
        }"""
    )
    Job.objects.filter(pk=job.pk).update(last_error="Rate limited, retrying in 12 s")
    expect(page.get_by_test_id("job-problem")).to_be_visible()
    polls = server_requests.count(f"/jobs/{job.pk}/")
    wait_until(
        lambda: server_requests.count(f"/jobs/{job.pk}/") >= polls + 2,
        "two more polls with the same error",
    )
    assert page.evaluate("window.announcements") == ["Scraping. Rate limited, retrying in 12 s"]

    Job.objects.filter(pk=job.pk).update(status="failed", last_error="Firecrawl failed the job")
    expect(page.get_by_test_id("job-status")).to_have_text("Failed")
    assert page.evaluate("window.announcements")[-1] == "Failed. Firecrawl failed the job"


def test_a_job_confirming_its_final_numbers_polls_without_an_htmx_error(
    alice_page: Page, track: Track, new_batch: NewBatch, settings: Any
) -> None:
    """Each poll of a finished job removes the Cancel control out of band: its place must be
    on the page, or htmx logs oobErrorNoTarget on every poll."""
    settings.FIRECRAWL_SETTLE_SECONDS = 600  # it stays "confirming" for the whole test
    page = alice_page
    job = track(new_batch(n=5, state="completed"))
    sync_and_index(job.pk)
    job.refresh_from_db()
    assert job.is_active and job.is_terminal and job.cache_done
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"/jobs/{job.pk}/")
    expect(page.get_by_test_id("settling")).to_be_visible()
    page.evaluate(
        """() => {
          window.polls = 0;
          document.body.addEventListener('htmx:afterSettle', () => window.polls++);
        }"""
    )
    # Two polls swapped in, out-of-band parts included (3 s apart; generous on a busy machine).
    page.wait_for_function("() => window.polls >= 2", timeout=30_000)

    assert [text for text in errors if "htmx" in text] == []
