"""Which job rows are events (notifications/events.py): each once per channel however often the
scan runs, only after the owner turned them on, never for a muted job, and each kind of
attention with its own reason."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import firecrawl_api
from fakecrawl.webhooks import payload
from jobs.models import Job
from jobs.tasks import BACKGROUND_PRIORITY, SYNC_PRIORITY
from keys.models import ApiKey
from notifications import events
from notifications.models import Channel, Kind, Notification, Reason
from notifications.tasks import enqueue_due_notifications
from tests.conftest import make_job
from tests.notifications.conftest import SILENCING, settled_job, subscribe

pytestmark = pytest.mark.django_db


def lease(job: Job) -> Any:
    """The job's lease, as the sync holds it when it records a failure (taken if free)."""
    token = Job.objects.acquire_lease(job.pk)
    if token is not None:
        job.lease_token = token
    return job.lease_token


def reasons(job: Job) -> list[str]:
    return sorted(Notification.objects.filter(job=job).values_list("reason", flat=True))


def test_a_settled_job_is_one_finished_event_however_often_the_scan_runs(
    alice: Any, key: ApiKey
) -> None:
    subscribe(alice)
    job = settled_job(key)
    for _ in range(5):
        events.detect()
    found = Notification.objects.get(job=job)
    assert (found.channel, found.kind, found.event_key) == (
        Channel.EMAIL,
        Kind.FINISHED,
        "finished",
    )
    assert found.occurred_at == job.settled_at


def test_the_unique_constraint_refuses_a_second_row_for_one_event(alice: Any, key: ApiKey) -> None:
    subscribe(alice)
    job = settled_job(key)
    events.detect()
    first = Notification.objects.get(job=job)
    with pytest.raises(IntegrityError):
        Notification.objects.create(
            owner=alice, job=job, channel=first.channel, kind=first.kind,
            event_key=first.event_key, occurred_at=first.occurred_at,
        )  # fmt: skip


def test_each_channel_gets_its_own_event(alice: Any, key: ApiKey) -> None:
    subscribe(alice, webhook_url="https://hooks.example.test/x")
    job = settled_job(key)
    events.detect()
    events.detect()
    channels = Notification.objects.filter(job=job).values_list("channel", flat=True)
    assert sorted(channels) == [Channel.EMAIL, Channel.WEBHOOK]


def test_jobs_that_settled_before_notifications_were_turned_on_are_not_announced(
    alice: Any, key: ApiKey
) -> None:
    old = settled_job(key, settled_at=timezone.now() - timedelta(hours=2))
    subscribe(alice)  # turned on an hour ago
    new = settled_job(key)
    events.detect()
    assert not Notification.objects.filter(job=old).exists()
    assert Notification.objects.filter(job=new).exists()


def test_nothing_is_recorded_for_a_user_who_wants_nothing(alice: Any, key: ApiKey) -> None:
    subscribe(alice, email_finished=False, email_attention=False)
    settled_job(key)
    assert events.detect() == 0
    assert not Notification.objects.exists()


def test_email_needs_an_address(alice: Any, key: ApiKey) -> None:
    subscribe(alice, email="")
    settled_job(key)
    events.detect()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("silenced", SILENCING)
def test_a_muted_job_or_one_no_longer_tracked_is_not_announced(
    alice: Any, key: ApiKey, silenced: str
) -> None:
    subscribe(alice)
    job = settled_job(key)
    SILENCING[silenced](job)
    events.detect()
    assert not Notification.objects.exists()


def test_another_users_settings_do_not_announce_alices_jobs(
    alice: Any, key: ApiKey, bob: Any
) -> None:
    subscribe(bob, email="bob@example.test")
    settled_job(key)
    events.detect()
    assert not Notification.objects.exists()


def test_a_rejected_key_pauses_the_job_and_that_needs_attention_once(
    alice: Any, key: ApiKey
) -> None:
    subscribe(alice)
    job = make_job(key, str(uuid.uuid4()), last_polled_at=timezone.now())
    job.record_failure(firecrawl_api.AuthError(status_code=401), lease(job))
    assert job.sync_state == Job.SyncState.PAUSED and job.trouble_since is not None
    events.detect()
    events.detect()
    assert reasons(job) == [Reason.PAUSED]


