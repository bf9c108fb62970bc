"""The dashboard: tracking a batch by id or pasted URL, and the list of the user's jobs."""

import uuid
from typing import Any

from django.test import Client

from jobs.models import Job
from keys.models import ApiKey
from tests.conftest import make_job

V7_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"
V4_ID = "5d3c8f0e-4b1a-4c2d-9e8f-7a6b5c4d3e2f"


def test_it_tracks_a_bare_id_and_lands_on_the_job_page(alice_client: Client, key: ApiKey) -> None:
    response = alice_client.post("/", {"job_id": V7_ID, "label": "Docs site"})
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert str(job.remote_id) == V7_ID
    assert job.label == "Docs site"
    assert job.api_key == key and job.api_url == key.api_url


def test_it_finds_the_id_inside_a_pasted_url(alice_client: Client, key: ApiKey) -> None:
    pasted = f"  https://api.firecrawl.dev/v1/batch/scrape/{V4_ID.upper()}?skip=100 "
    alice_client.post("/", {"job_id": pasted})
    assert str(Job.objects.get().remote_id) == V4_ID


def test_it_rejects_text_without_an_id_and_stores_nothing(
    alice_client: Client, key: ApiKey
) -> None:
    response = alice_client.post("/", {"job_id": "https://api.firecrawl.dev/v1/batch/scrape/"})
    assert response.status_code == 200
    assert "does not contain a Firecrawl job id" in response.content.decode()
    assert not Job.objects.exists()


def test_tracking_the_same_id_twice_opens_the_existing_job(
    alice_client: Client, key: ApiKey
) -> None:
    alice_client.post("/", {"job_id": V7_ID})
    response = alice_client.post("/", {"job_id": f"id: {V7_ID}"}, follow=True)
    assert Job.objects.count() == 1
    assert "You already track this job" in response.content.decode()


def test_two_users_can_track_the_same_batch_separately(
    alice_client: Client, key: ApiKey, bob_client: Client, bob_key: ApiKey
) -> None:
    alice_client.post("/", {"job_id": V7_ID})
    bob_client.post("/", {"job_id": V7_ID})
    assert sorted(Job.objects.values_list("owner__username", flat=True)) == ["alice", "bob"]


def test_it_offers_a_key_select_only_when_the_user_has_several(
    alice_client: Client, key: ApiKey
) -> None:
    single = alice_client.get("/").content.decode()
    assert '<select name="api_key"' not in single
    other = ApiKey.objects.create(
        owner=key.owner,
        name="Second",
        key="fc-second00000000000000000000009999",
        api_url=key.api_url,
    )
    several = alice_client.get("/").content.decode()
    assert '<select name="api_key"' in several and "Second" in several
    alice_client.post("/", {"job_id": V7_ID, "api_key": other.pk})
    assert Job.objects.get().api_key == other


def test_it_refuses_another_users_key(alice_client: Client, key: ApiKey, bob_key: ApiKey) -> None:
    response = alice_client.post("/", {"job_id": V7_ID, "api_key": bob_key.pk})
    assert response.status_code == 200
    assert not Job.objects.exists()


def test_without_a_key_it_says_what_to_do_next(alice_client: Client) -> None:
    page = alice_client.get("/").content.decode()
    assert "Add a Firecrawl API key first" in page
    assert "No jobs yet. Paste a batch scrape or crawl id from Firecrawl to start." in page


def test_it_lists_only_the_users_jobs_and_filters_by_status(
    alice_client: Client, key: ApiKey, bob_key: ApiKey
) -> None:
    make_job(key, str(uuid.uuid4()), label="Running one", status="scraping")
    make_job(
        key,
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
    alice_client: Client, key: ApiKey, django_assert_num_queries: Any
) -> None:
    for n in range(60):
        make_job(key, str(uuid.uuid4()), status="scraping" if n % 2 else "completed")
    # Session, user, count, the page's jobs, the user's keys (for the Track form).
    with django_assert_num_queries(5):
        response = alice_client.get("/")
    assert response.content.decode().count('href="/jobs/') == 50
    # The poll needs no Track form: one query fewer, whatever the number of rows.
    with django_assert_num_queries(4):
        poll = alice_client.get("/", headers=HTMX)
    assert poll.content.decode().count('href="/jobs/') == 50


# The list refreshes itself while a job on the shown page is active ---------------------------

HTMX = {"HX-Request": "true"}


def running(key: ApiKey, **fields: Any) -> Job:
    return make_job(key, str(uuid.uuid4()), status="scraping", completed=3, total=10, **fields)


def settled(key: ApiKey, **fields: Any) -> Job:
    return make_job(
        key,
        str(uuid.uuid4()),
        status="completed",
        completed=10,
        total=10,
        sync_state=Job.SyncState.SETTLED,
        **fields,
    )


def test_the_list_polls_itself_while_a_job_on_the_page_is_active(
    alice_client: Client, key: ApiKey
) -> None:
    running(key, label="Running")
    settled(key, label="Done")
    html = alice_client.get("/?status=").content.decode()
    # One poll for the whole list, carrying its filters; not one per row.
    assert html.count('hx-trigger="every 3s"') == 1
    assert '<div id="jobs-list" hx-get="/?status=" hx-trigger="every 3s"' in html


