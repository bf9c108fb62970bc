"""/api/v1/jobs/{id}/documents: cursor pages with the browser's filters, search and sort, each
document once even while the job is being cached, summaries or whole documents, byte-bounded."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import Client

from api import documents as api_documents
from fakecrawl import FakeFirecrawl, ManualClock
from fakecrawl.screenshots import png_bytes
from jobs.export import jsonl_bytes
from jobs.models import Document, Job, Screenshot
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.api.conftest import body_of, json_of
from tests.conftest import make_documents, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e71"


@pytest.fixture
def job(key: ApiKey) -> Job:
    job = make_job(key, JOB_ID, label="Docs", status=Job.Status.COMPLETED)
    make_documents(job, 12)
    return job


def walk(client: Client, url: str) -> Iterator[dict[str, Any]]:
    """Every page of a listing, following `next` until it is null."""
    next_url: str | None = url
    while next_url:
        page = client.get(next_url)
        assert page.status_code == 200, body_of(page)
        body = json_of(page)
        yield body
        next_url = body["next"]


def positions(client: Client, url: str) -> list[int]:
    return [doc["position"] for page in walk(client, url) for doc in page["results"]]


def test_pages_hold_every_document_once_in_position_order(alice_api: Client, job: Job) -> None:
    pages = list(walk(alice_api, f"/api/v1/jobs/{job.pk}/documents?per_page=5"))

    assert [len(page["results"]) for page in pages] == [5, 5, 2]
    assert [d["position"] for page in pages for d in page["results"]] == list(range(12))
    assert pages[-1]["next"] is None
    first = pages[0]["results"][0]
    assert first == {
        "position": 0,
        "url": "https://example.test/page/0",
        "source_url": "https://example.test/page/0",
        "title": "Page 0",
        "status_code": 200,
        "error": "",
        "warning": "",
        "size": first["size"],
        "scrape_id": f"scrape-{job.pk}-0",
    }


def test_filters_search_and_sort_select_what_the_browser_shows(
    alice_api: Client, alice_client: Client, job: Job
) -> None:
    Document.objects.filter(job=job, position__in=[2, 5, 9]).update(status_code=404, error="Gone")
    Document.objects.filter(job=job, position=7).update(status_code=None)
    for query in [
        "status=4xx",
        "error=yes",
        "q=page 1",
        "sort=-position",
        "sort=url",
        "sort=-title",
        "sort=status",
        "sort=-status",
        "status=errors&sort=-url",
    ]:
        api = positions(alice_api, f"/api/v1/jobs/{job.pk}/documents?{query}&per_page=2")
        browser = alice_client.get(f"/jobs/{job.pk}/documents/?{query}&per_page=100")
        shown = [d.position for d in browser.context["page"].object_list]
        if query not in ("sort=status", "sort=-status"):
            assert api == shown, query
        else:
            # A document without a status code sorts after every code here, on either database
            # (the browser leaves that to the database): the same documents, that one last.
            assert sorted(api) == sorted(shown), query
            assert api[-1 if query == "sort=status" else 0] == 7, query
            with_codes = [p for p in api if p != 7]
            assert with_codes == [p for p in shown if p != 7], query


def test_fields_full_holds_each_document_exactly_as_stored(alice_api: Client, job: Job) -> None:
    page = body_of(alice_api.get(f"/api/v1/jobs/{job.pk}/documents?fields=full&per_page=3"))
    for item in json.loads(page)["results"]:
        stored = Document.objects.get(job=job, position=item["position"])
        assert item["document"] == json.loads(stored.raw)
        # The bytes of the JSONL download's line, spliced in as they are.
        assert jsonl_bytes(stored.raw)[:-1] in page


def test_a_full_page_stops_at_its_byte_budget(
    alice_api: Client, job: Job, monkeypatch: pytest.MonkeyPatch
) -> None:
    largest = max(Document.objects.filter(job=job).values_list("size", flat=True))
    monkeypatch.setattr(api_documents, "BYTES_PER_BATCH", largest * 3)
    sizes = [
        len(page["results"])
        for page in walk(alice_api, f"/api/v1/jobs/{job.pk}/documents?fields=full&per_page=10")
    ]
    assert sizes == [3, 3, 3, 3]
    # A document larger than the budget comes alone rather than never.
    monkeypatch.setattr(api_documents, "BYTES_PER_BATCH", 1)
    assert positions(alice_api, f"/api/v1/jobs/{job.pk}/documents?fields=full&per_page=2") == list(
        range(12)
    )


def test_one_document_whole(alice_api: Client, bob_api: Client, job: Job) -> None:
    response = alice_api.get(f"/api/v1/jobs/{job.pk}/documents/4")
    body = json_of(response)
    assert (body["position"], body["title"]) == (4, "Page 4")
    assert body["document"]["markdown"] == "# Page 4\n\nSome text about page 4."
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents/12").status_code == 404
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents/4?tab=html").status_code == 400
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents/{2**31}").status_code == 400
    assert bob_api.get(f"/api/v1/jobs/{job.pk}/documents/4").status_code == 404


def test_bad_parameters_and_cursors_are_400s(alice_api: Client, job: Job, key: ApiKey) -> None:
    base = f"/api/v1/jobs/{job.pk}/documents"
    cursor = json_of(alice_api.get(f"{base}?per_page=2"))["next"].split("cursor=")[1]
    other = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e72")
    for query, said in [
        ("per_page=101", "per_page"),
        ("page=2", "Unknown parameter(s): page."),
        ("fields=some", "fields"),
        ("sort=size", "Sort by (sort)"),
        ("q=" + "x" * 201, "Search (q)"),
        (f"cursor={cursor}&sort=url", "another list or sort order"),
        (f"cursor={cursor[:-3]}abc", "not valid"),
    ]:
        response = alice_api.get(f"{base}?{query}")
        assert response.status_code == 400, query
        assert said in response.json()["message"], query
    stolen = alice_api.get(f"/api/v1/jobs/{other.pk}/documents?cursor={cursor}")
    assert stolen.status_code == 400


def test_a_job_without_documents_is_an_empty_page(alice_api: Client, key: ApiKey) -> None:
    job = make_job(key, JOB_ID)
    body = json_of(alice_api.get(f"/api/v1/jobs/{job.pk}/documents"))
    assert body["results"] == [] and body["next"] is None
    assert body["resume"] == f"http://testserver/api/v1/jobs/{job.pk}/documents"


# While the job is being cached ----------------------------------------------------------------


@pytest.fixture
def running_job(key: ApiKey, sim: FakeFirecrawl, clock: ManualClock, settings: Any) -> Job:
    """A batch of 90 being cached on the test's clock (`sim` runs on it)."""
    settings.FIRECRAWL_RETRY_BACKOFF = 0.001
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000
    # Five pages a simulated second: each second of the clock, the sync caches about five more.
    return make_job(key, sim.create_batch(key.key, n=90, rate=5, doc_size=300))


