"""`manage.py demo`'s set-up for the job loop: crawls tracked beside the batches, one crawl left
for Import recent jobs to find, and a batch started from the Start page on the simulator."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fakecrawl import FakeFirecrawl
from fakecrawl.management.commands import demo
from jobs.models import Job


@pytest.fixture
def demo_sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=0, settle_seconds=2.0, post_rate=demo.POST_RATE) as sim:
        sim.add_key(demo.DEMO_KEY, team="demo", credits=demo.DEMO_CREDITS)
        yield sim


@pytest.fixture
def demo_client(db: Any, demo_sim: FakeFirecrawl) -> Client:
    demo.Command().set_up(demo_sim, demo_sim.url)
    client = Client()
    client.force_login(User.objects.get(username=demo.USERNAME))
    return client


def test_the_demo_tracks_crawls_beside_the_batches(demo_client: Client) -> None:
    crawls = Job.objects.filter(kind=Job.Kind.CRAWL, kind_confirmed=True)
    assert sorted(crawls.values_list("target_url", flat=True)) == [
        "https://changelog.example.test",
        "https://handbook.example.test",
    ]
    assert Job.objects.filter(kind=Job.Kind.BATCH).count() == len(demo.BATCHES)


def test_the_demo_leaves_a_crawl_for_import_recent_jobs(demo_client: Client) -> None:
    key_pk = Job.objects.values_list("api_key", flat=True)[0]
    page = demo_client.get(f"/keys/{key_pk}/import/").content.decode()
    assert page.count('data-testid="listed-job"') == 1
    assert "https://status.example.test" in page


def test_a_batch_can_be_started_on_the_demos_simulator(
    demo_client: Client, demo_sim: FakeFirecrawl
) -> None:
    confirmation = demo_client.post(
        "/start/batch/",
        {"urls": "https://example.com/\nhttps://example.org/", "formats": ["markdown"]},
    )
    payload = re.search(r'name="payload" value="([^"]+)"', confirmation.content.decode())
    assert payload, confirmation.content.decode()[:2000]

    response = demo_client.post("/start/confirm/", {"payload": payload.group(1)})

    job = Job.objects.get(target_url="https://example.com/")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert demo_sim.count_requests("POST", "/batch/scrape") == 1


def test_the_demo_has_a_batch_whose_pages_arrive_by_webhook(
    db: Any, demo_sim: FakeFirecrawl, settings: Any
) -> None:
    settings.PUBLIC_URL = "http://127.0.0.1:8000"
    demo.Command().set_up(demo_sim, demo_sim.url)

    job = Job.objects.get(label="Price list (pages arrive by webhook)")
    assert job.api_key is not None
    webhook = demo_sim.job(str(job.remote_id)).webhook
    assert webhook is not None and webhook.url == job.api_key.webhook_url
    assert job.api_key.webhook_secret == demo.DEMO_WEBHOOK_SECRET
