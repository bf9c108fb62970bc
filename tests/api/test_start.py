"""Starting jobs through the API: the Start page's forms and jobs.starting, a dry run for the
confirmation, one job per Idempotency-Key however often it is sent, and every refusal as JSON."""

import json
import threading
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import Job, StartRequest
from keys.models import ApiKey
from tests.api.conftest import api_client, post_json, token_for
from tests.conftest import make_failed_urls, make_job

URLS = ["https://shop.example.com/a", "https://shop.example.com/b", "https://shop.example.com/c"]

pytestmark = [pytest.mark.sim(seed=23, credits=1000), pytest.mark.key(api_version="v2")]


def posts(sim: FakeFirecrawl) -> list[Any]:
    return [r for r in sim.requests if r.method == "POST"]


def start_batch(client: Client, urls: list[str] = URLS, idem: str = "", **body: Any) -> Any:
    headers = {"Idempotency-Key": idem} if idem else {}
    return post_json(client, "/api/v1/start/batch", {"urls": urls, **body}, **headers)


def test_a_dry_run_counts_and_estimates_and_starts_nothing(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = start_batch(alice_api, [*URLS, URLS[0]], dry_run=True)

    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "kind": "batch",
        "urls": 3,
        "duplicates": 1,
        "estimated_credits": 3,
        "remaining_credits": 1000,
        "credits_note": "",
    }
    assert posts(sim) == [] and not Job.objects.exists()


