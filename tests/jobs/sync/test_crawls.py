"""Crawls, tracked like batches: cached page by page on the crawl routes, their failed URLs,
browsing and downloads, settling, cancel, and the kind and start URL on the pages."""

import io
import json
import re
import zipfile
from html import unescape
from typing import Any

import pytest
from django.test import Client

from fakecrawl import FakeFirecrawl, ManualClock
from jobs.models import Job
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY

# A site of 1 + 5 + 25 + 125 pages: enough for crawls of more than one status page.
pytestmark = [pytest.mark.sim(site_fanout=5, site_depth=3), pytest.mark.key(api_version="v2")]

SITE = "https://docs.example.test"


@pytest.fixture(autouse=True)
def fast(settings: Any) -> None:
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000


def track_crawl(key: ApiKey, remote_id: str, **fields: Any) -> Job:
    job, _ = Job.objects.track(
        owner=key.owner, api_key=key, remote_id=remote_id, kind=Job.Kind.CRAWL, **fields
    )
    return job


def sync_until_settled(job: Job, clock: ManualClock, step: float = 1.0) -> Job:
    for _ in range(200):
        sync_job(job.pk)
        job.refresh_from_db()
        if not job.is_active:
            return job
        clock.advance(step)
    raise AssertionError(f"the crawl did not settle: {job.status} {job.last_error}")


def job_requests(sim: FakeFirecrawl, job: Job) -> list[Any]:
    return [r for r in sim.requests if str(job.remote_id) in r.path]


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def test_a_crawl_is_cached_completely_through_the_crawl_routes(
    key: ApiKey, sim: FakeFirecrawl, clock: ManualClock
) -> None:
    remote_id = sim.create_crawl(KEY, SITE, limit=150, rate=40.0)
    job = track_crawl(key, remote_id)

    job = sync_until_settled(job, clock)

    assert (job.status, job.is_complete) == ("completed", True)
    expected = sim.job(remote_id).documents
    cached = list(job.documents.order_by("position").values_list("position", "raw"))
    assert len(expected) == 150 and [p for p, _ in cached] == list(range(150))
    assert [json.loads(raw) for _, raw in cached] == expected
    paths = {r.path for r in job_requests(sim, job)}
    assert paths == {f"/v2/crawl/{remote_id}", f"/v2/crawl/{remote_id}/errors"}


def test_a_finished_crawl_is_walked_page_after_page(
    key: ApiKey, sim: FakeFirecrawl, clock: ManualClock
) -> None:
    remote_id = sim.create_crawl(KEY, SITE, limit=150, state="completed")

    job = sync_until_settled(track_crawl(key, remote_id), clock)

    assert job.documents_cached == 150 and job.is_complete
    skips = [r.query.get("skip") for r in job_requests(sim, job) if not r.path.endswith("errors")]
    assert skips[:2] == ["0", "100"]  # a page holds at most 100 documents


def test_a_crawls_failed_urls_come_from_its_errors_route(
    key: ApiKey, sim: FakeFirecrawl, clock: ManualClock
) -> None:
    remote_id = sim.create_crawl(KEY, SITE, limit=20, state="completed", fail_urls={f"{SITE}/blog"})
    job = sync_until_settled(track_crawl(key, remote_id), clock)

    assert job.failed_count == 1
    assert list(job.failed_urls.values_list("url", flat=True)) == [f"{SITE}/blog"]
    assert job.documents_cached == job.total


def test_a_crawls_documents_are_browsed_and_downloaded(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, clock: ManualClock
) -> None:
    from jobs.search import index_documents

    remote_id = sim.create_crawl(KEY, SITE, limit=12, state="completed")
    job = sync_until_settled(track_crawl(key, remote_id, label="Docs crawl"), clock)
    index_documents(job.pk)

    listing = alice_client.get(f"/jobs/{job.pk}/documents/")
    assert listing.status_code == 200
    assert text_of(listing).count(SITE) >= 12
    document = alice_client.get(f"/jobs/{job.pk}/documents/0/")
    assert document.status_code == 200 and SITE in text_of(document)
    response = alice_client.get(f"/jobs/{job.pk}/download.zip")
    assert response["Content-Disposition"] == 'attachment; filename="docs-crawl.zip"'
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    lines = zipfile.ZipFile(io.BytesIO(content)).read("documents.jsonl").splitlines()
    assert [json.loads(line)["metadata"]["sourceURL"] for line in lines] == [
        json.loads(raw)["metadata"]["sourceURL"]
        for raw in job.documents.order_by("position").values_list("raw", flat=True)
    ]
    assert len(lines) == 12


def test_a_crawl_settles_only_once_firecrawl_has_stopped_changing(
    key: ApiKey, clock: ManualClock, settings: Any
) -> None:
    import time

    settings.FIRECRAWL_SETTLE_SECONDS = 0.5
    # The 2026 server says "scraping" for a while after the last page (settle_seconds).
    with FakeFirecrawl(seed=3, clock=clock, settle_seconds=4) as slow:
        slow.add_key(KEY, team="slow")
        ApiKey.objects.filter(pk=key.pk).update(api_url=slow.url)
        remote_id = slow.create_crawl(KEY, SITE, limit=10, rate=5.0)
        job = track_crawl(key, remote_id)
        sync_job(job.pk)
        clock.advance(2.5)  # every page done upstream, the crawl still says scraping
        sync_job(job.pk)
        job.refresh_from_db()
        assert job.documents_cached == 10 and job.status == "scraping" and job.is_active
        clock.advance(5)
        sync_job(job.pk)
        job.refresh_from_db()
        assert job.status == "completed" and job.is_active  # seen once: not settled yet
        time.sleep(0.6)  # the app's settle interval (real time, 0.5 s) passes
        sync_job(job.pk)
        job.refresh_from_db()
        assert job.is_settled and job.is_complete


def test_cancel_stops_a_crawl_on_its_own_route(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, clock: ManualClock
) -> None:
    remote_id = sim.create_crawl(KEY, SITE, limit=100, rate=2.0)
    job = track_crawl(key, remote_id)
    sync_job(job.pk)
    clock.advance(3)

    response = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True)

    assert "Cancel requested." in text_of(response)
    [cancel] = [r for r in sim.requests if r.method == "DELETE"]
    assert cancel.path == f"/v2/crawl/{remote_id}" and cancel.status == 200
    job = sync_until_settled(job, clock)
    assert job.status == "cancelled" and job.documents_cached < 100


def test_the_pages_show_a_crawl_and_its_start_url(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    remote_id = sim.create_crawl(KEY, SITE, limit=3, state="completed")
    job = track_crawl(key, remote_id, target_url=SITE, label="Docs crawl")

    page = text_of(alice_client.get(f"/jobs/{job.pk}/"))
    assert f"Crawl {remote_id}" in page and f"Start URL: {SITE}" in page
    listed = alice_client.get("/").content.decode()
    row = re.search(r"Docs crawl</a>(.*?)</td>", listed, re.S)
    # The list says it is a crawl, and where it started, under its name.
    assert row and re.search(r'class="muted job-kind">Crawl ·', row.group(1))
    assert f'title="{SITE}"' in row.group(1)