def test_a_job_paused_again_after_a_refresh_is_news_again(alice: Any, key: ApiKey) -> None:
    subscribe(alice)
    job = make_job(key, str(uuid.uuid4()), last_polled_at=timezone.now())
    job.pause("Firecrawl answered more than the dashboard reads at once", lease(job))
    events.detect()
    job.resume()  # the user pressed Refresh now
    assert job.trouble_since is None
    events.detect()
    job.pause("Firecrawl answered more than the dashboard reads at once", lease(job))
    events.detect()
    assert reasons(job) == [Reason.PAUSED, Reason.PAUSED]


def test_an_id_firecrawl_never_knew_needs_attention(alice: Any, key: ApiKey) -> None:
    subscribe(alice)
    job = make_job(key, str(uuid.uuid4()))
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    job.refresh_from_db()
    job.record_failure(firecrawl_api.NotFound(status_code=404), lease(job))
    assert job.sync_state == Job.SyncState.NOT_FOUND
    events.detect()
    assert reasons(job) == [Reason.NOT_FOUND]


def test_a_job_failing_needs_attention_only_after_the_set_number_of_failures(
    alice: Any, key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "FAILING_AFTER", 3)
    subscribe(alice)
    job = make_job(key, str(uuid.uuid4()), last_polled_at=timezone.now())
    for _ in range(2):
        job.record_failure(firecrawl_api.UpstreamError(status_code=502), lease(job))
        events.detect()
    assert reasons(job) == []
    job.record_failure(firecrawl_api.UpstreamError(status_code=502), lease(job))
    events.detect()
    job.record_failure(firecrawl_api.UpstreamError(status_code=502), lease(job))
    events.detect()
    assert reasons(job) == [Reason.FAILING]


def test_a_good_read_ends_the_trouble(alice: Any, key: ApiKey) -> None:
    job = make_job(key, str(uuid.uuid4()), last_polled_at=timezone.now())
    job.record_failure(firecrawl_api.UpstreamError(status_code=502), lease(job))
    assert job.trouble_since is not None
    job.conclude(lease=Job.objects.acquire_lease(job.pk))  # type: ignore[arg-type]
    job.refresh_from_db()
    assert job.trouble_since is None


def test_a_job_expiring_uncached_is_announced_within_the_warning_time(
    alice: Any, key: ApiKey, settings: Any
) -> None:
    settings.NOTIFY_EXPIRY_WARNING_SECONDS = 7200
    subscribe(alice)
    now = timezone.now()
    soon = make_job(
        key, str(uuid.uuid4()), expires_at=now + timedelta(minutes=110),
        total=100, completed=100, documents_cached=40, sync_state=Job.SyncState.PAUSED,
    )  # fmt: skip
    later = make_job(
        key, str(uuid.uuid4()), expires_at=now + timedelta(hours=3),
        total=100, completed=100, documents_cached=40,
    )  # fmt: skip
    cached = make_job(
        key, str(uuid.uuid4()), expires_at=now + timedelta(minutes=30),
        status=Job.Status.COMPLETED, total=100, completed=100, documents_cached=100,
        fully_cached=True,
    )  # fmt: skip
    events.detect()
    events.detect()
    assert reasons(soon) == [Reason.EXPIRING]
    assert reasons(later) == [] and reasons(cached) == []
    # Its turn comes as time passes: the same scan an hour later.
    events.detect(now + timedelta(hours=1, minutes=1))
    assert reasons(later) == [Reason.EXPIRING]


def test_a_job_that_expired_with_documents_missing_needs_attention(alice: Any, key: ApiKey) -> None:
    subscribe(alice)
    job = make_job(
        key, str(uuid.uuid4()), last_polled_at=timezone.now(), total=100, completed=100,
        documents_cached=60, next_skip=60,
    )  # fmt: skip
    job.record_failure(firecrawl_api.NotFound(status_code=404), lease(job))
    assert job.sync_state == Job.SyncState.EXPIRED
    events.detect()
    assert reasons(job) == [Reason.EXPIRED]


