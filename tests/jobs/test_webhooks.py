"""What Firecrawl's webhook events do to a job's reads (jobs.webhooks, jobs.tasks): the webhook
wakes, the poll reads. Events are delivered to the real receiver; the reads they queue are run
by django-tasks-db's worker against the simulator, which counts every status request."""

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fakecrawl import FakeFirecrawl, Fault
from fakecrawl.webhooks import payload
from jobs import start_options, starting
from jobs.models import Job
from jobs.models import jobs as job_model
from jobs.tasks import request_sync, sync_job_task
from jobs.webhooks import START_TOKEN
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_job

pytestmark = pytest.mark.sim(seed=21)


@pytest.fixture
def long_poll(settings: Any) -> None:
    # Nothing but an event can make these jobs due within a test's time.
    settings.FIRECRAWL_POLL_INTERVAL = 600


def event(key: ApiKey, job: Job, type_: str = "batch_scrape.page", success: bool = True) -> int:
    """Deliver one event about the job to the key's webhook URL; the receiver's status."""
    body = payload(
        success=success,
        type_=type_,
        job_id=str(job.remote_id),
        webhook_id=str(uuid.uuid4()),
        data=b"[]",
        error=None if success else "Timed out",
        metadata={},
    )
    url = reverse("keys:webhook", args=[key.webhook_token])
    return Client().post(url, body, content_type="application/json").status_code


def status_reads(sim: FakeFirecrawl, remote_id: str) -> int:
    return sum(1 for r in sim.requests if r.method == "GET" and r.path.endswith(remote_id))


def errors_reads(sim: FakeFirecrawl, remote_id: str) -> int:
    return sum(1 for r in sim.requests if r.path.endswith(f"{remote_id}/errors"))


def queued_syncs(job: Job) -> int:
    """Sync tasks of the job queued to run now (not those waiting for a later poll)."""
    from django_tasks_db.models import DBTaskResult

    return (
        DBTaskResult.objects.ready()
        .filter(task_path=sync_job_task.module_path, args_kwargs__args=[job.pk])
        .count()
    )


def run_worker_until_idle() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")


def synced_once(job: Job) -> Job:
    """The job after its first read, left with nothing due until its (long) poll interval."""
    request_sync(job)
    run_worker_until_idle()
    job.refresh_from_db()
    assert job.last_polled_at is not None and job.next_poll_at > timezone.now()
    return job


@pytest.fixture
def no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Woken reads are spaced a second apart; these tests count reads, not seconds.
    monkeypatch.setattr(job_model, "WAKE_SPACING", timedelta(0))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll", "no_spacing")
def test_a_page_event_reads_a_job_whose_poll_is_not_due(key: ApiKey, sim: FakeFirecrawl) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = synced_once(make_job(key, remote_id))

    assert event(key, job) == 200
    run_worker_until_idle()

    assert status_reads(sim, remote_id) == 2
    job.refresh_from_db()
    assert job.event_at is not None and job.last_polled_at > job.event_at  # type: ignore[operator]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll", "no_spacing")
def test_a_burst_of_page_events_is_one_read(key: ApiKey, sim: FakeFirecrawl) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = synced_once(make_job(key, remote_id))

    for _ in range(25):
        assert event(key, job) == 200
    assert queued_syncs(job) == 1
    run_worker_until_idle()

    assert status_reads(sim, remote_id) == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll", "no_spacing")
