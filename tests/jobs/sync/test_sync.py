"""The sync against the Firecrawl simulator over real HTTP: every document cached exactly once."""

import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from firecrawl_api.wire import ScrapedDocument
from jobs.models import Document, Job
from jobs.models.fast_insert import BATCH
from jobs.sync import sync_job
from keys import clients
from keys.budget import RequestBudget
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job


@pytest.fixture(autouse=True)
def fast_retries(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clients, "MAX_RETRY_WAIT", 0)  # a 429 is rescheduled, not waited for
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000


def sync_until_settled(job: Job, clock: ManualClock, step: float = 1.0, rounds: int = 200) -> Job:
    for _ in range(rounds):
        sync_job(job.pk)
        job.refresh_from_db()
        if not job.is_active:
            return job
        clock.advance(step)
    raise AssertionError(f"job did not settle: {job.status} {job.last_error}")


def sync_for(job: Job, clock: ManualClock, seconds: int) -> Job:
    """One sync a second for a while, the job still running upstream."""
    for _ in range(seconds):
        sync_job(job.pk)
        clock.advance(1)
    job.refresh_from_db()
    return job


def assert_cache_matches(job: Job, sim: FakeFirecrawl) -> None:
    expected = sim.job(str(job.remote_id)).documents
    cached = list(job.documents.order_by("position").values_list("position", "raw"))
    assert [position for position, _ in cached] == list(range(len(expected)))
    assert [json.loads(raw) for _, raw in cached] == expected
    scrape_ids = Counter(job.documents.values_list("scrape_id", flat=True))
    assert scrape_ids.most_common(1)[0][1] == 1 if scrape_ids else True
    assert job.documents_cached == len(expected)


def status_requests(sim: FakeFirecrawl, job: Job) -> list[Any]:
    return [
        r
        for r in sim.requests
        if r.method == "GET" and r.path.endswith(str(job.remote_id)) and r.status == 200
    ]


def test_it_caches_a_batch_that_completes_over_time_showing_progress(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=1000, rate=40)
    job = make_job(key, remote_id)
    seen_progress = []
    for _ in range(60):
        sync_job(job.pk)
        job.refresh_from_db()
        page = alice_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
        html = page.content.decode()
        seen_progress.append(job.completed)
        assert f'aria-valuenow="{job.completed}"' in html
        assert f"Cached {job.documents_cached:,} of" in html or not job.is_active
        if not job.is_active:
            break
        # Documents are stored while the job runs, not only at the end.
        assert job.documents_cached == job.completed
        clock.advance(1)
    assert job.status == Job.Status.COMPLETED
    assert len(set(seen_progress)) > 10, "progress was visible along the way"
    assert_cache_matches(job, sim)
    assert "All 1,000 documents cached" in alice_client.get(f"/jobs/{job.pk}/").content.decode()


