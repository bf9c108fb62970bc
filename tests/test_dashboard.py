"""The dashboard: tracking a batch by id or pasted URL, and the list of the user's jobs."""

import uuid
from typing import Any

from django.test import Client

from jobs.models import ApiKey, Job
from tests.conftest import make_job

V7_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"
V4_ID = "5d3c8f0e-4b1a-4c2d-9e8f-7a6b5c4d3e2f"


def test_it_tracks_a_bare_id_and_lands_on_the_job_page(
    alice_client: Client, alice_key: ApiKey
) -> None:
    response = alice_client.post("/", {"job_id": V7_ID, "label": "Docs site"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert str(job.remote_id) == V7_ID
    assert job.label == "Docs site"
    assert job.api_key == alice_key and job.api_url == alice_key.api_url


def test_it_finds_the_id_inside_a_pasted_url(alice_client: Client, alice_key: ApiKey) -> None:
    pasted = f"  https://api.firecrawl.dev/v1/batch/scrape/{V4_ID.upper()}?skip=100 "
    alice_client.post("/", {"job_id": pasted})
    assert str(Job.objects.get().remote_id) == V4_ID


def test_it_rejects_text_without_an_id_and_stores_nothing(
    alice_client: Client, alice_key: ApiKey
) -> None:
    response = alice_client.post("/", {"job_id": "https://api.firecrawl.dev/v1/batch/scrape/"})
    assert response.status_code == 200
    assert "does not contain a Firecrawl job id" in response.content.decode()
    assert not Job.objects.exists()


def test_tracking_the_same_id_twice_opens_the_existing_job(
    alice_client: Client, alice_key: ApiKey
) -> None:
    alice_client.post("/", {"job_id": V7_ID})
    response = alice_client.post("/", {"job_id": f"id: {V7_ID}"}, follow=True)
    assert Job.objects.count() == 1
    assert "You already track this job" in response.content.decode()


def test_two_users_can_track_the_same_batch_separately(
    alice_client: Client, alice_key: ApiKey, bob_client: Client, bob_key: ApiKey
) -> None:
    alice_client.post("/", {"job_id": V7_ID})
    bob_client.post("/", {"job_id": V7_ID})
    assert sorted(Job.objects.values_list("owner__username", flat=True)) == ["alice", "bob"]


def test_it_offers_a_key_select_only_when_the_user_has_several(
    alice_client: Client, alice_key: ApiKey
) -> None:
    single = alice_client.get("/").content.decode()
    assert '<select name="api_key"' not in single
    other = ApiKey.objects.create(
        owner=alice_key.owner,
        name="Second",
        key="fc-second00000000000000000000009999",
        api_url=alice_key.api_url,
    )
    several = alice_client.get("/").content.decode()
    assert '<select name="api_key"' in several and "Second" in several
    alice_client.post("/", {"job_id": V7_ID, "api_key": other.pk})
    assert Job.objects.get().api_key == other


def test_it_refuses_another_users_key(
    alice_client: Client, alice_key: ApiKey, bob_key: ApiKey
) -> None:
    response = alice_client.post("/", {"job_id": V7_ID, "api_key": bob_key.pk})
    assert response.status_code == 200
    assert not Job.objects.exists()


def test_without_a_key_it_says_what_to_do_next(alice_client: Client) -> None:
    page = alice_client.get("/").content.decode()
    assert "Add a Firecrawl API key first" in page
    assert "No jobs yet. Paste a batch scrape or crawl id from Firecrawl to start." in page


def test_it_lists_only_the_users_jobs_and_filters_by_status(
    alice_client: Client, alice_key: ApiKey, bob_key: ApiKey
) -> None:
    make_job(alice_key, str(uuid.uuid4()), label="Running one", status="scraping")
    make_job(
        alice_key,
        str(uuid.uuid4()),
        label="Done one",
        status="completed",
        completed=1200,
        total=1200,
        documents_cached=1200,
        fully_cached=True,
    )
    make_job(bob_key, str(uuid.uuid4()), label="Bob's secret job")
    page = alice_client.get("/").content.decode()
    assert "Running one" in page and "Done one" in page and "1,200" in page
    assert "Bob&#x27;s secret job" not in page and "Bob's secret job" not in page
    completed = alice_client.get("/?status=completed").content.decode()
    assert "Done one" in completed and "Running one" not in completed
    # A bad page number or status is said, never silently corrected into another list.
    for bad_page in ("0", "-3", "x"):
        refused = alice_client.get(f"/?status=completed&page={bad_page}")
        assert refused.status_code == 400 and "Page (page):" in refused.text
    past_the_end = alice_client.get("/?status=completed&page=999")
    assert past_the_end.status_code == 404
    assert "There is no page 999: this list has 1 page." in past_the_end.text
    refused = alice_client.get("/?status=finished")
    assert refused.status_code == 400 and "Status (status):" in refused.text
    assert alice_client.get("/?stauts=completed").status_code == 400


def test_the_jobs_list_costs_the_same_queries_for_many_jobs(
    alice_client: Client, alice_key: ApiKey, django_assert_max_num_queries: Any
) -> None:
    for _ in range(60):
        make_job(alice_key, str(uuid.uuid4()))
    with django_assert_max_num_queries(8):
        response = alice_client.get("/")
    assert response.content.decode().count('href="/jobs/') == 50
