"""Firecrawl's start options (jobs/start_options.py) and the start forms that fill them in: one
mapping both ways (form -> body -> form unchanged, in v1's and v2's names), every input checked
before Confirm, Run again and a retry filled in from a job."""

import re
import uuid
from collections.abc import Iterator
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.datastructures import MultiValueDict

from fakecrawl import FakeFirecrawl
from jobs import start_options
from jobs.forms.start import (
    BatchStartForm,
    CrawlStartForm,
    compile_pattern,
    retry_data,
    run_again_data,
)
from jobs.models import Job
from keys.models import ApiKey
from tests.conftest import make_failed_urls, make_job

KEY = "fc-options0000000000000000000000opt1"
URLS = ["https://shop.example.com/a", "https://shop.example.com/b"]


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=23) as sim:
        sim.add_key(KEY, team="options", credits=1000)
        yield sim


def make_key(owner: User, sim: FakeFirecrawl, version: str) -> ApiKey:
    return ApiKey.objects.create(
        owner=owner, name=version, key=KEY, api_url=sim.url, api_version=version, is_default=True
    )


def text_of(response: Any) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


EVERY_CRAWL_OPTION = {
    "url": "https://docs.example.com/guide",
    "limit": "25",
    "max_depth": "0",
    "include_paths": "^/guide/.*\n(?<section>[a-z]+)/",
    "exclude_paths": "^/guide/old/",
    "formats": ["markdown", "screenshot"],
    "regex_on_full_url": "on",
    "crawl_entire_domain": "on",
    "allow_subdomains": "on",
    "allow_external_links": "on",
    "sitemap": "only",
    "ignore_query_parameters": "on",
    "delay": "0.5",
    "max_concurrency": "4",
    "include_tags": "main\narticle",
    "exclude_tags": "footer, .ads",
    "wait_for": "0",
    "timeout": "1000",
    "mobile": "on",
    "keep_ads": "on",
    "proxy": "basic",
    "country": "jp",
    "languages": "ja, en-US",
    "headers": "User-Agent: dashboard-test/1.0\nAccept-Language: ja",
}


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_crawl_option_goes_form_to_body_to_form_unchanged(
    alice: User, sim: FakeFirecrawl, version: str
) -> None:
    key = make_key(alice, sim, version)
    data = {**EVERY_CRAWL_OPTION, "sitemap": "skip" if version == "v1" else "only"}
    form = CrawlStartForm(data, owner=alice)
    assert form.is_valid(), form.errors
    body = form.body_options()
    # The names of the key's version: one mapping, v1's where they differ.
    assert ("maxDepth" in body, "maxDiscoveryDepth" in body) == (version == "v1", version == "v2")
    assert ("ignoreSitemap" in body, "sitemap" in body) == (version == "v1", version == "v2")
    assert body["scrapeOptions"]["location"] == {"country": "JP", "languages": ["ja", "en-US"]}
    assert (
        body["scrapeOptions"]["blockAds"] is False
        and body["maxDepth" if version == "v1" else "maxDiscoveryDepth"] == 0
    )

    job = make_job(
        key,
        str(uuid.uuid4()),
        kind=Job.Kind.CRAWL,
        start_options=body,
        target_url=data["url"],
        label="Guide",
    )
    again = CrawlStartForm(MultiValueDict(run_again_data(job)), owner=alice)
    assert again.is_valid(), again.errors
    assert again.body_options() == body
    assert again.cleaned_data["label"] == "Guide" and again.cleaned_data["url"] == data["url"]