def test_jobs_found_by_the_automatic_import_are_new_jobs_and_tracked_ones_are_not(
    alice: Any, key: ApiKey
) -> None:
    subscribe(alice, email_found=True)
    found, _ = Job.objects.track(
        owner=alice, api_key=key, remote_id=str(uuid.uuid4()), origin=Job.Origin.IMPORTED
    )
    by_hand, _ = Job.objects.track(owner=alice, api_key=key, remote_id=str(uuid.uuid4()))
    events.detect()
    assert list(Notification.objects.values_list("job", "kind")) == [(found.pk, Kind.FOUND)]
    assert by_hand.origin == Job.Origin.TRACKED


def test_a_job_announced_by_firecrawls_webhook_is_a_new_job(alice: Any, key: ApiKey) -> None:
    subscribe(alice, email_found=True)
    job_id = str(uuid.uuid4())
    body = payload(
        success=True, type_="batch_scrape.started", job_id=job_id, webhook_id=str(uuid.uuid4()),
        data=b"[]", error=None, metadata={},
    )  # fmt: skip
    # Delivered to the key's webhook URL as Firecrawl does: no session, no CSRF token.
    url = reverse("keys:webhook", args=[key.webhook_token])
    response = Client(enforce_csrf_checks=True).post(url, body, content_type="application/json")
    assert response.status_code == 200
    job = Job.objects.get(remote_id=job_id)
    assert job.origin == Job.Origin.WEBHOOK
    events.detect()
    assert list(Notification.objects.values_list("job", "kind")) == [(job.pk, Kind.FOUND)]


def test_a_job_started_here_that_the_import_saw_first_is_not_new(alice: Any, key: ApiKey) -> None:
    remote_id = str(uuid.uuid4())
    Job.objects.track(owner=alice, api_key=key, remote_id=remote_id, origin=Job.Origin.IMPORTED)
    job, created = Job.objects.track(
        owner=alice, api_key=key, remote_id=remote_id, start_options={"formats": []},
        origin=Job.Origin.STARTED,
    )  # fmt: skip
    assert not created and job.origin == Job.Origin.STARTED
    job.refresh_from_db()
    assert job.origin == Job.Origin.STARTED


def test_settling_records_when_the_job_settled(key: ApiKey, settings: Any) -> None:
    job = make_job(
        key, str(uuid.uuid4()), status=Job.Status.COMPLETED, fully_cached=True,
        last_polled_at=timezone.now(),
    )  # fmt: skip
    job.conclude(lease=Job.objects.acquire_lease(job.pk))  # type: ignore[arg-type]
    job.refresh_from_db()
    assert job.sync_state == Job.SyncState.SETTLED and job.settled_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_scanning_at_once_record_each_event_once(
    alice: Any, key: ApiKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from django.db import connection

    subscribe(alice)
    jobs = [settled_job(key) for _ in range(5)]
    # Both scans have read "not recorded yet" before either writes: only the constraint is left
    # to keep one row per event.
    both_read = threading.Barrier(2, timeout=30)
    insert = Notification.objects.bulk_create

    def bulk_create_after_both_read(rows: Any, **kwargs: Any) -> Any:
        if rows:
            both_read.wait()
        return insert(rows, **kwargs)

    monkeypatch.setattr(Notification.objects, "bulk_create", bulk_create_after_both_read)
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            events.detect()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    for job in jobs:
        assert Notification.objects.filter(job=job).count() == 1


def test_a_send_is_queued_behind_every_sync(alice: Any, key: ApiKey) -> None:
    subscribe(alice)
    settled_job(key)
    assert enqueue_due_notifications() == 1
    queued = DBTaskResult.objects.get(task_path__endswith="send_message_task")
    assert queued.priority == BACKGROUND_PRIORITY < SYNC_PRIORITY
