"""Stopping tracking a job never holds the request: the job is gone from every page at once, and
its rows are deleted in the background a batch per transaction (the one place a job's data is
deleted: JobQuerySet.purge)."""

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jobs.models import Document, FailedUrl, Job
from jobs.models.jobs import PURGE_BATCH
from jobs.tasks import enqueue_due_jobs, purge_job_task
from keys.models import ApiKey
from tests.conftest import make_documents, make_failed_urls, make_job


def big_job(key: ApiKey) -> Job:
    job = make_job(key, str(uuid.uuid4()), status="completed")
    make_documents(job, 450)
    make_failed_urls(job, *(f"https://x.test/{n}" for n in range(450)))
    return job


def test_stopping_tracking_deletes_nothing_in_the_request(
    alice_client: Client, key: ApiKey
) -> None:
    job = big_job(key)

    with CaptureQueriesContext(connection) as queries:
        response = alice_client.post(f"/jobs/{job.pk}/delete/")

    assert response.status_code == 302
    assert not [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert alice_client.get(f"/jobs/{job.pk}/").status_code == 404
    assert alice_client.get(f"/jobs/{job.pk}/documents/").status_code == 404
    assert str(job.remote_id) not in alice_client.get("/").content.decode()
    # Its deletion is queued (the scheduler queues it again if that task were lost).
    assert enqueue_due_jobs() == 0


def test_the_background_deletion_goes_a_batch_per_statement_and_can_pause(
    alice_client: Client, key: ApiKey
) -> None:
    job = big_job(key)
    alice_client.post(f"/jobs/{job.pk}/delete/")

    # With no time at all, one batch goes and the rest is left for the next task.
    assert Job.objects.purge(job.pk, seconds=0) is False
    assert Job.objects.filter(pk=job.pk).exists()
    with CaptureQueriesContext(connection) as queries:
        purge_job_task.call(job.pk)

    deletes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert all(sql.count("%s") + sql.count("?") <= PURGE_BATCH for sql in deletes)
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not Document.objects.filter(job_id=job.pk).exists()
    assert not FailedUrl.objects.filter(job_id=job.pk).exists()


def test_a_job_can_be_tracked_again_while_its_old_rows_are_deleted(
    alice: User, alice_client: Client, key: ApiKey, settings: Any
) -> None:
    job = big_job(key)
    alice_client.post(f"/jobs/{job.pk}/delete/")

    again, created = Job.objects.track(owner=alice, api_key=key, remote_id=str(job.remote_id))

    assert created and again.pk != job.pk
    assert again.documents_cached == 0
    purge_job_task.call(job.pk)
    assert Job.objects.get().pk == again.pk
