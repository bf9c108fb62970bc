"""Listings are bounded where they are read: items per page, pages per kind, jobs per reading,
the import page's time (one web deadline), the worker's (one page per task, a round bounded), and
tracking many jobs costs a few statements per 500, not a few per job."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job
from jobs.tasks import BACKGROUND_PRIORITY, import_key_task
from keys import listings
from keys.forms.imports import sign_jobs
from keys.listings import FoundJob
from keys.models import ApiKey

KEY = "fc-bounds0000000000000000000000b7d2"


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=53) as sim:
        sim.add_key(KEY, team="bounded")
        yield sim


@pytest.fixture
def key(alice: User, sim: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(
        owner=alice, name="Bounded", key=KEY, api_url=sim.url, api_version="v2", is_default=True
    )


@pytest.fixture
def caps(settings: Any) -> None:
    settings.FIRECRAWL_IMPORT_MAX_PAGES = 3
    settings.FIRECRAWL_IMPORT_MAX_JOBS = 250


def listed_rows(response: Any) -> int:
    return len(re.findall(r'<tr data-testid="listed-job">', response.content.decode()))


def activity_reads(sim: FakeFirecrawl) -> list[str]:
    return [record.path for record in sim.requests if "/team/activity" in record.path]


def test_an_endless_flood_of_1000_jobs_a_page_is_read_to_the_caps_on_the_import_page(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, caps: None
) -> None:
    sim.inject(Fault.listing_flood(1000), count=None)

    response = alice_client.get(f"/keys/{key.pk}/import/")

    assert response.status_code == 200
    # 100 kept of each page of 1,000, up to 250 jobs: the third page is not even asked.
    assert listed_rows(response) == 250
    assert len(activity_reads(sim)) == 3
    assert "Only the newest jobs are listed here: at most 250 in all" in response.content.decode()


def test_track_all_tracks_at_most_the_cap(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, caps: None
) -> None:
    sim.inject(Fault.listing_flood(1000), count=None)
    page = alice_client.get(f"/keys/{key.pk}/import/").content.decode()
    signed = re.search(r'name="jobs" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed})

    assert Job.objects.count() == 250


def test_track_all_costs_a_few_statements_per_500_jobs_not_per_job(
    alice: User, alice_client: Client, key: ApiKey, settings: Any
) -> None:
    settings.FIRECRAWL_IMPORT_MAX_JOBS = 1000
    found = [
        FoundJob(str(uuid.uuid4()), "crawl" if n % 2 else "batch", None, f"https://x.test/{n}")
        for n in range(1000)
    ]
    signed = sign_jobs(alice, key, found)

    with CaptureQueriesContext(connection) as queries:
        alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed})

    assert Job.objects.count() == 1000
    assert set(Job.objects.values_list("kind_confirmed", flat=True)) == {True}
    # Their syncs are queued, one task each, in a few bulk inserts.
    assert DBTaskResult.objects.filter(task_path__endswith="sync_job_task").count() == 1000
    assert Job.objects.filter(sync_queued_for__isnull=False).count() == 1000
    # Sessions, the key, messages: a handful; then a few statements per 500 jobs.
    assert len(queries) < 40
    longest_in = max(query["sql"].count("%s") + query["sql"].count("?") for query in queries)
    assert longest_in <= 500 * 12  # no statement holds more than 500 rows' worth of values


def test_the_import_page_reads_within_one_web_deadline_in_all(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_WEB_DEADLINE = 1.0
    sim.create_crawl(KEY, "https://docs.example.com", limit=3)
    # Every page of the activity listing takes most of a deadline.
    sim.inject(Fault.slow(0.7), count=None, path_contains="/team/activity")

    response = alice_client.get(f"/keys/{key.pk}/import/")

    page = response.content.decode()
    assert response.status_code == 200
    # The running crawls, then one page of activity; the next page could not end in time.
    assert "https://docs.example.com" in page
    assert "Firecrawl took too long to list more" in page
    assert len(activity_reads(sim)) <= 2


def test_the_worker_reads_one_page_per_task_and_queues_the_rest_behind_the_syncs(
    alice: User, key: ApiKey, sim: FakeFirecrawl, caps: None
) -> None:
    sim.inject(Fault.listing_flood(1000), count=None)
    ApiKey.objects.filter(pk=key.pk).update(auto_import=True)

    steps = 0
    while True:
        before = len(sim.requests)
        import_key_task.call(key.pk)
        steps += 1
        assert len(sim.requests) - before == 1  # one listing page per task
        if ApiKey.objects.get(pk=key.pk).import_round is None:
            break

    # /crawl/active, then the capped pages of the first kind: the job cap ends the round.
    assert steps == 4
    assert Job.objects.count() == 250
    continuations = DBTaskResult.objects.filter(task_path__endswith="import_key_task")
    assert continuations.count() == 3
    assert set(continuations.values_list("priority", flat=True)) == {BACKGROUND_PRIORITY}


def test_a_key_whose_listing_keeps_failing_backs_off_like_a_failing_job(
    alice: User, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    ApiKey.objects.filter(pk=key.pk).update(auto_import=True)
    sim.inject(Fault.server_error(502), count=None, path_contains="/crawl/active")

    waits = []
    for _ in range(3):
        import_key_task.call(key.pk)
        key.refresh_from_db()
        assert key.import_due_at is not None
        waits.append(round((key.import_due_at - timezone.now()) / listings.IMPORT_INTERVAL))

    assert waits == [2, 4, 8]
    assert "502" in key.import_error


def test_a_5_mb_target_is_cut_where_it_is_read_and_every_page_stays_small(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    sim.inject(Fault.listing_flood(3, pages=1, target_chars=5_000_000), count=None)

    response = alice_client.get(f"/keys/{key.pk}/import/")
    signed = re.search(r'name="jobs" value="([^"]+)"', response.content.decode()).group(1)  # type: ignore[union-attr]
    alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed})

    assert len(response.content) < 100_000
    assert max(len(url) for url in Job.objects.values_list("target_url", flat=True)) == 1_000
    assert len(alice_client.get("/").content) < 100_000
