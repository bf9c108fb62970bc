"""/api/v1/jobs: list (filters, cursor pages), track (the Track form's rules), read a job (the
numbers its page shows) and stop tracking it."""

import uuid
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from jobs.models import Document, Job
from jobs.tasks import purge_job_task
from keys.models import ApiKey
from tests.api.conftest import json_of, post_json
from tests.conftest import make_documents, make_job

BATCH_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e61"
CRAWL_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e62"


def ids_of(client: Client, path: str) -> list[int]:
    """Every job of a listing, following `next` to the end."""
    found: list[int] = []
    url: str | None = path
    while url:
        page = client.get(url).json()
        found += [job["id"] for job in page["results"]]
        url = page["next"]
    return found


def many_jobs(key: ApiKey, count: int) -> list[Job]:
    jobs = [make_job(key, str(uuid.uuid4()), label=f"Job {i}") for i in range(count)]
    # Two share a creation time: the id keeps them in order.
    now = timezone.now()
    for i, job in enumerate(jobs):
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(minutes=i // 2 * 2))
    return jobs


def test_jobs_come_newest_first_in_cursor_pages(alice_api: Client, key: ApiKey) -> None:
    jobs = many_jobs(key, 7)
    expected = list(Job.objects.order_by("-created_at", "-id").values_list("pk", flat=True))

    first = alice_api.get("/api/v1/jobs?per_page=3").json()

    assert [job["id"] for job in first["results"]] == expected[:3]
    assert first["next"].startswith("http://testserver/api/v1/jobs?per_page=3&cursor=")
    assert ids_of(alice_api, "/api/v1/jobs?per_page=3") == expected
    assert set(expected) == {job.pk for job in jobs}


def test_a_new_job_while_listing_neither_repeats_nor_hides_one(
    alice_api: Client, key: ApiKey
) -> None:
    many_jobs(key, 5)
    before = list(Job.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    first = alice_api.get("/api/v1/jobs?per_page=2").json()
    make_job(key, str(uuid.uuid4()), label="Newest")  # goes to the front
    rest = ids_of(alice_api, first["next"])
    assert [job["id"] for job in first["results"]] + rest == before


def test_jobs_are_filtered_by_status_kind_key_and_text(
    alice_api: Client, key: ApiKey, alice: Any
) -> None:
    second = ApiKey.objects.create(owner=alice, name="Other", key="fc-other0000000000000000001")
    done = make_job(key, BATCH_ID, label="Shop prices", status=Job.Status.COMPLETED)
    crawl = make_job(key, CRAWL_ID, label="Docs site", kind=Job.Kind.CRAWL)
    other = make_job(second, str(uuid.uuid4()), label="Shop stock")

    def listed(query: str) -> set[int]:
        return set(ids_of(alice_api, f"/api/v1/jobs?{query}"))

    assert listed("status=completed") == {done.pk}
    assert listed("kind=crawl") == {crawl.pk}
    assert listed(f"key={second.pk}") == {other.pk}
    assert listed("q=shop") == {done.pk, other.pk}
    assert listed(f"q={CRAWL_ID}") == {crawl.pk}
    assert listed(f"q=https://api.firecrawl.dev/v2/crawl/{CRAWL_ID}") == {crawl.pk}
    assert listed("q=shop&status=completed") == {done.pk}
    # As in the jobs list: a job that needs attention is listed under that word alone.
    lost = make_job(key, str(uuid.uuid4()), label="Lost", sync_state=Job.SyncState.NOT_FOUND)
    assert listed("status=attention") == {lost.pk}
    assert lost.pk not in listed("status=pending")


def test_bad_list_parameters_are_400s_that_say_why(alice_api: Client, key: ApiKey) -> None:
    for query, said in [
        ("status=done", "Status (status)"),
        ("kind=scrape", "kind"),
        ("per_page=101", "per_page"),
        ("per_page=0", "per_page"),
        ("stauts=completed", "Unknown parameter(s): stauts."),
        ("cursor=garbage", "cursor is not valid"),
        ("status=completed&status=failed", "Give this parameter once."),
    ]:
        response = alice_api.get(f"/api/v1/jobs?{query}")
        assert response.status_code == 400, query
        assert said in response.json()["message"], query


def test_another_users_key_as_a_filter_is_a_404(
    alice_api: Client, key: ApiKey, bob_key: ApiKey
) -> None:
    assert alice_api.get(f"/api/v1/jobs?key={bob_key.pk}").status_code == 404


def test_bob_lists_only_his_jobs(bob_api: Client, key: ApiKey) -> None:
    make_job(key, BATCH_ID)
    assert bob_api.get("/api/v1/jobs").json() == {"results": [], "next": None}


# Tracking -----------------------------------------------------------------------------------


def test_tracking_a_bare_id_makes_an_unconfirmed_batch_and_asks_for_a_sync(
    alice_api: Client, key: ApiKey
) -> None:
    response = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID, "label": "Prices"})

    assert response.status_code == 201
    job = Job.objects.get()
    assert response["Location"] == f"/api/v1/jobs/{job.pk}"
    body = response.json()
    assert (body["id"], body["firecrawl_id"], body["label"]) == (job.pk, BATCH_ID, "Prices")
    assert (body["kind"], body["kind_confirmed"]) == ("batch", False)
    assert body["key"] == {"id": key.pk, "name": "Main"}
    assert job.sync_queued_for is not None  # the Track button's first sync