def test_events_during_a_read_queue_exactly_one_more_read_right_after_it(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = synced_once(make_job(key, remote_id))
    assert event(key, job) == 200  # the read that the next events arrive during
    sim.inject(Fault.slow(1.0), job_id=remote_id)
    delivered: list[int] = []

    def events_during_the_read() -> None:
        try:
            deadline = time.monotonic() + 30
            while not Job.objects.filter(pk=job.pk, lease_token__isnull=False).exists():
                assert time.monotonic() < deadline, "the read never started"
                time.sleep(0.01)
            delivered.extend(event(key, job) for _ in range(5))
        finally:
            connection.close()

    sender = threading.Thread(target=events_during_the_read)
    sender.start()
    try:
        run_worker_until_idle()  # the read, then what the events queued meanwhile
    finally:
        sender.join()

    assert delivered == [200] * 5
    # The first read, the one woken before the slow one, and one more for the five events.
    assert status_reads(sim, remote_id) == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll")
def test_page_events_wake_reads_at_most_a_spacing_apart(key: ApiKey, sim: FakeFirecrawl) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = synced_once(make_job(key, remote_id))

    assert event(key, job) == 200

    job.refresh_from_db()
    assert job.last_polled_at is not None
    assert job.next_poll_at == job.last_polled_at + job_model.WAKE_SPACING
    assert job.sync_queued_for == job.next_poll_at


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll")
def test_a_started_or_completed_event_reads_at_once(key: ApiKey, sim: FakeFirecrawl) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = synced_once(make_job(key, remote_id))

    before = timezone.now()
    assert event(key, job, "batch_scrape.completed") == 200

    job.refresh_from_db()
    assert job.next_poll_at <= timezone.now()
    assert job.next_poll_at >= before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll", "no_spacing")
def test_a_failed_page_event_makes_the_next_read_include_errors(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    # A job whose counts do not move meanwhile: /errors is read again only if something says
    # a page failed.
    remote_id = sim.create_batch(ALICE_KEY, n=10, rate=0.0001)
    job = synced_once(make_job(key, remote_id))
    errors_before = errors_reads(sim, remote_id)

    assert event(key, job, success=True) == 200
    run_worker_until_idle()
    assert (status_reads(sim, remote_id), errors_reads(sim, remote_id)) == (2, errors_before)

    assert event(key, job, success=False) == 200
    run_worker_until_idle()
    assert (status_reads(sim, remote_id), errors_reads(sim, remote_id)) == (3, errors_before + 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll")
def test_a_completed_event_reads_the_end_and_the_job_settles_as_usual(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=300, rate=20.0)
    job = synced_once(make_job(key, remote_id))
    sim.complete(remote_id)

    assert event(key, job, "batch_scrape.completed") == 200
    run_worker_until_idle()

    job.refresh_from_db()
    assert (job.status, job.sync_state, job.documents_cached) == ("completed", "settled", 300)
    assert job.is_complete


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("long_poll")
def test_a_job_backing_off_after_failures_is_not_woken(key: ApiKey, sim: FakeFirecrawl) -> None:
    later = timezone.now() + timedelta(minutes=5)
    job = make_job(
        key, sim.create_batch(ALICE_KEY, n=10), consecutive_failures=3, next_poll_at=later
    )

    assert event(key, job) == 200

    job.refresh_from_db()
    assert (job.next_poll_at, job.sync_queued_for) == (later, None)


@pytest.mark.django_db(transaction=True)
def test_settled_and_paused_jobs_are_not_woken(key: ApiKey, sim: FakeFirecrawl) -> None:
    settled = make_job(key, sim.create_batch(ALICE_KEY, n=1), sync_state=Job.SyncState.SETTLED)
    paused = make_job(key, sim.create_batch(ALICE_KEY, n=1), sync_state=Job.SyncState.PAUSED)

    for job in (settled, paused):
        assert event(key, job, "batch_scrape.completed") == 200
        job.refresh_from_db()
        assert job.sync_queued_for is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_spacing")
def test_while_events_keep_coming_the_poll_is_only_a_safety_net(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 5
    settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL = 120
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = make_job(key, remote_id)

    assert event(key, job) == 200
    run_worker_until_idle()

    job.refresh_from_db()
    assert job.next_poll_at - job.last_polled_at >= timedelta(seconds=119)  # type: ignore[operator]
    # Nothing is queued ahead: the slot stays free for the next event, and the worker's
    # scheduler queues the safety net when it falls due.
    assert job.sync_queued_for is None


def test_a_job_whose_events_stopped_is_polled_as_usual(settings: Any) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 5
    settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL = 60
    now = timezone.now()
    job = Job(created_at=now, event_at=now - timedelta(seconds=30))
    assert job.poll_interval(now) == timedelta(seconds=60)

    job.event_at = now - timedelta(seconds=61)
    assert job.poll_interval(now) == timedelta(seconds=5)
    job.event_at = None
    assert job.poll_interval(now) == timedelta(seconds=5)


def test_the_safety_net_never_polls_more_often_than_an_old_job_is_polled(settings: Any) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 10
    settings.FIRECRAWL_WEBHOOK_POLL_INTERVAL = 30
    now = timezone.now()
    old = Job(created_at=now - timedelta(hours=2), event_at=now)

    assert old.poll_interval(now) == timedelta(seconds=120)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_spacing")
def test_a_stale_sync_queued_for_later_does_not_hold_back_a_wake(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_POLL_INTERVAL = 600
    remote_id = sim.create_batch(ALICE_KEY, n=100_000, rate=20.0)
    job = make_job(key, remote_id)
    request_sync(job)
    run_worker_until_idle()
    job.refresh_from_db()
    # Polled without events: its next poll is queued for ten minutes from now.
    assert job.sync_queued_for == job.next_poll_at > timezone.now() + timedelta(minutes=9)

    assert event(key, job) == 200
    run_worker_until_idle()

    assert status_reads(sim, remote_id) == 2
    # The task queued for later finds nothing due when it runs, and ends.
    Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now() + timedelta(minutes=1))
    sync_job_task.call(job.pk)
    assert status_reads(sim, remote_id) == 2


# Jobs started here register the webhook -----------------------------------------------------------


def start_batch(key: ApiKey, owner: Any) -> tuple[starting.StartOutcome, uuid.UUID]:
    plan = starting.StartPlan(
        kind=Job.Kind.BATCH,
        api_key=key,
        urls=["https://example.test/a", "https://example.test/b"],
        options=start_options.body(
            Job.Kind.BATCH, key.api_version, {"formats": ["markdown"], "only_main_content": True}
        ),
    )
    token = uuid.uuid4()
    return starting.start(owner, plan, token=token, idempotency_key=uuid.uuid4()), token


def last_start_body(sim: FakeFirecrawl) -> dict[str, Any]:
    posts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/batch/scrape")]
    body: dict[str, Any] = posts[-1].payload
    return body


@pytest.mark.django_db(transaction=True)
def test_a_job_started_here_registers_the_keys_webhook_with_its_start_token(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://dash.example.com"
    key.save_webhook_settings(secret="whsec-x", enabled=True)

    outcome, token = start_batch(key, key.owner)

    assert outcome.job is not None
    assert last_start_body(sim)["webhook"] == {
        "url": f"https://dash.example.com/keys/webhook/{key.webhook_token}/",
        "metadata": {START_TOKEN: str(token)},
        "events": ["started", "page", "completed", "failed"],
    }
    # What the job keeps for Run again and Retry is its own options, not the webhook.
    assert "webhook" not in (outcome.job.start_options or {})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("public_url", "enabled"), [("", True), ("https://dash.example", False)])
def test_without_public_url_or_with_the_switch_off_no_webhook_is_registered(
    key: ApiKey, sim: FakeFirecrawl, settings: Any, public_url: str, enabled: bool
) -> None:
    settings.PUBLIC_URL = public_url
    key.save_webhook_settings(secret=None, enabled=enabled)

    outcome, _ = start_batch(key, key.owner)

    assert outcome.job is not None
    assert "webhook" not in last_start_body(sim)
