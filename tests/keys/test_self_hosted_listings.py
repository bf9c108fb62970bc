"""Finding jobs on a self-hosted Firecrawl (2026) without its database: its activity listing
answers 500 while /crawl/active lists the running crawls. What that listing says is kept, said
plainly, and labels the crawls tracked by id; and the listings only ever update a job as it is."""

import re
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from jobs.tasks import describe_job_task, enqueue_due_imports, import_key_task, sync_job_task
from keys import listings
from keys.models import ApiKey
from tests.conftest import BOB_KEY

KEY = "fc-selfhost000000000000000000000s5h"


@pytest.fixture
def server() -> Iterator[FakeFirecrawl]:
    """A self-hosted 2026 server without its database: `/v2/team/activity` answers 500."""
    with FakeFirecrawl(seed=41, self_hosted=True) as sim:
        sim.add_key(KEY, team="self")
        yield sim


@pytest.fixture
def key(alice: User, server: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(
        owner=alice, name="Self", key=KEY, api_url=server.url, api_version="v2", is_default=True
    )


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def run_import_round(key: ApiKey) -> None:
    import_key_task.call(key.pk)
    while ApiKey.objects.get(pk=key.pk).import_round is not None:
        import_key_task.call(key.pk)


def test_the_import_page_offers_the_running_crawls_and_says_the_activity_listing_is_unavailable(
    alice_client: Client, key: ApiKey, server: FakeFirecrawl
) -> None:
    running = server.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)

    response = alice_client.get(f"/keys/{key.pk}/import/")

    assert response.status_code == 200
    page = text_of(response)
    assert running in page and "https://wiki.example.com" in page
    assert (
        "The recent-activity listing is unavailable on this Firecrawl server "
        "(it answered 500: “Failed to fetch activity.”): only its running crawls are listed."
        in page
    )
    assert "Could not list this key's jobs" not in page


def test_the_automatic_import_tracks_the_running_crawls_there(
    alice: User, key: ApiKey, server: FakeFirecrawl
) -> None:
    running = server.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)
    ApiKey.objects.filter(pk=key.pk).update(auto_import=True)
    key.refresh_from_db()

    run_import_round(key)

    job = Job.objects.get(remote_id=running)
    assert (job.kind, job.kind_confirmed, job.target_url) == (
        "crawl",
        True,
        "https://wiki.example.com",
    )
    key.refresh_from_db()
    # Not a failure: the next round comes at the usual interval, and the keys page says why
    # only crawls are found.
    assert key.import_failures == 0
    assert "recent-activity listing is unavailable" in key.import_error
    assert enqueue_due_imports() == 0


def test_a_crawl_tracked_by_bare_id_is_labelled_a_crawl_with_its_start_url(
    alice: User, alice_client: Client, key: ApiKey, server: FakeFirecrawl
) -> None:
    running = server.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)
    job, _ = Job.objects.track(owner=alice, api_key=key, remote_id=running)

    sync_job_task.call(job.pk)
    describe_job_task.call(job.pk)

    job.refresh_from_db()
    assert (job.kind, job.kind_confirmed) == ("crawl", True)
    assert job.target_url == "https://wiki.example.com"
    page = text_of(alice_client.get(f"/jobs/{job.pk}/"))
    assert "Start URL: https://wiki.example.com" in page
    assert "or a crawl" not in page


def test_a_crawl_tracked_by_its_url_learns_its_start_url(
    alice: User, alice_client: Client, key: ApiKey, server: FakeFirecrawl
) -> None:
    running = server.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)
    alice_client.post("/", {"job_id": f"{server.url}/v2/crawl/{running}"})
    job = Job.objects.get(remote_id=running)
    assert (job.kind, job.kind_confirmed, job.target_url) == ("crawl", True, "")

    sync_job_task.call(job.pk)
    describe_job_task.call(job.pk)

    job.refresh_from_db()
    assert job.target_url == "https://wiki.example.com"


def test_describing_a_job_deleted_meanwhile_neither_fails_nor_brings_it_back(
    bob: User, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    # A server whose listings answer: the job is found in them.
    running = sim.create_crawl(BOB_KEY, "https://wiki.example.com", rate=0.1, limit=50)
    job, _ = Job.objects.track(owner=bob, api_key=bob_key, remote_id=running)
    job = Job.objects.select_related("api_key").get(pk=job.pk)
    Job.objects.filter(pk=job.pk).delete()

    assert listings.describe_job(job) is False

    assert not Job.objects.exists()


def test_describing_a_job_its_owner_stopped_tracking_leaves_it_stopped(
    alice: User, alice_client: Client, key: ApiKey, server: FakeFirecrawl
) -> None:
    running = server.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)
    job, _ = Job.objects.track(owner=alice, api_key=key, remote_id=running)
    job = Job.objects.select_related("api_key").get(pk=job.pk)
    alice_client.post(f"/jobs/{job.pk}/delete/")

    listings.describe_job(job)

    assert not Job.objects.tracked().exists()
    assert alice_client.get(f"/jobs/{job.pk}/").status_code == 404