def test_a_pasted_crawl_url_says_it_is_a_crawl(alice_api: Client, key: ApiKey) -> None:
    url = f"https://api.firecrawl.dev/v2/crawl/{CRAWL_ID}?skip=10"
    body = post_json(alice_api, "/api/v1/jobs", {"job_id": url}).json()
    assert (body["kind"], body["kind_confirmed"], body["firecrawl_id"]) == ("crawl", True, CRAWL_ID)


def test_tracking_a_tracked_job_again_answers_it_with_200(alice_api: Client, key: ApiKey) -> None:
    first = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID})
    again = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID.upper()})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and Job.objects.count() == 1


def test_tracking_with_another_of_ones_keys(alice_api: Client, key: ApiKey, alice: Any) -> None:
    second = ApiKey.objects.create(owner=alice, name="Team", key="fc-team00000000000000000000001")
    body = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID, "key": second.pk}).json()
    assert body["key"] == {"id": second.pk, "name": "Team"}


def test_nobody_tracks_with_another_users_key(
    alice_api: Client, key: ApiKey, bob_key: ApiKey
) -> None:
    response = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID, "key": bob_key.pk})
    assert response.status_code == 404 and not Job.objects.exists()


def test_a_track_the_form_refuses_is_a_400_with_its_message(alice_api: Client, alice: Any) -> None:
    no_key = post_json(alice_api, "/api/v1/jobs", {"job_id": BATCH_ID})
    assert no_key.status_code == 400
    assert "Add a Firecrawl API key first" in no_key.json()["message"]
    ApiKey.objects.create(owner=alice, name="Main", key="fc-main000000000000000000000001")
    for body, said in [
        ({"job_id": "not an id"}, "does not contain a Firecrawl job id"),
        ({"job_id": BATCH_ID, "label": "x" * 201}, "Label"),
        ({"job_id": BATCH_ID, "label": "nul\x00"}, "Null characters are not allowed"),
        ({"label": "no id"}, "job_id: Field required"),
        ({"job_id": BATCH_ID, "key": 0}, "key"),
    ]:
        response = post_json(alice_api, "/api/v1/jobs", body)
        assert response.status_code == 400, body
        assert said in response.json()["message"], body
    assert not Job.objects.exists()


def test_a_body_that_is_not_json_is_a_400(alice_api: Client, key: ApiKey) -> None:
    response = alice_api.post("/api/v1/jobs", "{nope", content_type="application/json")
    assert response.status_code == 400 and "message" in response.json()