def test_a_batchs_urls_file_and_options_are_read_back_for_run_again(
    alice: User, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    form = BatchStartForm(
        {"urls": "\n".join(URLS), "formats": ["html"], "max_concurrency": "1", "timeout": "5000"},
        owner=alice,
    )
    assert form.is_valid(), form.errors
    body = form.body_options()
    assert body == {
        "ignoreInvalidURLs": True,
        "maxConcurrency": 1,
        "formats": ["html"],
        "onlyMainContent": False,
        "timeout": 5000,
    }
    job = make_job(
        key, str(uuid.uuid4()), start_options=body, start_urls=URLS, source_name="shop.csv"
    )
    again = BatchStartForm(MultiValueDict(run_again_data(job)), owner=alice)
    assert again.is_valid(), again.errors
    assert again.body_options() == body and again.cleaned_data["url_list"] == URLS
    assert again.plan().source_name == "shop.csv"


def test_options_at_firecrawls_defaults_are_not_sent(alice: User, sim: FakeFirecrawl) -> None:
    make_key(alice, sim, "v2")
    form = CrawlStartForm(
        {"url": "https://docs.example.com", "limit": "10", "formats": ["markdown"]}, owner=alice
    )
    assert form.is_valid(), form.errors
    assert form.body_options() == {
        "limit": 10,
        "scrapeOptions": {"formats": ["markdown"], "onlyMainContent": False},
    }
    assert start_options.described("crawl", "v2", form.body_options()) == [
        ("Limit", "10 pages"),
        ("Formats", "Markdown"),
        ("Only main content", "No"),
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("include_paths", "^/guide/(.*", "Line 1 is not a regular expression"),
        ("exclude_paths", "ok\n[unclosed", "Line 2 is not a regular expression"),
        ("max_depth", "101", "less than or equal to 100"),
        ("limit", "0", "greater than or equal to 1"),
        ("delay", "61", "less than or equal to 60"),
        ("wait_for", "60001", "less than or equal to 60000"),
        ("timeout", "999", "greater than or equal to 1000"),
        ("max_concurrency", "0", "greater than or equal to 1"),
        ("country", "ZZ", "two-letter ISO 3166-1 code"),
        ("languages", "english please", "is not a language tag"),
        ("headers", "No colon here", "Line 1 is not “Name: value”"),
        ("headers", "Bad Name: x", "Line 1 is not “Name: value”"),
        ("headers", "X-A: 1\nx-a: 2", "Line 2 repeats the header x-a"),
        ("include_tags", ", ".join(f"t{n}" for n in range(101)), "At most 100 items"),
        ("proxy", "stealthy", "Select a valid choice"),
    ],
)
def test_each_option_is_checked_before_confirm(
    alice: User, alice_client: Client, sim: FakeFirecrawl, field: str, value: str, message: str
) -> None:
    make_key(alice, sim, "v2")
    data = {"url": "https://docs.example.com", "limit": "10", "formats": ["markdown"], field: value}
    sent = len(sim.requests)
    response = alice_client.post("/start/crawl/", data)
    assert response.status_code == 200 and "Confirm the crawl" not in text_of(response)
    assert message in text_of(response)
    assert len(sim.requests) == sent  # not even the credits were asked for


def test_waiting_longer_than_half_the_timeout_is_refused(alice: User, sim: FakeFirecrawl) -> None:
    make_key(alice, sim, "v2")
    data = {"urls": URLS[0], "formats": ["markdown"], "wait_for": "3000", "timeout": "5000"}
    form = BatchStartForm(data, owner=alice)
    assert not form.is_valid()
    assert form.errors["wait_for"] == ["Wait at most half the timeout (2,500 ms), or raise it."]
    assert form.advanced_has_errors


def test_a_v1_key_cannot_crawl_only_the_sitemap(alice: User, sim: FakeFirecrawl) -> None:
    make_key(alice, sim, "v1")
    data = {"url": "https://docs.example.com", "limit": "10", "formats": ["markdown"]}
    form = CrawlStartForm({**data, "sitemap": "only"}, owner=alice)
    assert not form.is_valid() and "v1 API cannot crawl only the sitemap" in str(form.errors)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("^/guide/.*", None),
        ("(?<section>[a-z]+)/page-\\d+", None),  # JavaScript's named group
        ("(?<=/docs/)v2", None),  # a lookbehind
        ("^/guide/(.*", "missing ), unterminated subpattern at position 8"),
        ("(?P<section>x)", "“(?P<” is Python's syntax, not JavaScript's"),
        ("(?i)^/docs", "“(?i)” is Python's syntax, not JavaScript's"),
    ],
)
def test_path_patterns_are_checked_as_javascript_reads_them(
    pattern: str, problem: str | None
) -> None:
    assert compile_pattern(pattern) == problem


