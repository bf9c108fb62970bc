"""One user's slow or endless upstream never costs another user more than one worker deadline:
every task is bounded by one deadline, requests included, and a slow key's work is queued behind
other keys' (syncs first, then finding and deleting jobs). Shown on the order in which the
simulator saw the requests, run by the real worker loop, never on wall-clock times."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job
from jobs.tasks import import_key_task, request_sync
from keys.models import ApiKey

ALICE = "fc-fairalice000000000000000000000a1"
BOB = "fc-fairbob0000000000000000000000000b2"


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=61) as sim:
        sim.add_key(ALICE, team="alice")
        sim.add_key(BOB, team="bob")
        yield sim


@pytest.fixture
def deadline(settings: Any) -> float:
    # A request of a quarter of this makes a key slow; the slow upstream below takes half.
    settings.FIRECRAWL_WORKER_DEADLINE = 2.0
    return 2.0


def key_for(user: User, sim: FakeFirecrawl, secret: str) -> ApiKey:
    return ApiKey.objects.create(
        owner=user, name="Key", key=secret, api_url=sim.url, is_default=True
    )


def track(key: ApiKey, remote_id: str) -> Job:
    job, _ = Job.objects.track(owner=key.owner, api_key=key, remote_id=remote_id, kind="batch")
    request_sync(job)
    return job


def run_worker() -> None:
    # Until no task is ready; a bound on the tasks, so that a job that never settles fails the
    # test instead of running forever.
    call_command(
        "db_worker", "--batch", "--no-startup-delay", "--interval", "0", "--max-tasks", "200"
    )


def requests_before_first_of(sim: FakeFirecrawl, api_key: str, other: str) -> list[str]:
    """`other`'s requests that came before `api_key`'s first one."""
    before: list[str] = []
    for record in sim.requests:
        if record.api_key == api_key:
            return before
        if record.api_key == other:
            before.append(record.path)
    raise AssertionError(f"{api_key} made no request")


@pytest.mark.django_db(transaction=True)
def test_slow_status_reads_of_one_key_cost_another_key_one_sync_at_most(
    alice: User, bob: User, sim: FakeFirecrawl, deadline: float
) -> None:
    bobs = key_for(bob, sim, BOB)
    alices = key_for(alice, sim, ALICE)
    # Bob's Firecrawl takes half a deadline to answer anything; he tracks three jobs first.
    sim.inject(Fault.slow(deadline / 2), count=None, api_key=BOB)
    for _ in range(3):
        track(bobs, sim.create_batch(BOB, n=30, rate=1))
    alices_job = track(alices, sim.create_batch(ALICE, n=30))

    run_worker()

    # One sync of Bob's ran before Alice's, and it stopped at one deadline: its first read took
    # half of it, so no second request (not even /errors) could end in time.
    before = requests_before_first_of(sim, ALICE, BOB)
    assert len(before) == 1
    alices_job.refresh_from_db()
    assert alices_job.documents_cached == 30
    bobs.refresh_from_db()
    assert bobs.is_slow


@pytest.mark.django_db(transaction=True)
def test_a_slow_keys_syncs_queued_first_run_after_another_keys(
    alice: User, bob: User, sim: FakeFirecrawl, deadline: float
) -> None:
    bobs = key_for(bob, sim, BOB)
    alices = key_for(alice, sim, ALICE)
    # Bob's Firecrawl answered slowly a moment ago; he tracks three jobs before Alice's one.
    ApiKey.objects.filter(pk=bobs.pk).update(slow_until=timezone.now() + timedelta(minutes=5))
    for _ in range(3):
        track(bobs, sim.create_batch(BOB, n=5))
    alices_job = track(alices, sim.create_batch(ALICE, n=5))

    run_worker()

    # Queued later, Alice's sync still ran before any of Bob's: his wait behind other keys'.
    assert requests_before_first_of(sim, ALICE, BOB) == []
    alices_job.refresh_from_db()
    assert alices_job.documents_cached == 5
    assert all(job.documents_cached == 5 for job in Job.objects.filter(owner=bob))


@pytest.mark.django_db(transaction=True)
def test_a_slow_endless_listing_of_one_key_waits_behind_another_keys_sync(
    alice: User, bob: User, sim: FakeFirecrawl, deadline: float, settings: Any
) -> None:
    settings.FIRECRAWL_IMPORT_MAX_PAGES = 50
    settings.FIRECRAWL_IMPORT_MAX_JOBS = 30
    bobs = key_for(bob, sim, BOB)
    ApiKey.objects.filter(pk=bobs.pk).update(auto_import=True)
    alices = key_for(alice, sim, ALICE)
    sim.inject(Fault.listing_flood(1000), count=None, api_key=BOB)
    sim.inject(Fault.slow(deadline / 2), count=None, api_key=BOB, path_contains="/crawl/active")
    # Bob's automatic import has begun (a task of one listing page: his slow /crawl/active)
    # when Alice tracks a job; the import's next step is queued.
    import_key_task.call(bobs.pk)
    alices_job = track(alices, sim.create_batch(ALICE, n=30))

    run_worker()

    # Bob's import went on one page per task, and Alice's sync came first of all tasks queued.
    assert len(requests_before_first_of(sim, ALICE, BOB)) == 1
    alices_job.refresh_from_db()
    assert alices_job.documents_cached == 30
    # 30 jobs at most, from the first page (each cut to 100 of the 1,000 sent).
    listing_reads = [r for r in sim.requests if r.api_key == BOB and "/team/activity" in r.path]
    assert len(listing_reads) == 1
    assert Job.objects.filter(owner=bob).count() == 30


@pytest.mark.django_db(transaction=True)
def test_a_sync_with_no_time_left_for_failed_urls_leaves_them_to_the_next_one_first(
    bob: User, sim: FakeFirecrawl, deadline: float, settings: Any
) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 0
    bobs = key_for(bob, sim, BOB)
    sim.inject(Fault.slow(deadline / 2), count=None, api_key=BOB)
    job = track(bobs, sim.create_batch(BOB, n=10, fail_every=2))

    run_worker()  # a read of the status, no time for /errors; then /errors first, and so on

    job.refresh_from_db()
    assert (job.failed_count, job.documents_cached, job.sync_state) == (5, 5, "settled")
    # Never both in one sync (each request took half its deadline): the status, then the next
    # sync read the failed URLs first.
    paths = [record.path.rsplit("/", 1)[-1] for record in sim.requests]
    assert paths == [str(job.remote_id), "errors"]
