"""The job page, its htmx status partial, and the actions on a job."""

import re
import uuid
from datetime import timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from fakecrawl import FakeFirecrawl
from jobs.models import Document, Job
from jobs.tasks import purge_job_task
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_documents, make_failed_urls, make_job

HTMX = {"HX-Request": "true"}


def settled_job(key: ApiKey) -> Job:
    return make_job(
        key,
        str(uuid.uuid4()),
        status="completed",
        completed=3,
        total=3,
        fully_cached=True,
        errors_fetched_at=timezone.now(),
        sync_state=Job.SyncState.SETTLED,
    )


def test_a_partial_request_gets_only_the_status_fragment(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), status="scraping", completed=5, total=10)
    response = alice_client.get(f"/jobs/{job.pk}/", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card job-status"')
    assert "<html" not in html
    assert 'hx-trigger="every 3s"' in html
    assert 'role="progressbar"' in html and 'aria-valuenow="5"' in html
    assert 'aria-valuemax="10"' in html
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_request_gets_the_full_page(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()))
    response = alice_client.get(
        f"/jobs/{job.pk}/", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" in html and "Browse documents" in html and "Download zip" in html


def test_polling_stops_when_nothing_is_left_to_change(alice_client: Client, key: ApiKey) -> None:
    job = settled_job(key)
    response = alice_client.get(f"/jobs/{job.pk}/", headers=HTMX)
    assert response.status_code == 286
    assert "hx-trigger" not in response.content.decode()
    assert "hx-trigger" not in alice_client.get(f"/jobs/{job.pk}/").content.decode()


def test_the_poll_asks_for_a_sync_once_when_data_is_stale(
    alice_client: Client, key: ApiKey
) -> None:
    from django_tasks_db.models import DBTaskResult

    job = make_job(key, str(uuid.uuid4()))
    for _ in range(5):
        alice_client.get(f"/jobs/{job.pk}/", headers=HTMX)
    # Five pollers, one queued task: the queue claim is a conditional UPDATE.
    assert DBTaskResult.objects.count() == 1


def test_the_poll_does_not_queue_while_a_sync_holds_the_lease(
    alice_client: Client, key: ApiKey
) -> None:
    from django_tasks_db.models import DBTaskResult

    job = make_job(key, str(uuid.uuid4()))
    Job.objects.filter(pk=job.pk).update(
        lease_token=uuid.uuid4(), lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    alice_client.get(f"/jobs/{job.pk}/", headers=HTMX)
    assert DBTaskResult.objects.count() == 0


def test_it_shows_progress_rate_and_cache_state(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), status="scraping", completed=812, total=1000)
    make_documents(job, 812)
    job.samples.create(at=timezone.now() - timedelta(minutes=2), completed=612, total=1000)
    job.samples.create(at=timezone.now(), completed=812, total=1000)
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Cached 812 of 1,000 documents" in html
    assert "100.0 pages/min" in html
    assert "about 2 min" in html  # 188 left at 100/min: 1.88 min, rounded
    assert "<polyline" in html


def test_it_lists_failed_urls(alice_client: Client, key: ApiKey) -> None:
    job = settled_job(key)
    make_failed_urls(
        job,
        "https://example.test/broken",
        code="SCRAPE_TIMEOUT",
        error="Timed out",
        robots_blocked=("https://example.test/private",),
    )
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<h2>Failed URLs</h2>" in html and "1 failed" in html
    assert "https://example.test/broken" in html and "Timed out" in html
    assert "Blocked by robots.txt" in html


def test_another_users_job_is_a_404_everywhere(
    key: ApiKey, bob_client: Client, bob_key: ApiKey
) -> None:
    job = settled_job(key)
    for method, path in [
        ("get", f"/jobs/{job.pk}/"),
        ("post", f"/jobs/{job.pk}/refresh/"),
        ("post", f"/jobs/{job.pk}/cancel/"),
        ("get", f"/jobs/{job.pk}/delete/"),
        ("post", f"/jobs/{job.pk}/delete/"),
    ]:
        assert getattr(bob_client, method)(path).status_code == 404, path
    assert Job.objects.filter(pk=job.pk).exists()


def test_stop_tracking_asks_first_then_deletes_the_cache(alice_client: Client, key: ApiKey) -> None:
    job = settled_job(key)
    make_documents(job, 3)
    confirm = alice_client.get(f"/jobs/{job.pk}/delete/").content.decode()
    assert "This deletes the 3 cached documents" in confirm
    assert Job.objects.filter(pk=job.pk).exists()
    response = alice_client.post(f"/jobs/{job.pk}/delete/")
    assert response.status_code == 302
    # Gone from every page at once; its rows go in the background, a batch at a time.
    assert alice_client.get(f"/jobs/{job.pk}/").status_code == 404
    assert str(job.remote_id) not in alice_client.get("/").content.decode()
    purge_job_task.call(job.pk)
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Document.objects.filter(job_id=job.pk).exists()


def test_state_changes_need_post(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()))
    assert alice_client.get(f"/jobs/{job.pk}/refresh/").status_code == 405
    assert alice_client.get(f"/jobs/{job.pk}/cancel/").status_code == 405