def test_a_retry_reads_the_failed_urls_as_the_job_read_its_pages(
    alice: User, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    crawl = CrawlStartForm({**EVERY_CRAWL_OPTION, "sitemap": "skip"}, owner=alice)
    assert crawl.is_valid(), crawl.errors
    job = make_job(key, str(uuid.uuid4()), kind=Job.Kind.CRAWL, start_options=crawl.body_options())
    make_failed_urls(job, "https://docs.example.com/broken")
    data = retry_data(job)
    assert data is not None
    retry = BatchStartForm(MultiValueDict(data), owner=alice)
    assert retry.is_valid(), retry.errors
    # The crawl's scrape options, as a batch's; nothing of the crawl's own (limit, paths).
    assert retry.body_options() == {
        "ignoreInvalidURLs": True,
        **crawl.body_options()["scrapeOptions"],
    }
    assert retry.cleaned_data["url_list"] == ["https://docs.example.com/broken"]


def test_run_again_is_offered_only_for_a_job_started_here(
    alice_client: Client, alice: User, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    tracked = make_job(key, str(uuid.uuid4()))
    assert "Run again" not in alice_client.get(f"/jobs/{tracked.pk}/").content.decode()
    response = alice_client.get(f"/jobs/{tracked.pk}/again/", follow=True)
    assert "its options are not known" in text_of(response)
    started = make_job(
        key,
        str(uuid.uuid4()),
        start_options=start_options.body("batch", "v2", {"formats": ["markdown"]}),
        start_urls=URLS,
    )
    page = alice_client.get(f"/jobs/{started.pk}/").content.decode()
    assert "Run again" in page and ">Options</h2>" in page
    confirmation = alice_client.get(f"/jobs/{started.pk}/again/")
    assert "Confirm the batch" in text_of(confirmation) and "2 URLs" in text_of(confirmation)


def test_run_again_of_another_users_job_is_a_404(
    alice: User, bob_client: Client, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    job = make_job(key, str(uuid.uuid4()), start_options={}, start_urls=URLS)
    assert bob_client.get(f"/jobs/{job.pk}/again/").status_code == 404


def test_run_again_refuses_a_query_string(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    job = make_job(key, str(uuid.uuid4()), start_options={}, start_urls=URLS)
    assert alice_client.get(f"/jobs/{job.pk}/again/?limit=9").status_code == 400


def test_run_again_with_a_deleted_key_fills_the_form_with_the_default_key(
    alice: User, alice_client: Client, sim: FakeFirecrawl
) -> None:
    key = make_key(alice, sim, "v2")
    job = make_job(
        key,
        str(uuid.uuid4()),
        kind=Job.Kind.CRAWL,
        target_url="https://docs.example.com",
        start_options={"limit": 5, "scrapeOptions": {"formats": ["markdown"]}},
    )
    other = ApiKey.objects.create(
        owner=alice, name="Other", key=KEY, api_url=sim.url, api_version="v2"
    )
    key.delete()
    job.refresh_from_db()
    response = alice_client.get(f"/jobs/{job.pk}/again/")
    assert "Confirm the crawl" in text_of(response) and other.name in text_of(response)


def test_the_start_page_opens_the_tab_asked_for(
    alice_client: Client, alice: User, sim: FakeFirecrawl
) -> None:
    make_key(alice, sim, "v2")
    crawl = alice_client.get("/start/?tab=crawl").content.decode()
    assert re.search(r'id="crawl" role="tabpanel" aria-labelledby="tab-crawl"\s*>', crawl)
    assert re.search(r'id="batch" role="tabpanel" aria-labelledby="tab-batch" hidden', crawl)
    assert alice_client.get("/start/?tab=map").status_code == 400
