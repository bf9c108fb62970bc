"""An id that exists nowhere: the batch route and then the crawl route answer 404. What the
page says of it is never a guess shown as fact: no kind, and no Cancel for a job never found."""

import uuid
from datetime import timedelta

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job
from jobs.tasks import sync_job_task
from keys.models import ApiKey
from tests.conftest import ALICE_KEY


def test_an_id_found_on_neither_route_keeps_its_kind_unconfirmed_and_offers_no_cancel(
    alice: User, alice_client: Client, key: ApiKey
) -> None:
    job, _ = Job.objects.track(owner=alice, api_key=key, remote_id=str(uuid.uuid4()))
    # Past Firecrawl's creation race: a 404 now means the id is unknown.
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    sync_job_task.call(job.pk)

    job.refresh_from_db()
    assert job.sync_state == Job.SyncState.NOT_FOUND
    assert not job.kind_confirmed
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Not found on Firecrawl" in html
    assert ">Crawl<" not in html and "Batch scrape or crawl" in html
    assert "Cancel job" not in html
    # Nor can the cancel be posted.
    alice_client.post(f"/jobs/{job.pk}/cancel/")
    assert "Cancel" not in alice_client.get(f"/jobs/{job.pk}/").content.decode()


def test_a_crawl_found_on_the_crawl_route_after_the_batch_route_said_404_is_a_crawl(
    alice: User, key: ApiKey, sim: FakeFirecrawl
) -> None:
    crawl = sim.create_crawl(ALICE_KEY, "https://docs.example.com", limit=3)
    job, _ = Job.objects.track(owner=alice, api_key=key, remote_id=crawl)
    # A server that checks the kind: the crawl's id is unknown on the batch route.
    sim.inject(Fault.not_found(), count=1, path_contains=f"/batch/scrape/{crawl}")

    sync_job_task.call(job.pk)

    job.refresh_from_db()
    assert (job.kind, job.kind_confirmed) == ("crawl", True)