@pytest.mark.sim(seed=11)
def test_a_walk_while_the_job_is_cached_returns_every_document_exactly_once(
    alice_api: Client, running_job: Job, clock: ManualClock
) -> None:
    job = running_job
    seen: list[int] = []
    url = f"/api/v1/jobs/{job.pk}/documents?per_page=4&fields=full"
    caught_up = 0
    for _ in range(500):
        page = json_of(alice_api.get(url))
        seen += [doc["position"] for doc in page["results"]]
        if page["next"]:
            url = page["next"]
            if len(seen) % 3 == 0:
                # The sync adds documents between two pages of the walk.
                clock.advance(1)
                sync_job(job.pk)
            continue
        job.refresh_from_db()
        if job.is_complete:
            break
        # The end of the list as it is now: more comes as the job is cached; go on from here.
        caught_up += 1
        clock.advance(1)
        sync_job(job.pk)
        url = page["resume"]
    assert caught_up >= 3  # the walk did reach the moving end of the list, several times
    assert len(seen) == len(set(seen)) == 90
    assert seen == list(range(90))
    assert job.documents_cached == 90


@pytest.mark.sim(seed=11)
def test_a_sorted_walk_during_caching_returns_every_earlier_document_once(
    alice_api: Client, running_job: Job, clock: ManualClock
) -> None:
    job = running_job
    for _ in range(4):
        clock.advance(1)
        sync_job(job.pk)
    job.refresh_from_db()
    before = set(job.documents.values_list("position", flat=True))
    assert 10 <= len(before) < 90
    seen: list[int] = []
    for page in walk(alice_api, f"/api/v1/jobs/{job.pk}/documents?per_page=3&sort=-url"):
        seen += [doc["position"] for doc in page["results"]]
        clock.advance(1)
        sync_job(job.pk)
    assert len(seen) == len(set(seen))  # nothing twice
    assert before <= set(seen)  # nothing that was there when the walk began is missed


def test_a_documents_screenshots_are_listed_and_a_kept_one_downloads_byte_for_byte(
    alice_api: Client, job: Job, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    image = png_bytes("kept", 2000)
    name = storages["default"].save(f"screenshots/{job.pk}/3-0.png", ContentFile(image))
    Screenshot.objects.create(
        job=job, position=3, shot=0, state="kept", name=name, content_type="image/png", size=2000
    )
    Screenshot.objects.create(job=job, position=3, shot=1, state="pending")
    Screenshot.objects.create(job=job, position=3, shot=2, state="failed", reason="Not an image")

    listing = json_of(alice_api.get(f"/api/v1/jobs/{job.pk}/documents/3/screenshots"))

    kept, pending, failed = listing["results"]
    assert (kept["state"], kept["content_type"], kept["size"]) == ("kept", "image/png", 2000)
    assert (pending["state"], pending["url"]) == ("pending", None)
    assert (failed["state"], failed["reason"], failed["url"]) == ("failed", "Not an image", None)
    response = alice_api.get(kept["url"])
    assert response.status_code == 200
    assert body_of(response) == image
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    # Not kept (yet, or ever), or no such document: a 404 like any missing object.
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents/3/screenshots/1").status_code == 404
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents/99/screenshots").status_code == 404