def test_a_poll_gets_only_the_list_and_keeps_polling_while_a_job_is_active(
    alice_client: Client, key: ApiKey
) -> None:
    job = running(key, label="Running")
    response = alice_client.get("/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="jobs-list"') and "<html" not in html
    assert 'hx-trigger="every 3s"' in html
    assert "aria-valuenow" not in html and "Running" in html
    assert "HX-Request" in response["Vary"]
    assert "Track a job" not in html
    job.completed = 7
    job.save()
    assert "7 / 10" in alice_client.get("/", headers=HTMX).content.decode()


def test_the_poll_answers_286_once_nothing_on_the_page_is_active(
    alice_client: Client, key: ApiKey
) -> None:
    settled(key, label="Done")
    orphan = make_job(key, str(uuid.uuid4()), label="Key gone", status="scraping")
    Job.objects.filter(pk=orphan.pk).update(api_key=None)  # its key was deleted: no more syncs
    response = alice_client.get("/", headers=HTMX)
    # 286 stops htmx's polling; the final list is still swapped in, without a trigger.
    assert response.status_code == 286
    html = response.content.decode()
    assert "Done" in html and "Key gone" in html and "hx-trigger" not in html
    assert 'hx-trigger="every' not in alice_client.get("/").content.decode()


def test_only_the_shown_page_decides_whether_the_list_polls(
    alice_client: Client, key: ApiKey
) -> None:
    running(key, label="Old running job")  # the oldest: alone on page 2
    for _ in range(50):
        settled(key)
    assert alice_client.get("/", headers=HTMX).status_code == 286
    second = alice_client.get("/?page=2", headers=HTMX)
    assert second.status_code == 200 and 'hx-get="/?page=2"' in second.content.decode()
    # A filter that hides the running job stops the polling too.
    assert alice_client.get("/?status=completed", headers=HTMX).status_code == 286


def test_a_history_restore_request_gets_the_whole_jobs_page(
    alice_client: Client, key: ApiKey
) -> None:
    running(key)
    response = alice_client.get("/", headers={**HTMX, "HX-History-Restore-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "Track a job" in html and 'id="jobs-list"' in html
    assert "HX-Request" in response["Vary"]


def test_a_bad_query_is_still_a_400_for_a_poll(alice_client: Client, key: ApiKey) -> None:
    assert alice_client.get("/?status=finished", headers=HTMX).status_code == 400


def test_the_list_shows_when_each_job_was_created_and_how_long_it_ran(
    alice_client: Client, key: ApiKey
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    settled(
        key,
        label="Finished",
        remote_created_at=now - timedelta(hours=3),
        remote_completed_at=now - timedelta(hours=2, minutes=55),
        duration=300.0,
    )
    running(key, label="Going", remote_created_at=now - timedelta(minutes=12, seconds=5))
    html = alice_client.get("/").content.decode()
    assert '<th scope="col">Created</th><th scope="col">Duration</th>' in html
    assert '<td data-label="Duration">5 min</td>' in html
    assert "3 h ago" in html and "12 min ago" in html
    assert '12 min <span class="muted">so far</span>' in html


def test_a_pasted_api_url_is_read_with_the_key_for_its_server(
    alice_client: Client, key: ApiKey
) -> None:
    hosted = ApiKey.objects.create(
        owner=key.owner,
        name="Hosted",
        key="fc-hosted000000000000000000000000h0s7",
        api_url="https://api.firecrawl.dev",
    )
    pasted = f"https://api.firecrawl.dev/v2/crawl/{V7_ID}"
    response = alice_client.post("/", {"job_id": pasted, "api_key": key.pk}, follow=True)
    job = Job.objects.get()
    assert job.api_key == hosted and job.api_url == "https://api.firecrawl.dev"
    assert "the job is read with your key “Hosted” for that server" in response.content.decode()


def test_a_pasted_api_url_of_a_server_without_a_key_says_so(
    alice_client: Client, key: ApiKey
) -> None:
    pasted = f"https://api.firecrawl.dev/v2/crawl/{V7_ID}"
    html = alice_client.post("/", {"job_id": pasted}, follow=True).content.decode()
    # Tracked with the key there is (a proxy may name its server otherwise), and said plainly.
    assert Job.objects.get().api_key == key
    assert "The URL you pasted is on https://api.firecrawl.dev, but the key “Main”" in html


def test_a_bare_id_says_nothing_of_servers(alice_client: Client, key: ApiKey) -> None:
    html = alice_client.post("/", {"job_id": V7_ID}, follow=True).content.decode()
    assert "The URL you pasted" not in html


def test_a_title_in_the_list_wraps_at_its_dots_and_stays_escaped(
    alice_client: Client, key: ApiKey
) -> None:
    make_job(key, str(uuid.uuid4()), label="<b>handbook.example.test/guide</b>")
    html = alice_client.get("/").content.decode()
    assert "&lt;b&gt;handbook.<wbr>example.<wbr>test/<wbr>guide&lt;/<wbr>b&gt;</a>" in html
    assert "<b>handbook" not in html
