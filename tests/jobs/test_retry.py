"""Retrying a job's failed URLs: the button on the job page, a new batch of exactly those URLs
(with the job's own options when it was started here), and the two jobs linked both ways."""

import json
import re
import uuid
from html import unescape
from typing import Any

import pytest
from django.test import Client

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.models import ApiKey
from tests.conftest import make_failed_urls, make_job

pytestmark = pytest.mark.key(api_version="v2")


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def payload_of(response: Any) -> str:
    match = re.search(r'name="payload" value="([^"]+)"', response.content.decode())
    assert match, text_of(response)[:2000]
    return match.group(1)


def started_body(sim: FakeFirecrawl) -> dict[str, Any]:
    [start] = [r for r in sim.requests if r.method == "POST"]
    body: dict[str, Any] = json.loads(start.body)
    return body


FAILED = ["https://shop.example.com/gone", "https://shop.example.com/slow"]


def failed_job(key: ApiKey, **fields: Any) -> Job:
    job = make_job(key, str(uuid.uuid4()), status="completed", label="Shop", **fields)
    make_failed_urls(job, *FAILED, robots_blocked=("https://shop.example.com/private",))
    # The same URL reported twice (two attempts): retried once.
    make_failed_urls(job, FAILED[0], remote_id="second-attempt")
    return job


def test_the_job_page_offers_to_retry_its_failed_urls(alice_client: Client, key: ApiKey) -> None:
    job = failed_job(key)
    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    # N is the failed count, robots-blocked URLs left out.
    assert f'action="/jobs/{job.pk}/retry/"' in html
    assert ">Retry 3 failed URLs</button>" in html


def test_no_retry_is_offered_without_failures_or_without_a_key(
    alice_client: Client, key: ApiKey
) -> None:
    blocked_only = make_job(key, str(uuid.uuid4()))
    make_failed_urls(blocked_only, robots_blocked=("https://shop.example.com/private",))
    assert (
        "failed URLs</button>" not in alice_client.get(f"/jobs/{blocked_only.pk}/").content.decode()
    )
    orphan = failed_job(key)
    Job.objects.filter(pk=orphan.pk).update(api_key=None)
    assert "failed URLs</button>" not in alice_client.get(f"/jobs/{orphan.pk}/").content.decode()
    response = alice_client.get(f"/jobs/{blocked_only.pk}/retry/", follow=True)
    assert "This job has no failed URLs to retry." in text_of(response)


def test_a_job_tracked_by_id_is_retried_from_the_start_form_filled_in(
    alice_client: Client, key: ApiKey
) -> None:
    job = failed_job(key)

    response = alice_client.get(f"/jobs/{job.pk}/retry/")

    html = response.content.decode()
    assert "Start a batch" in html and "Start a crawl" not in html
    assert "\n".join(FAILED) in html  # each failed URL once, robots-blocked ones left out
    assert "private" not in html
    assert f'name="retry_of" value="{job.pk}"' in html
    assert 'value="Retry of Shop"' in html
    assert "Retrying the failed URLs of Shop" in text_of(response)


def test_a_job_started_here_goes_straight_to_confirmation_with_its_options(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    options = {"formats": ["html", "links"], "onlyMainContent": False, "ignoreInvalidURLs": True}
    job = failed_job(key, start_options=options, target_url="https://shop.example.com/")

    confirmation = alice_client.get(f"/jobs/{job.pk}/retry/")

    page = text_of(confirmation)
    assert "Confirm the batch" in page and "2 URLs" in page and "Retry of Shop" in page
    response = alice_client.post("/start/confirm/", {"payload": payload_of(confirmation)})

    retry = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == f"/jobs/{retry.pk}/"
    assert started_body(sim) == {**options, "urls": FAILED}
    assert retry.retry_of == job and retry.kind == "batch" and retry.label == "Retry of Shop"
    # Linked both ways.
    retry_page = alice_client.get(f"/jobs/{retry.pk}/").content.decode()
    assert f'<a href="/jobs/{job.pk}/" data-testid="retry-of">Retry of Shop</a>' in retry_page
    original = text_of(alice_client.get(f"/jobs/{job.pk}/"))
    assert "Retried in Retry of Shop" in original


def test_a_crawl_started_here_is_retried_with_its_scrape_options(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    options = {
        "limit": 50,
        "scrapeOptions": {"formats": ["markdown", "screenshot"], "onlyMainContent": True},
    }
    job = failed_job(key, kind="crawl", start_options=options)
    confirmation = alice_client.get(f"/jobs/{job.pk}/retry/")

    alice_client.post("/start/confirm/", {"payload": payload_of(confirmation)})

    assert started_body(sim) == {
        "formats": ["markdown", "screenshot"],
        "onlyMainContent": True,
        "ignoreInvalidURLs": True,
        "urls": FAILED,
    }
    assert Job.objects.get(retry_of=job).kind == "batch"


def test_another_users_job_cannot_be_retried(
    bob_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = failed_job(key)
    assert bob_client.get(f"/jobs/{job.pk}/retry/").status_code == 404