def test_it_caches_a_job_that_was_already_completed(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    remote_id = sim.create_batch(KEY, n=250, state="completed")
    job = sync_until_settled(make_job(key, remote_id), clock)
    assert job.fully_cached
    assert_cache_matches(job, sim)
    # 3 pages of 100, then the failed-URL listing: nothing fetched twice.
    skips = [r.query.get("skip") for r in status_requests(sim, job)]
    assert len(skips) == len(set(skips)) == 3


def test_it_follows_the_ten_megabyte_cut(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    sim.page_limit_chars = 30_000
    remote_id = sim.create_batch(KEY, n=60, state="completed", doc_size=4000)
    job = sync_until_settled(make_job(key, remote_id), clock)
    assert len(status_requests(sim, job)) > 5
    assert_cache_matches(job, sim)


def test_it_records_failed_urls_while_total_shrinks(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    remote_id = sim.create_batch(KEY, n=120, rate=20, fail_every=7)
    job = sync_until_settled(make_job(key, remote_id), clock)
    assert job.total == 120 - 120 // 7
    assert_cache_matches(job, sim)
    failed = set(job.failed_urls.values_list("url", flat=True))
    assert failed == {entry["url"] for entry in sim.job(remote_id).failed}
    assert len(failed) == 120 // 7


def test_it_keeps_everything_from_a_job_cancelled_midway(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    remote_id = sim.create_batch(KEY, n=400, rate=25)
    job = sync_for(make_job(key, remote_id), clock, seconds=4)
    sim.cancel(remote_id)
    job = sync_until_settled(job, clock)
    assert job.status == Job.Status.CANCELLED
    assert 0 < job.documents_cached < 400
    assert_cache_matches(job, sim)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.rate_limit(retry_after=None, wait_text=2),
        Fault.rate_limit(retry_after=3),
        Fault.server_error(500),
        Fault.server_error(502),
        Fault.server_error(503),
        Fault.drop(),
        Fault.invalid_json(),
        Fault.html_error_page(),
    ],
    ids=lambda fault: fault.kind if hasattr(fault, "kind") else str(fault),
)
def test_it_survives_upstream_faults_without_losing_or_duplicating(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, fault: Fault
) -> None:
    remote_id = sim.create_batch(KEY, n=300, rate=30)
    sim.inject(fault, job_id=remote_id, count=6)
    job = sync_until_settled(make_job(key, remote_id), clock)
    assert job.status == Job.Status.COMPLETED
    assert job.last_error == ""
    assert_cache_matches(job, sim)


def test_it_shows_the_rate_limit_wait_to_the_user(
    sim: FakeFirecrawl, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=10, state="completed")
    sim.inject(Fault.rate_limit(retry_after=None, wait_text=14), job_id=remote_id, count=1)
    job = make_job(key, remote_id)
    before = timezone.now()
    sync_job(job.pk)
    after = timezone.now()
    job.refresh_from_db()
    assert job.last_error == "Rate limited by Firecrawl, retrying in 14 s"
    assert before + timedelta(seconds=14) <= job.next_poll_at <= after + timedelta(seconds=14)
    assert (
        "Rate limited by Firecrawl, retrying in 14 s"
        in alice_client.get(f"/jobs/{job.pk}/").content.decode()
    )


def test_a_stale_401_does_not_pause_a_job_its_owner_gave_another_key_meanwhile(
    sim: FakeFirecrawl, key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote_id = sim.create_batch(KEY, n=10, state="completed")
    # A key this server does not know: Firecrawl answers 401.
    revoked = ApiKey.objects.create(
        owner=key.owner, name="Revoked", key="fc-revoked00000000000000000000dead", api_url=sim.url
    )
    job = make_job(revoked, remote_id)
    spend = RequestBudget.spend

    def owner_rekeys_while_the_request_is_out(budget: RequestBudget) -> None:
        # Paid just before the request goes out: the owner picks the good key right then.
        if budget.api_key_pk == revoked.pk:
            Job.objects.get(pk=job.pk).use_key(key)
        spend(budget)

    monkeypatch.setattr(RequestBudget, "spend", owner_rekeys_while_the_request_is_out)

    sync_job(job.pk)  # asks with the revoked key, and gets its 401

    job.refresh_from_db()
    assert (job.sync_state, job.api_key_id, job.last_error) == (Job.SyncState.ACTIVE, key.pk, "")
    monkeypatch.undo()
    sync_job(job.pk)  # the sync the owner's change queued
    job.refresh_from_db()
    assert job.documents_cached == 10 and job.last_error == ""


def test_it_stops_on_the_repeated_pages_of_a_2025_self_hosted_server(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    sim.set_mode("2025")
    remote_id = sim.create_batch(KEY, n=40, state="completed")
    sim.page_limit_chars = 20_000  # a first page of some documents, then repeats
    job = sync_until_settled(make_job(key, remote_id), clock)
    first_page = len(sim.job(remote_id).documents[: job.documents_cached])
    assert 0 < job.documents_cached < 40
    assert job.documents_cached == first_page
    assert job.pagination_stuck
    message = f"Firecrawl returned the same page twice; {job.documents_cached} of 40 documents"
    assert message in job.last_error
    scrape_ids = list(job.documents.values_list("scrape_id", flat=True))
    assert len(scrape_ids) == len(set(scrape_ids))
    assert len(status_requests(sim, job)) <= 3
    assert message in alice_client.get(f"/jobs/{job.pk}/").content.decode()


def test_it_keeps_the_cache_when_results_expire_after_partial_caching(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=500, rate=20)
    job = sync_for(make_job(key, remote_id), clock, seconds=5)
    cached = job.documents_cached
    sim.expire(remote_id)
    job = sync_until_settled(job, clock)
    assert job.sync_state == Job.SyncState.EXPIRED
    assert job.documents_cached == cached > 0
    assert f"Results expired upstream: {cached:,} of" in job.last_error
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "expired upstream" in page


def test_it_treats_an_early_404_as_pending(sim: FakeFirecrawl, key: ApiKey) -> None:
    remote_id = sim.create_batch(KEY, n=5, state="completed")
    sim.inject(Fault.not_found(), job_id=remote_id, count=1)
    job = make_job(key, remote_id)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.sync_state != Job.SyncState.EXPIRED
    assert "does not know this job yet" in job.last_error


def test_it_stops_polling_when_firecrawl_rejects_the_key(
    sim: FakeFirecrawl, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=5, state="completed")
    ApiKey.objects.filter(pk=key.pk).update(key_hint="x")
    key.key = "fc-revoked000000000000000000000000"
    key.save()
    job = make_job(key, remote_id)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.sync_state == Job.SyncState.PAUSED and not job.is_active
    assert job.last_error == "Firecrawl rejected the API key (401)"
    assert not Job.objects.needing_sync().filter(pk=job.pk).exists()
    response = alice_client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert response.status_code == 286


def test_a_failed_kickoff_ends_the_job_as_failed(sim: FakeFirecrawl, key: ApiKey) -> None:
    remote_id = sim.create_batch(KEY, n=5, state="completed")
    sim.inject(Fault.success_false(), job_id=remote_id, count=1)
    job = make_job(key, remote_id)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_only_one_sync_of_a_job_runs_at_a_time(sim: FakeFirecrawl, key: ApiKey) -> None:

    remote_id = sim.create_batch(KEY, n=5, state="completed")
    job = make_job(key, remote_id)
    token = Job.objects.acquire_lease(job.pk)
    assert token is not None
    assert Job.objects.acquire_lease(job.pk) is None
    assert sync_job(job.pk).ran is False
    Job.objects.release_lease(job.pk, token)
    assert sync_job(job.pk).ran is True


def test_a_sync_that_lost_its_lease_stores_nothing(sim: FakeFirecrawl, key: ApiKey) -> None:
    from firecrawl_api.client import FirecrawlClient
    from jobs.models import LeaseLost

    remote_id = sim.create_batch(KEY, n=5, state="completed")
    job = make_job(key, remote_id)
    stale = Job.objects.acquire_lease(job.pk)
    assert stale is not None
    # The lease ran out (the worker stalled) and another sync took the job over.
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now())
    assert Job.objects.acquire_lease(job.pk) is not None
    with FirecrawlClient(sim.url, KEY) as client:
        page = client.job_status(remote_id, kind="batch")
    with pytest.raises(LeaseLost):
        job.apply_page(page, stale)
    job.refresh_from_db()
    assert job.documents.count() == job.documents_cached == 0


def test_a_job_whose_key_was_deleted_stays_browsable(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey, alice_client: Client
) -> None:
    remote_id = sim.create_batch(KEY, n=20, state="completed")
    job = sync_until_settled(make_job(key, remote_id), clock)
    key.delete()
    job.refresh_from_db()
    assert job.api_key is None and job.documents_cached == 20
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "its API key was deleted" in page
    assert "All 20 documents cached" in page


def test_a_sync_of_a_running_job_stops_once_caught_up(
    sim: FakeFirecrawl, clock: ManualClock, key: ApiKey
) -> None:
    remote_id = sim.create_batch(KEY, n=1000, rate=50)
    clock.advance(1.5)  # 75 documents: one page
    job = make_job(key, remote_id)
    sync_job(job.pk)
    job.refresh_from_db()
    # One page brought everything completed so far; asking again before the next poll would
    # only chase the tail of a fast job (one request per new trickle of documents).
    assert job.documents_cached == job.completed == sim.job(remote_id).completed > 0
    assert len(status_requests(sim, job)) == 1


def test_nul_characters_in_scraped_text_are_stored_on_every_database(key: ApiKey) -> None:
    import firecrawl_api

    document = {
        "markdown": "before\x00after",
        "metadata": {"title": "T\x00itle", "sourceURL": "https://x.test/\x00", "scrapeId": "n1"},
    }
    payload = {
        "success": True,
        "status": "completed",
        "completed": 1,
        "total": 1,
        "data": [document],
    }
    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e99")
    token = Job.objects.acquire_lease(job.pk)
    assert token is not None
    job.apply_page(firecrawl_api.StatusPage.from_payload(payload, skip=0), token)
    stored = job.documents.get()
    assert stored.title == "T\ufffditle"  # PostgreSQL text cannot hold NUL
    assert json.loads(stored.raw) == document  # the document itself keeps every character


def test_documents_are_stored_as_sent_even_with_lone_surrogate_escapes(key: ApiKey) -> None:
    import firecrawl_api
    from firecrawl_api import jsonscan

    sent = '{"markdown":"half \\ud83d emoji","metadata":{"title":"A \\udc00","scrapeId":"s1"}}'
    content = f'{{"success":true,"status":"completed","completed":1,"total":1,"data":[{sent}]}}'
    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e98")
    token = Job.objects.acquire_lease(job.pk)
    assert token is not None
    page = firecrawl_api.StatusPage.from_payload(jsonscan.loads(content.encode()), skip=0)
    job.apply_page(page, token)
    stored = job.documents.get()
    assert stored.raw == sent  # the wire text itself: no driver can encode a lone surrogate
    assert stored.title == "A \ufffd"
    assert json.loads(stored.raw)["markdown"] == "half \ud83d emoji"


def test_a_page_stored_over_positions_already_taken_keeps_the_stored_rows(key: ApiKey) -> None:
    from jobs.models.fast_insert import insert_new

    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e97")
    Document.objects.create(job=job, position=0, title="first", raw="{}")
    insert_new(
        [
            Document(job=job, position=0, title="clash", raw="{}"),
            Document(job=job, position=1, title="second", raw='{"a":1}'),
        ]
    )
    stored = list(job.documents.order_by("position").values_list("position", "title", "raw"))
    assert stored == [(0, "first", "{}"), (1, "second", '{"a":1}')]


def test_an_unexpected_error_backs_off_and_says_so_on_the_job(
    sim: FakeFirecrawl, key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = make_job(key, sim.create_batch(KEY, n=5, state="completed"))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(Job, "apply_page", broken)
    before = timezone.now()
    result = sync_job(job.pk)
    job.refresh_from_db()
    assert "The sync failed unexpectedly (RuntimeError)" in result.error == job.last_error
    assert job.is_active and job.next_poll_at > before + timedelta(seconds=5)
    assert job.lease_token is None  # released for the next try


@pytest.mark.django_db
def test_a_pages_known_documents_are_looked_up_by_their_ids_not_by_walking_the_job(
    key: ApiKey,
) -> None:
    # Each page asks which of its scrape ids the job holds. Walking the job's documents instead
    # (what the default ordering made SQLite do) costs more with every page of a large job.
    job = make_job(key, str(uuid.uuid4()))
    lookup = Document.objects.holding(job, ["a", "b"]).values_list("scrape_id", flat=True)
    sql = str(lookup.query)
    assert "JOIN" not in sql and "ORDER BY" not in sql, sql
    if connection.vendor == "sqlite":
        plan = lookup.explain()
        assert "(job_id=? AND scrape_id=?)" in plan, plan


@pytest.mark.django_db
def test_a_page_of_any_length_is_deduplicated_with_short_lookups(key: ApiKey) -> None:
    # A page's length is bounded by its bytes only: thousands of tiny documents must neither
    # make one IN list past the database's parameter limit nor escape the dedupe.
    job = make_job(key, str(uuid.uuid4()))
    ids = [f"scrape-{n}" for n in range(1200)]
    page = [ScrapedDocument.from_text(json.dumps({"metadata": {"scrapeId": i}})) for i in ids]
    stored = [499, 500, 501, 1199]  # at the ends of the lookups, and past them
    Document.objects.bulk_create(Document.from_scraped(job, n, page[n]) for n in stored)
    with CaptureQueriesContext(connection) as queries:
        fresh = Document.objects.new_in(job, page + page[:10])  # and a page repeating itself
    assert [doc.scrape_id for doc in fresh] == [i for n, i in enumerate(ids) if n not in stored]
    # 1,210 ids, BATCH (500) a lookup.
    lookups = [q["sql"] for q in queries if "scrape_id" in q["sql"]]
    assert len(lookups) == -(-1210 // BATCH) == 3


def test_words_cut_ahead_index_the_documents_they_were_cut_from(key: ApiKey) -> None:
    """The page reader's words (jobs.prefetch) go to the documents they belong to, the page's
    repeats left out, and search finds each by its own words."""
    import firecrawl_api
    from jobs.models import search_index
    from jobs.search import apply_search

    def document(n: int, word: str) -> dict[str, Any]:
        return {"markdown": f"page {word}", "metadata": {"title": f"P{n}", "scrapeId": f"s{n}"}}

    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e97")
    token = Job.objects.acquire_lease(job.pk)
    assert token is not None

    def store(documents: list[dict[str, Any]], skip: int) -> None:
        payload = {"success": True, "status": "scraping", "completed": 3, "total": 9}
        page = firecrawl_api.StatusPage.from_payload({**payload, "data": documents}, skip=skip)
        words = [search_index.scraped_words(doc) for doc in page.documents]
        job.apply_page(page, token, words=words)

    store([document(0, "apple")], skip=0)
    # The first document again (a repeat, not stored), then two new ones.
    store([document(0, "apple"), document(1, "banana"), document(2, "cherry")], skip=1)
    for word, title in (("apple", "P0"), ("banana", "P1"), ("cherry", "P2")):
        found = apply_search(job.documents.all(), word)
        assert [d.title for d in found] == [title], word
