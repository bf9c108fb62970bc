"""Finding jobs instead of pasting them: the import page of a key, Track and Track all, servers
with one listing, both or none, and the worker tracking a key's new jobs by itself."""

import re
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from jobs.models import Job
from jobs.tasks import describe_job_task, enqueue_due_imports, import_key_task, sync_job_task
from keys import listings
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import SLOW_MACHINE, make_job

pytestmark = pytest.mark.key(api_version="v2")


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def listed_ids(response: Any) -> list[str]:
    rows = re.findall(r'<tr data-testid="listed-job">(.*?)</tr>', response.content.decode(), re.S)
    return [re.search(r"<code>([0-9a-f-]{36})</code>", row).group(1) for row in rows]  # type: ignore[union-attr]


def import_round(key: ApiKey) -> None:
    """A key's automatic import round, step after step, as the worker runs it."""
    import_key_task.call(key.pk)
    while ApiKey.objects.get(pk=key.pk).import_round is not None:
        import_key_task.call(key.pk)


def queued_describes() -> list[int]:
    rows = DBTaskResult.objects.filter(task_path__endswith=".describe_job_task")
    return [row.args_kwargs["args"][0] for row in rows]


def signed_value(response: Any, name: str, index: int = 0) -> str:
    values = re.findall(rf'name="{name}" value="([^"]+)"', response.content.decode())
    return values[index]


def test_the_keys_page_offers_an_import_per_key(alice_client: Client, key: ApiKey) -> None:
    html = alice_client.get("/keys/").content.decode()
    assert f'action="/keys/{key.pk}/import/"' in html
    assert ">Import recent jobs</button>" in html
    assert "Track new jobs automatically" in html


def test_it_lists_the_keys_untracked_jobs_with_kind_time_and_target(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    batch = sim.create_batch(KEY, ["https://shop.example.com/1", "https://shop.example.com/2"])
    crawl = sim.create_crawl(KEY, "https://docs.example.com", state="completed", limit=5)
    tracked = sim.create_batch(KEY, n=3)
    make_job(key, tracked)

    response = alice_client.get(f"/keys/{key.pk}/import/")

    assert response.status_code == 200
    assert sorted(listed_ids(response)) == sorted([batch, crawl])
    page = text_of(response)
    assert "2 untracked jobs" in page
    assert "Batch scrape" in page and "https://shop.example.com/1" in page
    assert "Crawl" in page and "https://docs.example.com" in page
    assert tracked not in page
    html = response.content.decode()
    assert html.count(">Track</button>") == 2 and ">Track all</button>" in html
    assert "<time datetime=" in html


def test_track_confirms_the_kind_and_records_the_target_url(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    crawl = sim.create_crawl(KEY, "https://docs.example.com", limit=5)
    response = alice_client.get(f"/keys/{key.pk}/import/")

    tracked = alice_client.post(f"/keys/{key.pk}/import/", {"job": signed_value(response, "job")})

    job = Job.objects.get(remote_id=crawl)
    assert tracked.status_code == 302 and tracked["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.kind_confirmed, job.target_url) == (
        "crawl",
        True,
        "https://docs.example.com",
    )
    assert job.api_key == key and job.sync_queued_for is not None
    page = text_of(alice_client.get(tracked["Location"]))
    assert "Tracking started." in page and "Start URL: https://docs.example.com" in page
    # And it is no longer offered.
    assert listed_ids(alice_client.get(f"/keys/{key.pk}/import/")) == []


def test_track_all_tracks_every_listed_job(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    ids = {sim.create_batch(KEY, n=2) for _ in range(3)} | {sim.create_crawl(KEY, limit=3)}
    response = alice_client.get(f"/keys/{key.pk}/import/")

    done = alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed_value(response, "jobs")})

    assert done.status_code == 302 and done["Location"] == "/"
    assert {str(job.remote_id) for job in Job.objects.all()} == ids
    assert "Tracking 4 jobs." in text_of(alice_client.get("/"))
    # Pressed again (Back, resubmit): nothing twice.
    alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed_value(response, "jobs")})
    assert Job.objects.count() == 4


