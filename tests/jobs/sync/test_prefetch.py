"""Reading the next status page ahead (jobs/prefetch.py): used only when it is the page asked
for and arrived whole; any other outcome falls back to the sync's own request."""

from typing import Any

import pytest
from django.db import connection

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job, search_index
from jobs.prefetch import PageReader
from keys.budget import RequestBudget
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job


@pytest.fixture
def job(alice: Any, sim: FakeFirecrawl) -> Job:
    key = ApiKey.objects.create(owner=alice, name="Reader", key=KEY, api_url=sim.url)
    return make_job(key, sim.create_batch(KEY, n=250, state="completed"))


def status_reads(sim: FakeFirecrawl, job: Job) -> list[str | None]:
    return [r.query.get("skip") for r in sim.requests if r.path.endswith(str(job.remote_id))]


def test_the_page_read_ahead_is_handed_over_when_it_is_the_one_asked_for(
    job: Job, sim: FakeFirecrawl
) -> None:
    sim.clear_requests()
    with PageReader(job, RequestBudget(job.api_key_id or 0)) as reader:
        reader.start(100)
        ahead = reader.take(100)
    assert ahead is not None and ahead.page.skip == 100 and len(ahead.page.documents) == 100
    assert status_reads(sim, job) == ["100"]


def test_the_reader_cuts_the_pages_search_words_where_the_database_needs_them(
    job: Job, sim: FakeFirecrawl
) -> None:
    with PageReader(job, RequestBudget(job.api_key_id or 0)) as reader:
        reader.start(0)
        ahead = reader.take(0)
    assert ahead is not None
    if connection.vendor == "postgresql":
        expected = [search_index.scraped_words(doc) for doc in ahead.page.documents]
        assert ahead.words == expected and all(expected)
    else:  # SQLite's insert trigger indexes: nothing to cut
        assert ahead.words is None


def test_a_page_read_for_another_skip_is_not_used(job: Job, sim: FakeFirecrawl) -> None:
    with PageReader(job, RequestBudget(job.api_key_id or 0)) as reader:
        reader.start(100)
        assert reader.take(200) is None
        # Taken (and dropped) once: asking again does not hand over the stale page.
        assert reader.take(100) is None


def test_a_failed_read_ahead_falls_back_to_the_syncs_own_request(
    job: Job, sim: FakeFirecrawl
) -> None:
    sim.inject(Fault.server_error(502), job_id=str(job.remote_id), count=1)
    with PageReader(job, RequestBudget(job.api_key_id or 0)) as reader:
        reader.start(100)
        assert reader.take(100) is None  # a single attempt: no retry in the thread


def test_nothing_is_read_ahead_when_the_budget_is_spent(
    job: Job, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 1
    budget = RequestBudget(job.api_key_id or 0)
    budget.spend()
    sim.clear_requests()
    with PageReader(job, budget) as reader:
        reader.start(100)
        assert reader.take(100) is None
    assert status_reads(sim, job) == []


def test_taking_before_anything_was_started_gives_nothing(job: Job) -> None:
    with PageReader(job, RequestBudget(job.api_key_id or 0)) as reader:
        assert reader.take(0) is None