def test_a_batch_starts_and_is_tracked_with_its_options(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = start_batch(alice_api, label="Prices", formats=["markdown", "links"])

    assert response.status_code == 201
    job = Job.objects.get()
    assert response["Location"] == f"/api/v1/jobs/{job.pk}"
    body = response.json()
    assert (body["id"], body["kind"], body["label"]) == (job.pk, "batch", "Prices")
    assert body["firecrawl_id"] == str(job.remote_id)
    assert job.start_options == {
        "formats": ["markdown", "links"],
        "onlyMainContent": True,
        "ignoreInvalidURLs": True,
    }
    (sent,) = posts(sim)
    assert sent.path.endswith("/batch/scrape")


def test_a_crawl_starts_with_its_options(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    body = {
        "url": "https://docs.example.com",
        "limit": 20,
        "max_depth": 2,
        "include_paths": ["^/guide/.*"],
        "only_main_content": False,
    }
    response = post_json(alice_api, "/api/v1/start/crawl", body)

    assert response.status_code == 201, response.content
    job = Job.objects.get()
    assert (job.kind, job.target_url) == ("crawl", "https://docs.example.com")
    assert job.start_options == {
        "limit": 20,
        "maxDiscoveryDepth": 2,
        "includePaths": ["^/guide/.*"],
        "scrapeOptions": {"formats": ["markdown"], "onlyMainContent": False},
    }


def test_a_batch_starts_with_the_start_pages_advanced_options(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    response = start_batch(
        alice_api,
        include_tags=["article", ".content"],
        exclude_tags=["nav"],
        wait_for=1000,
        timeout=30_000,
        mobile=True,
        keep_ads=True,
        proxy="enhanced",
        country="de",
        languages=["de-DE", "en"],
        headers={"Cookie": "session=1", "X-Team": "prices"},
        max_concurrency=5,
    )

    assert response.status_code == 201, response.content
    expected = {
        "formats": ["markdown"],
        "onlyMainContent": True,
        "includeTags": ["article", ".content"],
        "excludeTags": ["nav"],
        "waitFor": 1000,
        "timeout": 30_000,
        "mobile": True,
        "blockAds": False,
        "proxy": "enhanced",
        "location": {"country": "DE", "languages": ["de-DE", "en"]},
        "headers": {"Cookie": "session=1", "X-Team": "prices"},
        "maxConcurrency": 5,
        "ignoreInvalidURLs": True,
    }
    assert Job.objects.get().start_options == expected
    (sent,) = posts(sim)
    assert {name: sent.payload[name] for name in expected} == expected


def test_a_crawl_starts_with_the_start_pages_crawl_options(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    body = {
        "url": "https://docs.example.com",
        "crawl_entire_domain": True,
        "allow_subdomains": True,
        "allow_external_links": True,
        "regex_on_full_url": True,
        "sitemap": "skip",
        "ignore_query_parameters": True,
        "delay": 1.5,
        "wait_for": 500,
    }
    response = post_json(alice_api, "/api/v1/start/crawl", body)

    assert response.status_code == 201, response.content
    assert Job.objects.get().start_options == {
        "limit": 100,
        "crawlEntireDomain": True,
        "allowSubdomains": True,
        "allowExternalLinks": True,
        "regexOnFullURL": True,
        "sitemap": "skip",
        "ignoreQueryParameters": True,
        "delay": 1.5,
        "scrapeOptions": {"formats": ["markdown"], "onlyMainContent": True, "waitFor": 500},
    }


def test_an_option_the_start_page_refuses_is_a_400_and_starts_nothing(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"wait_for": 20_000, "timeout": 30_000}, "half"),
        ({"country": "ZZ"}, "two-letter ISO 3166-1 code"),
        ({"headers": {"X-A": "1\nX-Injected: 2"}}, "headers: one item per entry"),
        ({"headers": {"Bad Name": "1"}}, "not “Name: value”"),
        ({"include_tags": ["main\nnav"]}, "include_tags: one item per entry"),
        ({"languages": ["not a language"]}, "Languages"),
        ({"proxy": "stealth"}, "proxy"),
        ({"timeout": 10}, "timeout"),
        ({"mobile": "yes"}, "mobile"),
        ({"include_tags": ["a"] * 101}, "include_tags"),
    ]
    for body, said in cases:
        response = start_batch(alice_api, **body)
        assert response.status_code == 400, body
        assert said in response.json()["message"], (body, response.json())
    crawl = post_json(alice_api, "/api/v1/start/crawl", {"url": URLS[0], "delay": 61})
    assert crawl.status_code == 400 and "delay" in crawl.json()["message"]
    assert posts(sim) == [] and not Job.objects.exists()


def test_a_start_the_form_refuses_is_a_400_with_its_message(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    for body, said in [
        ({"urls": ["not a url"]}, "is not a web address"),
        ({"urls": []}, "urls"),
        ({"urls": ["https://a.example.com/\nhttps://b.example.com/"]}, "one web address per item"),
        ({"urls": ["#https://a.example.com/"]}, "one web address per item"),
        ({"urls": URLS, "formats": ["pdf"]}, "formats"),
        ({"urls": URLS, "label": "x" * 201}, "Label"),
    ]:
        response = post_json(alice_api, "/api/v1/start/batch", body)
        assert response.status_code == 400, body
        assert said in response.json()["message"], body
    crawl = post_json(alice_api, "/api/v1/start/crawl", {"url": "ftp://x.example.com"})
    assert crawl.status_code == 400 and "http or https" in crawl.json()["message"]
    assert posts(sim) == [] and not Job.objects.exists()


def test_more_urls_than_this_server_starts_is_a_413(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_START_MAX_URLS = 2
    response = start_batch(alice_api)
    assert response.status_code == 413
    assert "this server starts at most 2 URLs at once" in response.json()["message"]
    assert posts(sim) == []


def test_a_body_larger_than_the_server_reads_is_a_413(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = start_batch(alice_api, [f"https://shop.example.com/{i}" for i in range(1000)])
    assert response.status_code == 413 and response.json()["message"]
    assert posts(sim) == []


def test_nobody_starts_with_another_users_key(
    alice_api: Client, key: ApiKey, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    assert start_batch(alice_api, key=bob_key.pk).status_code == 404
    assert start_batch(alice_api, key=bob_key.pk, dry_run=True).status_code == 404
    assert posts(sim) == []


# One job per Idempotency-Key ------------------------------------------------------------------


def test_a_replay_with_the_same_idempotency_key_answers_the_same_job(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    first = start_batch(alice_api, idem="order-42")
    again = start_batch(alice_api, idem="order-42")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert len(posts(sim)) == 1 and Job.objects.count() == 1


def test_without_a_key_each_request_is_a_new_start(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    start_batch(alice_api)
    start_batch(alice_api)
    assert len(posts(sim)) == 2 and Job.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_start_one_job(
    alice: User, key: ApiKey, sim: FakeFirecrawl
) -> None:
    token = token_for(alice)
    poll = threading.Event()
    # The first request is still waiting for Firecrawl when the others arrive.
    sim.inject(Fault.slow(5.0), method="POST", path_contains="/batch/scrape")
    answers: list[Any] = []

    def send() -> None:
        try:
            answers.append(start_batch(api_client(token), idem="nightly-2026-12-06"))
        finally:
            connection.close()

    first = threading.Thread(target=send)
    first.start()
    # The first request has claimed the key and is waiting for Firecrawl's answer.
    while not StartRequest.objects.filter(state=StartRequest.State.STARTING).exists():
        poll.wait(0.02)
    for _ in range(2):
        send()  # while it waits: answered at once, without waiting in a web worker
    first.join()
    again = start_batch(api_client(token), idem="nightly-2026-12-06")

    assert len(posts(sim)) == 1
    job = Job.objects.get()
    waiting, started = answers[:2], answers[2]
    assert [a.status_code for a in waiting] == [409, 409]
    assert all(a["Retry-After"] == "2" and "still waiting" in a.json()["message"] for a in waiting)
    assert (started.status_code, started.json()["id"]) == (201, job.pk)
    assert (again.status_code, again.json()["id"], again["Idempotent-Replayed"]) == (
        201,
        job.pk,
        "true",
    )
    assert job.sync_queued_for is not None  # the first answer queued the new job's first sync


def test_the_same_key_with_another_request_is_a_409(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    start_batch(alice_api, idem="k-1")
    other = start_batch(alice_api, URLS[:2], idem="k-1")
    assert other.status_code == 409
    assert "different start" in other.json()["message"]
    assert len(posts(sim)) == 1 and Job.objects.count() == 1


def test_an_idempotency_key_belongs_to_its_user(
    alice_api: Client, bob_api: Client, key: ApiKey, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    alice_job = start_batch(alice_api, idem="same").json()["id"]
    bob_job = start_batch(bob_api, idem="same").json()["id"]
    assert alice_job != bob_job and len(posts(sim)) == 2


def test_a_bad_idempotency_key_is_a_400(alice_api: Client, key: ApiKey, sim: FakeFirecrawl) -> None:
    assert start_batch(alice_api, idem="x" * 256).status_code == 400
    assert posts(sim) == []


def test_a_replay_of_a_refused_start_starts_nothing_and_says_so(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    sim.inject(Fault.server_error(503), method="POST")
    lost = start_batch(alice_api, idem="k-lost")
    again = start_batch(alice_api, idem="k-lost")

    assert lost.status_code == 502 and lost.json()["uncertain"] is True
    assert "may have started the job" in lost.json()["message"]
    assert again.status_code == 409 and "Use a new key" in again.json()["message"]
    assert len(posts(sim)) == 1 and not Job.objects.exists()


# What Firecrawl refuses ----------------------------------------------------------------------


def test_firecrawls_refusals_keep_their_meaning(
    alice: User, alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    bad = post_json(alice_api, "/api/v1/start/crawl", {"url": "http://localhost/docs"})
    assert bad.status_code == 400
    assert "valid top-level domain" in " ".join(bad.json()["details"])

    sim.inject(Fault.rate_limit(retry_after=12), method="POST")
    limited = start_batch(alice_api)
    assert limited.status_code == 429 and limited["Retry-After"] == "12"
    assert "Nothing was started" in limited.json()["message"]

    sim.add_key("fc-broke00000000000000000000000b1", team="broke", credits=1)
    broke = ApiKey.objects.create(
        owner=alice, name="Broke", key="fc-broke00000000000000000000000b1", api_url=sim.url
    )
    poor = start_batch(alice_api, key=broke.pk)
    assert poor.status_code == 402 and "out of credits" in poor.json()["message"]
    assert not Job.objects.exists()
    assert not StartRequest.objects.filter(job__isnull=False).exists()


# Retrying failed URLs -----------------------------------------------------------------------


def test_a_retry_starts_a_batch_of_the_failed_urls(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, str(uuid.uuid4()), label="Shop", start_options={"formats": ["html"]})
    make_failed_urls(job, URLS[0], URLS[2], robots_blocked=("https://shop.example.com/robots",))

    check = post_json(alice_api, f"/api/v1/jobs/{job.pk}/retry", {"dry_run": True}).json()
    assert (check["urls"], check["estimated_credits"]) == (2, 2)
    response = post_json(alice_api, f"/api/v1/jobs/{job.pk}/retry", {}, **{"Idempotency-Key": "r"})

    assert response.status_code == 201
    retry = Job.objects.get(pk=response.json()["id"])
    assert (retry.retry_of, retry.label) == (job, "Retry of Shop")
    assert response.json()["retry_of"] == job.pk
    assert (retry.start_options or {})["formats"] == ["html"]
    (sent,) = posts(sim)
    assert json.loads(sent.body)["urls"] == [URLS[0], URLS[2]]


def test_a_job_without_failed_urls_has_nothing_to_retry(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, str(uuid.uuid4()))
    response = post_json(alice_api, f"/api/v1/jobs/{job.pk}/retry", {})
    assert response.status_code == 409 and "no failed URLs" in response.json()["message"]


def test_a_body_is_an_object_of_known_fields_of_the_right_types(
    alice_api: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, str(uuid.uuid4()))
    make_failed_urls(job, URLS[0])
    retry = f"/api/v1/jobs/{job.pk}/retry"
    for body, said in [
        ("[null, null]", "Cannot parse request body"),
        ("5", "Cannot parse request body"),
        ("{nope", "Cannot parse request body"),
        ('{"dry_run": true, "extra": 1}', "extra: Extra inputs are not permitted"),
        ('{"dry_run": 0}', "dry_run: Input should be a valid boolean"),
        ('{"key": "1"}', "key: Input should be a valid integer"),
        ("", "body: Field required"),
    ]:
        response = alice_api.post(retry, body, content_type="application/json")
        assert response.status_code == 400, body
        assert said in response.json()["message"], body
    assert posts(sim) == [] and Job.objects.count() == 1