# One job ------------------------------------------------------------------------------------


def test_a_job_has_the_numbers_of_its_page(alice_api: Client, key: ApiKey) -> None:
    job = make_job(key, BATCH_ID, status=Job.Status.SCRAPING, completed=3, total=10, failed_count=2)
    make_documents(job, 5)  # Firecrawl's `completed` lags the documents it lists
    job.refresh_from_db()

    body = alice_api.get(f"/api/v1/jobs/{job.pk}").json()

    assert (body["scraped"], body["documents_expected"]) == (job.scraped, job.documents_expected)
    progress = job.progress
    assert body["progress"] == {
        "scraped": 5, "failed": 2, "cancelled": 0, "pending": 5, "total": progress.total,
        "done": 7, "percent": progress.percent,
    }  # fmt: skip
    assert (progress.done, progress.total) == (7, 12)
    assert (body["failed"], body["documents_cached"]) == (2, 5)
    assert (body["active"], body["settled"], body["complete"]) == (True, False, False)
    page = Client()
    page.force_login(job.owner)
    html = page.get(f"/jobs/{job.pk}/").content.decode()
    assert f'aria-valuenow="{body["progress"]["done"]}"' in html
    assert f'aria-valuemax="{body["progress"]["total"]}"' in html


def test_a_settled_job_with_everything_cached_is_complete(alice_api: Client, key: ApiKey) -> None:
    job = make_job(
        key,
        BATCH_ID,
        status=Job.Status.COMPLETED,
        completed=2,
        total=2,
        fully_cached=True,
        sync_state=Job.SyncState.SETTLED,
    )
    make_documents(job, 2)
    body = alice_api.get(f"/api/v1/jobs/{job.pk}").json()
    assert (body["state"], body["active"], body["settled"], body["complete"]) == (
        "settled",
        False,
        True,
        True,
    )


def test_reading_a_due_job_asks_the_worker_as_its_page_does(alice_api: Client, key: ApiKey) -> None:
    job = make_job(key, BATCH_ID)
    assert job.needs_sync()
    alice_api.get(f"/api/v1/jobs/{job.pk}")
    job.refresh_from_db()
    assert job.sync_queued_for is not None


def test_an_id_out_of_range_is_a_400_and_a_missing_one_a_404(alice_api: Client, db: Any) -> None:
    assert alice_api.get("/api/v1/jobs/999999").status_code == 404
    assert alice_api.get(f"/api/v1/jobs/{2**63}").status_code == 400
    assert alice_api.get("/api/v1/jobs/0").status_code == 400
    assert alice_api.get("/api/v1/jobs/-1").status_code == 404  # not an address of the API


# Stop tracking ------------------------------------------------------------------------------


def test_stop_tracking_hides_the_job_at_once_and_deletes_it_in_the_background(
    alice_api: Client, key: ApiKey
) -> None:
    job = make_job(key, BATCH_ID)
    make_documents(job, 3)
    response = alice_api.delete(f"/api/v1/jobs/{job.pk}")
    assert response.status_code == 204 and response.content == b""
    # Gone from every answer at once, as from every page; its rows go in the background task.
    assert alice_api.get(f"/api/v1/jobs/{job.pk}").status_code == 404
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents").status_code == 404
    assert json_of(alice_api.get("/api/v1/jobs"))["results"] == []
    assert alice_api.delete(f"/api/v1/jobs/{job.pk}").status_code == 404
    purge_job_task.call(job.pk)
    assert not Job.objects.exists() and not Document.objects.exists()


def test_bob_cannot_stop_tracking_alices_job(bob_api: Client, key: ApiKey) -> None:
    job = make_job(key, BATCH_ID)
    assert bob_api.delete(f"/api/v1/jobs/{job.pk}").status_code == 404
    assert Job.objects.filter(pk=job.pk).exists()
