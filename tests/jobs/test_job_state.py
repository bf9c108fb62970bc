"""The job's state machine (jobs/models/jobs.py): each rule in its two forms, a row's and a query's,
held equal, and what each kind of failure does to a job."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import firecrawl_api
from jobs.models import Job, LeaseLost
from keys.budget import BudgetExhausted
from keys.models import ApiKey
from tests.conftest import SLOW_MACHINE, make_job

WITH_DB = settings(
    max_examples=80, suppress_health_check=[*SLOW_MACHINE, HealthCheck.function_scoped_fixture]
)
offsets = st.sampled_from([None, -3600, -1, 0, 1, 3600])

job_states = st.fixed_dictionaries(
    {
        "sync_state": st.sampled_from(Job.SyncState.values),
        "status": st.sampled_from(Job.Status.values),
        "with_key": st.booleans(),
        "next_poll": offsets.filter(lambda offset: offset is not None),
        "lease": offsets,
    }
)


@pytest.mark.django_db
@WITH_DB
@given(st.lists(job_states, min_size=1, max_size=8))
def test_the_active_and_due_queries_select_exactly_the_jobs_their_properties_name(
    key: ApiKey, states: list[dict[str, Any]]
) -> None:
    Job.objects.all().delete()
    now = timezone.now()
    for state in states:
        job = make_job(
            key,
            str(uuid.uuid4()),
            sync_state=state["sync_state"],
            status=state["status"],
            next_poll_at=now + timedelta(seconds=state["next_poll"]),
            lease_expires_at=None
            if state["lease"] is None
            else now + timedelta(seconds=state["lease"]),
        )
        if not state["with_key"]:
            Job.objects.filter(pk=job.pk).update(api_key=None)
    jobs = list(Job.objects.all())
    assert set(Job.objects.active()) == {job for job in jobs if job.is_active}
    assert set(Job.objects.active()) == {job for job in jobs if not _polling_over(job)}
    assert set(Job.objects.needing_sync(now)) == {job for job in jobs if job.needs_sync(now)}


def _polling_over(job: Job) -> bool:
    """What 'settled, paused, expired, not found, or its key gone' means, written out."""
    return job.sync_state != Job.SyncState.ACTIVE or job.api_key_id is None


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, str(uuid.uuid4()))


@pytest.fixture
def lease(job: Job) -> uuid.UUID:
    """The lease of the sync that records the failures."""
    token = Job.objects.acquire_lease(job.pk)
    assert token is not None
    return token


@pytest.mark.parametrize(
    ("error", "state"),
    [
        (firecrawl_api.AuthError(), Job.SyncState.PAUSED),
        (firecrawl_api.PaymentRequired(), Job.SyncState.PAUSED),
        (firecrawl_api.Forbidden(), Job.SyncState.PAUSED),
        (firecrawl_api.BadRequest("Firecrawl rejected the request (400)"), Job.SyncState.PAUSED),
        (firecrawl_api.ResponseTooLarge("Firecrawl sent more than 64 MB"), Job.SyncState.PAUSED),
        (firecrawl_api.NotSupported("no such route"), Job.SyncState.PAUSED),
        (firecrawl_api.UpstreamError(status_code=500), Job.SyncState.ACTIVE),
        (firecrawl_api.Unreachable("Could not reach Firecrawl"), Job.SyncState.ACTIVE),
        (firecrawl_api.InvalidResponse("Firecrawl sent an impossible total"), Job.SyncState.ACTIVE),
    ],
)
def test_each_failure_pauses_or_backs_off(
    job: Job, lease: uuid.UUID, error: Any, state: str
) -> None:
    before = timezone.now()
    message = job.record_failure(error, lease)
    job.refresh_from_db()
    assert job.sync_state == state and job.last_error == message
    if state == Job.SyncState.ACTIVE:
        # Backs off: never retried at once, and the message says when it is retried.
        assert job.next_poll_at > before and "retrying in" in message
        assert job.consecutive_failures == 1


def test_failures_back_off_longer_each_time_up_to_a_limit(job: Job, lease: uuid.UUID) -> None:
    waits = []
    for _ in range(14):
        start = timezone.now()
        job.record_failure(firecrawl_api.UpstreamError(status_code=502), lease)
        waits.append(round((job.next_poll_at - start).total_seconds()))
    assert waits == sorted(waits)
    assert waits[0] == 10 and waits[-1] == 600


def test_a_rate_limit_waits_as_long_as_firecrawl_says_within_reason(
    job: Job, lease: uuid.UUID
) -> None:
    message = job.record_failure(firecrawl_api.RateLimited(12), lease)
    assert message == "Rate limited by Firecrawl, retrying in 12 s"
    job.record_failure(firecrawl_api.RateLimited(1e308), lease)
    assert job.next_poll_at - timezone.now() <= timedelta(minutes=10)


def test_our_own_budget_is_not_counted_as_an_upstream_failure(job: Job, lease: uuid.UUID) -> None:
    job.record_failure(BudgetExhausted(5, limit=200), lease)
    job.refresh_from_db()
    assert job.consecutive_failures == 0 and job.sync_state == Job.SyncState.ACTIVE


@pytest.mark.parametrize("action", ["resume", "use_key"])
def test_a_sync_whose_job_was_resumed_or_rekeyed_meanwhile_writes_no_failure(
    job: Job, lease: uuid.UUID, key: ApiKey, action: str
) -> None:
    # The owner acts while a sync (holding `lease`) is still waiting for Firecrawl ...
    owners_copy = Job.objects.get(pk=job.pk)
    if action == "resume":
        owners_copy.resume()
    else:
        other = ApiKey.objects.create(
            owner=key.owner, name="Other", key="fc-other", api_url=key.api_url
        )
        owners_copy.use_key(other)
    # ... whose answer, to the old state, is a 401: it must not pause the job again.
    with pytest.raises(LeaseLost):
        job.record_failure(firecrawl_api.AuthError(), lease)
    with pytest.raises(LeaseLost):
        job.pause("Stale", lease)
    job.refresh_from_db()
    assert job.sync_state == Job.SyncState.ACTIVE and job.last_error == ""
    assert job.needs_sync()  # the next sync may start at once


def test_can_cancel_only_a_job_running_upstream_with_a_key(job: Job) -> None:
    assert job.can_cancel
    for state in (Job.SyncState.EXPIRED, Job.SyncState.NOT_FOUND):
        job.sync_state = state
        assert not job.can_cancel, state
    job.sync_state, job.status = Job.SyncState.ACTIVE, Job.Status.COMPLETED
    assert not job.can_cancel
    job.status, job.api_key = Job.Status.SCRAPING, None
    assert not job.can_cancel


def test_resume_makes_a_paused_or_settled_job_active_and_due_but_never_an_expired_one(
    key: ApiKey,
) -> None:
    for state in (Job.SyncState.PAUSED, Job.SyncState.SETTLED, Job.SyncState.NOT_FOUND):
        job = make_job(key, str(uuid.uuid4()), sync_state=state, errors_signature="x")
        job.resume()
        job.refresh_from_db()
        assert job.needs_sync() and job.errors_signature == ""
    expired = make_job(key, str(uuid.uuid4()), sync_state=Job.SyncState.EXPIRED)
    expired.resume()
    expired.refresh_from_db()
    assert expired.sync_state == Job.SyncState.EXPIRED


def test_tracking_an_id_twice_keeps_one_job_and_learns_its_kind(key: ApiKey) -> None:
    remote_id = str(uuid.uuid4())
    first, created = Job.objects.track(owner=key.owner, api_key=key, remote_id=remote_id)
    assert created and first.kind == Job.Kind.BATCH and not first.kind_confirmed
    again, created = Job.objects.track(
        owner=key.owner, api_key=key, remote_id=remote_id, kind=Job.Kind.CRAWL
    )
    assert not created and again.pk == first.pk
    first.refresh_from_db()
    assert first.kind == Job.Kind.CRAWL and first.kind_confirmed


def test_scraped_and_expected_never_fall_below_what_is_cached(job: Job) -> None:
    job.completed, job.total, job.documents_cached = 62, 60, 63
    assert (job.scraped, job.documents_expected) == (63, 63)
    assert (job.progress.done, job.progress.total, job.progress.percent) == (63, 63, 100)