def test_a_tampered_or_foreign_list_tracks_nothing(
    alice_client: Client, bob_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    sim.create_batch(KEY, n=2)
    signed = signed_value(alice_client.get(f"/keys/{key.pk}/import/"), "jobs")
    bob_key = ApiKey.objects.create(
        owner=User.objects.get(username="bob"), name="B", key=KEY, api_url=sim.url
    )
    # Bob's own key, Alice's list: signed for Alice and her key only.
    response = bob_client.post(f"/keys/{bob_key.pk}/import/", {"jobs": signed}, follow=True)
    assert "This list cannot be read; here it is again." in text_of(response)
    response = alice_client.post(f"/keys/{key.pk}/import/", {"jobs": signed[:-2]}, follow=True)
    assert "This list cannot be read" in text_of(response)
    assert not Job.objects.exists()


def test_another_users_import_page_is_a_404(
    bob_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    sim.create_batch(KEY, n=2)
    assert bob_client.get(f"/keys/{key.pk}/import/").status_code == 404
    assert bob_client.post(f"/keys/{key.pk}/import/", {"jobs": "x"}).status_code == 404
    assert bob_client.post(f"/keys/{key.pk}/auto-import/", {"auto_import": "on"}).status_code == 404
    key.refresh_from_db()
    assert not key.auto_import and not Job.objects.exists()
    assert sim.count_requests() == 0


def test_a_server_with_only_active_crawls_lists_its_running_crawls(
    alice: User, alice_client: Client
) -> None:
    with FakeFirecrawl(seed=2, activity=False) as selfhosted:
        selfhosted.add_key(KEY, team="self", credits=None)
        key = ApiKey.objects.create(owner=alice, name="Self", key=KEY, api_url=selfhosted.url)
        running = selfhosted.create_crawl(KEY, "https://wiki.example.com", rate=0.1, limit=50)
        selfhosted.create_crawl(KEY, "https://old.example.com", state="completed", limit=2)
        selfhosted.create_batch(KEY, n=2, rate=0.1)  # a batch: no listing names it

        response = alice_client.get(f"/keys/{key.pk}/import/")

        assert listed_ids(response) == [running]
        assert "https://wiki.example.com" in text_of(response)


def test_a_server_whose_activity_listing_fails_still_lists_active_crawls(
    alice: User, alice_client: Client
) -> None:
    with FakeFirecrawl(seed=2, self_hosted=True) as selfhosted:
        selfhosted.add_key(KEY, team="self")
        key = ApiKey.objects.create(owner=alice, name="Self", key=KEY, api_url=selfhosted.url)
        running = selfhosted.create_crawl(KEY, rate=0.1, limit=50)
        assert listed_ids(alice_client.get(f"/keys/{key.pk}/import/")) == [running]


def test_a_server_without_listings_says_so_plainly(alice: User, alice_client: Client) -> None:
    with FakeFirecrawl(seed=2, activity=False, active_crawls=False) as bare:
        bare.add_key(KEY, team="bare")
        key = ApiKey.objects.create(owner=alice, name="Bare", key=KEY, api_url=bare.url)
        bare.create_crawl(KEY, rate=0.1)

        response = alice_client.get(f"/keys/{key.pk}/import/")

        assert response.status_code == 200
        assert "This Firecrawl server does not list jobs" in text_of(response)
        assert "Track its jobs by id on Jobs" in text_of(response)


def test_an_upstream_error_is_a_message_on_the_page(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = ApiKey.objects.create(
        owner=alice, name="Revoked", key="fc-revoked00000000000000000000r0", api_url=sim.url
    )
    response = alice_client.get(f"/keys/{key.pk}/import/")
    assert response.status_code == 200
    assert "Could not list this key's jobs: Firecrawl rejected the API key (401)" in text_of(
        response
    )
    sim.inject(Fault.rate_limit(wait_text=30), count=10)
    response = alice_client.get(
        f"/keys/{ApiKey.objects.create(owner=alice, name='K', key=KEY, api_url=sim.url).pk}/import/"
    )
    assert "Rate limited by Firecrawl" in text_of(response)


def test_the_activity_listing_is_followed_a_bounded_number_of_pages(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_IMPORT_MAX_PAGES = 2
    for _ in range(250):
        sim.create_batch(KEY, n=1, state="completed")
    sim.clear_requests()

    response = alice_client.get(f"/keys/{key.pk}/import/")

    assert len(listed_ids(response)) == 200
    assert "Only the newest jobs are listed here" in text_of(response)
    activity = [r for r in sim.requests if "/team/activity" in r.path]
    assert [r.query.get("endpoint") for r in activity] == ["crawl", "batch_scrape", "batch_scrape"]
    assert activity[-1].query.get("cursor")


# The property: an import lists exactly the jobs that user does not track ---------------------


@settings(
    max_examples=25, suppress_health_check=[*SLOW_MACHINE, HealthCheck.function_scoped_fixture]
)
@given(
    kinds=st.lists(st.sampled_from(["batch", "crawl"]), min_size=0, max_size=8),
    alice_tracks=st.sets(st.integers(0, 7)),
    bob_tracks=st.sets(st.integers(0, 7)),
)
def test_an_import_lists_only_jobs_that_user_does_not_track(
    kinds: list[str], alice_tracks: set[int], bob_tracks: set[int], alice: User, bob: User
) -> None:
    with FakeFirecrawl(seed=len(kinds), clock=ManualClock()) as sim:
        sim.add_key(KEY, team="shared")
        try:
            alice_key = ApiKey.objects.create(owner=alice, name="A", key=KEY, api_url=sim.url)
            bob_key = ApiKey.objects.create(owner=bob, name="B", key=KEY, api_url=sim.url)
            ids = [
                sim.create_crawl(KEY, limit=2) if kind == "crawl" else sim.create_batch(KEY, n=1)
                for kind in kinds
            ]
            for index in alice_tracks & set(range(len(ids))):
                # Ids as pasted: case does not matter.
                make_job(alice_key, ids[index].upper() if index % 2 else ids[index])
            for index in bob_tracks & set(range(len(ids))):
                make_job(bob_key, ids[index])
            with listings.clients.for_key_on_web(alice_key) as client:
                listing = listings.Listing.of()
                listing.read_all(client)

            shown = listings.untracked(alice, listing.jobs)

            expected = {ids[i] for i in range(len(ids)) if i not in alice_tracks}
            assert {job.id for job in shown} == expected
            assert len(shown) == len(expected)  # each once, though both listings name a crawl
        finally:
            Job.objects.all().delete()
            ApiKey.objects.all().delete()


# Tracking new jobs automatically -------------------------------------------------------------


def test_the_switch_on_the_keys_page_opts_a_key_in_and_out(
    alice_client: Client, key: ApiKey
) -> None:
    alice_client.post(f"/keys/{key.pk}/auto-import/", {"auto_import": "on"})
    key.refresh_from_db()
    assert key.auto_import
    assert (
        'name="auto_import" data-autosubmit checked' in alice_client.get("/keys/").content.decode()
    )
    alice_client.post(f"/keys/{key.pk}/auto-import/", {})
    key.refresh_from_db()
    assert not key.auto_import


@pytest.mark.django_db(transaction=True)
def test_the_worker_tracks_new_jobs_of_keys_that_opted_in(
    alice: User, sim: FakeFirecrawl, settings: Any
) -> None:
    from django.core.management import call_command

    key = ApiKey.objects.create(
        owner=alice, name="Auto", key=KEY, api_url=sim.url, auto_import=True
    )
    other = ApiKey.objects.create(owner=alice, name="Manual", key=KEY, api_url=sim.url)
    crawl = sim.create_crawl(KEY, "https://docs.example.com", limit=4, state="completed")

    assert enqueue_due_imports() == 1  # the opted-in key only
    assert enqueue_due_imports() == 0  # not again before the interval
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    job = Job.objects.get()
    assert str(job.remote_id) == crawl and job.api_key == key and job.kind == "crawl"
    assert job.target_url == "https://docs.example.com"
    assert job.documents_cached == 4  # its sync was queued too: cached before it expires
    # A job started later is found on the next round, once the interval has passed.
    later = sim.create_batch(KEY, n=2)
    ApiKey.objects.filter(pk=key.pk).update(import_due_at=timezone.now())
    assert enqueue_due_imports() == 1
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert Job.objects.filter(remote_id=later).exists()
    assert not Job.objects.filter(api_key=other).exists()


def test_the_automatic_import_stays_within_the_keys_request_budget(
    alice: User, sim: FakeFirecrawl, settings: Any
) -> None:
    key = ApiKey.objects.create(
        owner=alice, name="Auto", key=KEY, api_url=sim.url, auto_import=True
    )
    sim.create_batch(KEY, n=2)
    ApiKey.objects.filter(pk=key.pk).update(
        budget_window=timezone.now().replace(second=0, microsecond=0),
        budget_used=settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE,
    )

    import_key_task.call(key.pk)

    assert sim.count_requests() == 0 and not Job.objects.exists()
    key.refresh_from_db()
    assert key.import_error == ""  # our own pacing is not a failure


def test_a_failed_automatic_import_is_shown_on_the_keys_page(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = ApiKey.objects.create(
        owner=alice, name="Auto", key="fc-revoked00000000000000000000r0", api_url=sim.url,
        auto_import=True,
    )  # fmt: skip
    import_round(key)
    assert "Automatic import: Firecrawl rejected the API key (401)" in text_of(
        alice_client.get("/keys/")
    )


# What the listings say about a job tracked by id ------------------------------------------------


def test_a_crawl_tracked_by_bare_id_learns_its_kind_and_start_url_on_its_first_read(
    alice: User, key: ApiKey, sim: FakeFirecrawl
) -> None:
    crawl = sim.create_crawl(KEY, "https://docs.example.com", limit=6, state="completed")
    job, _ = Job.objects.track(owner=alice, api_key=key, remote_id=crawl)
    assert not job.kind_confirmed  # a bare id: the 2026 server answers it as a batch too

    sync_job_task.call(job.pk)
    # Asking the listings is a task of its own, queued behind the syncs.
    assert queued_describes() == [job.pk]
    describe_job_task.call(job.pk)

    job.refresh_from_db()
    assert (job.kind, job.kind_confirmed) == ("crawl", True)
    assert job.target_url == "https://docs.example.com"
    assert job.documents_cached == 6
    # Asked once: later syncs do not read the listings again.
    listings = sim.count_requests("GET", "/team/activity") + sim.count_requests("GET", "/active")
    Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
    sync_job_task.call(job.pk)
    assert queued_describes() == [job.pk]  # still the first one only
    assert (
        sim.count_requests("GET", "/team/activity") + sim.count_requests("GET", "/active")
        == listings
    )


def test_a_job_its_owner_stopped_tracking_is_not_imported_again(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = ApiKey.objects.create(
        owner=alice, name="Auto", key=KEY, api_url=sim.url, auto_import=True
    )
    first = sim.create_batch(KEY, n=2)
    import_round(key)
    job = Job.objects.get(remote_id=first)

    alice_client.post(f"/jobs/{job.pk}/delete/")
    later = sim.create_batch(KEY, n=2)
    import_round(key)

    tracked = Job.objects.tracked().values_list("remote_id", flat=True)
    assert [str(remote_id) for remote_id in tracked] == [later]
    # Import recent jobs still offers it, for a person who wants it back.
    assert first in alice_client.get(f"/keys/{key.pk}/import/").content.decode()
