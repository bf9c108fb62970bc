"""A job's progress and whether it needs attention (jobs/models/jobs.py: Job.progress,
Job.attention): each rule in its two forms, a row's and a query's, held equal, and the numbers
the page, the list and the zip share."""

import uuid
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.forms.dashboard import NEEDS_ATTENTION, JobFilterForm
from jobs.models import Job
from keys.models import ApiKey
from tests.conftest import make_failed_urls, make_job

WITH_DB = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
job_states = st.fixed_dictionaries(
    {
        "sync_state": st.sampled_from(Job.SyncState.values),
        "status": st.sampled_from(Job.Status.values),
        "consecutive_failures": st.sampled_from([0, 1, 4]),
        "with_key": st.booleans(),
    }
)


@pytest.mark.django_db
@WITH_DB
@given(st.lists(job_states, min_size=1, max_size=8), st.sampled_from(Job.Status.values))
def test_the_attention_queries_select_exactly_the_jobs_their_properties_name(
    key: ApiKey, states: list[dict[str, Any]], status: str
) -> None:
    Job.objects.all().delete()
    jobs = []
    for state in states:
        with_key = state.pop("with_key")
        job = make_job(key, str(uuid.uuid4()), **state)
        if not with_key:
            Job.objects.filter(pk=job.pk).update(api_key=None)
            job.refresh_from_db()
        jobs.append(job)
    needing = {job.pk for job in jobs if job.attention is not None}
    assert set(Job.objects.needing_attention().values_list("pk", flat=True)) == needing
    # The status filter lists a job under the word the list shows for it, and only there.
    shown_as = {job.pk for job in jobs if job.status_word == Job.Status(status).label}
    assert set(Job.objects.with_status_word(status).values_list("pk", flat=True)) == shown_as


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"sync_state": Job.SyncState.NOT_FOUND}, "Not found"),
        (
            {"sync_state": Job.SyncState.PAUSED, "last_error": "Firecrawl rejected the key"},
            "Paused",
        ),
        ({"consecutive_failures": 2, "last_error": "Could not reach Firecrawl"}, "Retrying"),
        ({"status": "scraping"}, "Scraping"),
        ({}, "Pending"),
        ({"sync_state": Job.SyncState.EXPIRED, "status": "completed"}, "Completed"),
    ],
)
def test_a_job_in_trouble_has_its_own_status_word_never_pending(
    key: ApiKey, fields: dict[str, Any], word: str
) -> None:
    job = make_job(key, str(uuid.uuid4()), **fields)
    assert job.status_word == word
    if job.attention is not None:
        assert job.attention.reason == (fields.get("last_error") or job.attention.reason)


def test_a_job_whose_key_was_deleted_is_paused_with_the_reason(key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()))
    Job.objects.filter(pk=job.pk).update(api_key=None)
    job.refresh_from_db()
    assert job.attention is not None and job.attention.word == "Paused"
    assert "API key was deleted" in job.attention.reason


def test_progress_counts_failed_and_cancelled_urls_as_done(key: ApiKey) -> None:
    # Firecrawl's total (103) leaves out the 17 failed URLs of a 120-URL batch.
    job = make_job(key, str(uuid.uuid4()), status="scraping", completed=60, total=103)
    make_failed_urls(job, *(f"https://example.test/failed/{n}" for n in range(17)))
    progress = job.progress
    assert (progress.scraped, progress.failed, progress.pending) == (60, 17, 43)
    assert (progress.done, progress.total, progress.percent) == (77, 120, 64)


def test_a_batch_started_here_counts_the_urls_it_was_started_with(key: ApiKey) -> None:
    # Read before Firecrawl counted them all: the denominator is already the batch's size.
    job = make_job(key, str(uuid.uuid4()), completed=0, total=0, url_count=200)
    assert (job.progress.done, job.progress.total) == (0, 200)
    assert job.title == "Batch of 200 URLs"


def test_cancelled_urls_are_counted_apart_from_failures(key: ApiKey) -> None:
    from jobs.models import FailedUrl

    job = make_job(key, str(uuid.uuid4()), status="cancelled", completed=13, total=13)
    FailedUrl.objects.bulk_create(
        [
            FailedUrl.from_listing(
                job, f"https://example.test/{n}", error="x", cancelled=n >= 2, code=None
            )
            for n in range(189)
        ]
    )
    job.count_failures()
    assert (job.failed_count, job.cancelled_count) == (2, 187)
    progress = job.progress
    assert (progress.done, progress.total) == (202, 202)
    names = [name for name, _start, _width in progress.segments()]
    assert names == ["scraped", "failed", "cancelled"]


def test_the_bars_segments_never_run_past_its_end(key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), completed=5, total=0, documents_cached=5)
    segments = job.progress.segments()
    assert segments == [("scraped", 0.0, 100.0)]


def test_the_status_filter_has_needs_attention_and_refuses_unknown_words() -> None:
    form = JobFilterForm({"status": NEEDS_ATTENTION})
    assert form.is_valid()
    assert ("attention", "Needs attention") in form.fields["status"].choices  # type: ignore[attr-defined]
    assert not JobFilterForm({"status": "troubled"}).is_valid()
    assert not JobFilterForm({"q": "x" * 201}).is_valid()


def test_the_list_shows_the_attention_word_with_its_reason(
    alice_client: Client, key: ApiKey
) -> None:
    make_job(
        key,
        str(uuid.uuid4()),
        label="Down",
        consecutive_failures=1,
        last_error="Could not reach Firecrawl; retrying in 8 s",
    )
    html = alice_client.get("/").content.decode()
    assert 'title="Could not reach Firecrawl; retrying in 8 s"' in html
    assert ">Retrying</a>" in html and 'data-testid="status-word">Pending<' not in html
    assert (
        alice_client.get("/?status=attention").content.decode().count('data-testid="status-word"')
        == 1
    )