def test_refresh_resumes_a_job_paused_for_a_key_problem(alice_client: Client, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.PAUSED, last_error="Rejected")
    alice_client.post(f"/jobs/{job.pk}/refresh/")
    job.refresh_from_db()
    assert job.sync_state != Job.SyncState.PAUSED and job.sync_queued_for is not None


def test_cancel_asks_firecrawl_to_stop_the_job(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=1000, rate=1)
    job = make_job(key, remote_id, status="scraping")
    response = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "Cancel requested" in response.content.decode()
    assert sim.job(remote_id).status == "cancelled"


def test_cancel_reports_firecrawls_refusal(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=5, state="completed")
    job = make_job(key, remote_id, status="scraping")
    response = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert "Could not cancel the job" in response.content.decode()


def test_an_expired_or_unknown_job_offers_no_cancel_and_refuses_one(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    for state in (Job.SyncState.EXPIRED, Job.SyncState.NOT_FOUND):
        remote_id = sim.create_batch(ALICE_KEY, n=1000, rate=1)
        job = make_job(key, remote_id, status="scraping", sync_state=state)
        assert "Cancel job" not in alice_client.get(f"/jobs/{job.pk}/").content.decode()
        response = alice_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
        assert "This job cannot be cancelled." in response.content.decode()
        assert sim.job(remote_id).status != "cancelled"


OOB_TARGET = re.compile(r'<[a-z]+ id="([^"]+)"[^>]* hx-swap-oob="true"')


def test_every_out_of_band_part_of_the_poll_has_its_place_on_the_page(
    alice_client: Client, key: ApiKey
) -> None:
    # A job that finished upstream and is settling: still polled, no Cancel any more.
    job = make_job(
        key, str(uuid.uuid4()), status="completed", completed=3, total=3, fully_cached=True
    )
    make_failed_urls(job, "https://example.test/gone")
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    poll = alice_client.get(f"/jobs/{job.pk}/?failures_shown=0", headers=HTMX).content.decode()

    swapped = set(OOB_TARGET.findall(poll))
    assert {"cancel-job", "job-kind", "failed-urls"} <= swapped
    # htmx logs oobErrorNoTarget for any part whose id the page lacks.
    assert {target for target in swapped if f'id="{target}"' not in page} == set()


def test_a_job_whose_key_was_deleted_can_move_to_another_key(
    alice_client: Client, key: ApiKey, bob_key: ApiKey
) -> None:
    job = make_job(key, str(uuid.uuid4()))
    spare = ApiKey.objects.create(
        owner=key.owner,
        name="Spare",
        key="fc-spare0000000000000000000000005678",
        api_url=key.api_url,
    )
    key.delete()
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Read this job with another key" in page and "Spare" in page
    # Bob's key is not Alice's to use.
    alice_client.post(f"/jobs/{job.pk}/key/", {"api_key": bob_key.pk})
    job.refresh_from_db()
    assert job.api_key is None
    alice_client.post(f"/jobs/{job.pk}/key/", {"api_key": spare.pk})
    job.refresh_from_db()
    assert job.api_key == spare and job.sync_queued_for is not None


def test_the_poll_costs_a_fixed_handful_of_queries(
    alice_client: Client, key: ApiKey, django_assert_num_queries: Any
) -> None:
    job = make_job(
        key,
        str(uuid.uuid4()),
        status="scraping",
        total=500,
        next_poll_at=timezone.now() + timedelta(minutes=1),
    )
    for completed in range(0, 500, 50):
        job.samples.create(completed=completed, total=500)
    make_failed_urls(job, "https://example.test/broken")
    # Session, user, the job with its key, its progress samples, its screenshots' counts:
    # failed URLs and the key form belong to the full page only.
    with django_assert_num_queries(5):
        response = alice_client.get(f"/jobs/{job.pk}/?failures_shown=1", headers=HTMX)
    # 500 pages Firecrawl counts, and the failed URL it does not.
    assert 'aria-valuemax="501"' in response.content.decode()
