"""Crawls on the simulator: pages found as they are scraped, Firecrawl's filters, the captures."""

from __future__ import annotations

from typing import Any

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from fakecrawl.content import SCRAPE_FAILED_MESSAGE
from tests.fakecrawl.support import ALICE, Api, capture, head, shape

SITE = "https://docs.example.com"


def sources(page: dict[str, Any]) -> set[str]:
    return {doc["metadata"]["sourceURL"].removeprefix(SITE) for doc in page["data"]}


def test_a_crawl_finds_pages_only_as_it_scrapes_them(api: Api, clock: ManualClock) -> None:
    api.sim.site_depth = 2  # the start page, 3 sections, 3 pages in each: 13 pages
    job_id = api.sim.create_crawl(ALICE, SITE, rate=1.0)

    reads = []
    for _ in range(6):
        page = api.crawl(job_id)
        reads.append((page["completed"], page["total"]))
        clock.advance(1)
    clock.advance(10)
    done = api.crawl(job_id)

    assert reads == [(0, 1), (1, 4), (2, 7), (3, 10), (4, 13), (5, 13)]
    assert (done["status"], done["completed"], done["total"]) == ("completed", 13, 13)
    assert sources(done) >= {"", "/docs", "/blog", "/pricing", "/docs/page-1", "/blog/page-3"}


def test_a_2026_crawl_shows_0_of_0_while_it_kicks_off_then_settles_as_captured(
    clock: ManualClock,
) -> None:
    # Captures 175-193: 0 of 0 for five seconds, 8 of 8 still `scraping`, then `completed`.
    with FakeFirecrawl(clock=clock, crawl_kickoff_seconds=5, settle_seconds=11) as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        payload = {"url": SITE, "limit": 8, "scrapeOptions": {"formats": ["markdown", "links"]}}
        job_id = api.start("/v2/crawl", payload)

        kickoff = api.crawl(job_id)
        clock.advance(6)
        scraped = api.crawl(job_id)
        clock.advance(11)
        done = api.crawl(job_id)

    for ours, name in [(kickoff, "181"), (scraped, "182"), (done, "193")]:
        real = capture(name)[1]
        assert shape(head(ours)) == shape(head(real)), name
        assert (ours["status"], ours["completed"], ours["total"]) == (
            real["status"],
            real["completed"],
            real["total"],
        ), name
    assert kickoff["next"].endswith(f"/v2/crawl/{job_id}?skip=0")
    assert list(done["data"][0]) == list(capture("193")[1]["data"][0])
    assert done["completedAt"] == "2026-11-28T13:00:05.000Z"  # its last page, not the flip
    assert done["duration"] == 5


def test_a_v1_crawl_has_the_captured_v1_shape(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, crawl_kickoff_seconds=5, settle_seconds=11) as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        payload = {
            "url": SITE,
            "limit": 8,
            "crawlEntireDomain": True,
            "scrapeOptions": {"formats": ["markdown", "links"]},
            "ignoreSitemap": True,
        }
        job_id = api.start("/v1/crawl", payload)
        reads = [api.crawl(job_id, version=1)]
        for seconds in (6, 11):
            clock.advance(seconds)
            reads.append(api.crawl(job_id, version=1))

    for ours, name in zip(reads, ["075", "081", "093"], strict=True):
        assert shape(head(ours)) == shape(head(capture(name)[1])), name
    assert list(reads[-1]["data"][0]) == list(capture("093")[1]["data"][0])


def test_a_2025_crawl_grows_its_total_as_captured(clock: ManualClock) -> None:
    # Captures 086-088: 0 of 0, then 3 documents of a larger total, then 8 of 8, no `next`.
    with FakeFirecrawl(clock=clock, mode="2025") as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        job_id = sim.create_crawl(ALICE, SITE, limit=8, rate=1.0, start_offset=-1, api_version=1)
        reads = [api.crawl(job_id, version=1)]
        for seconds in (4, 6):
            clock.advance(seconds)
            reads.append(api.crawl(job_id, version=1))

    for ours, name in zip(reads, ["086", "087", "088"], strict=True):
        assert shape(head(ours)) == shape(head(capture(name, "2025")[1])), name
    assert [(r["completed"], r["creditsUsed"]) for r in reads] == [(0, 0), (3, 3), (8, 8)]
    assert reads[1]["total"] > 3 and reads[2]["total"] == 8
    assert "next" not in reads[2]


@pytest.mark.parametrize("version", [1, 2])
def test_a_crawl_of_an_unreachable_url_ends_completed_at_0_of_0_as_captured(
    clock: ManualClock, version: int
) -> None:
    # Captures 095-105 (v1) and 195-205 (v2).
    first = {1: "096", 2: "196"}[version]
    last = {1: "104", 2: "204"}[version]
    errors = {1: "105", 2: "205"}[version]
    with FakeFirecrawl(clock=clock, crawl_kickoff_seconds=4, settle_seconds=12) as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        job_id = api.start(f"/v{version}/crawl", {"url": "http://127.0.0.1:9/x.html", "limit": 3})
        reads = []
        for _ in range(9):
            reads.append(api.crawl(job_id, version=version))
            clock.advance(2)
        failed = api.errors(job_id, version=version)

    assert [(r["status"], r["completed"], r["total"]) for r in reads] == [
        ("scraping", 0, 0)
    ] * 8 + [("completed", 0, 0)]
    assert shape(head(reads[0])) == shape(head(capture(first)[1]))
    assert shape(head(reads[-1])) == shape(head(capture(last)[1]))
    if version == 2:
        assert reads[-1]["completedAt"] == reads[-1]["createdAt"]  # no document: creation time
        assert reads[-1]["duration"] == 0
    (entry,) = failed
    (real,) = capture(errors)[1]["errors"]
    assert list(entry) == list(real)
    assert (entry["url"], entry["code"], entry["error"]) == (
        real["url"],
        real["code"],
        SCRAPE_FAILED_MESSAGE,
    )


def test_include_and_exclude_paths_are_regexes_searched_in_the_path(api: Api) -> None:
    included = api.start("/v2/crawl", {"url": SITE, "includePaths": ["^/blog"]})
    excluded = api.start("/v2/crawl", {"url": SITE, "excludePaths": ["^/blog", "page-2$"]})
    anchored = api.start("/v2/crawl", {"url": SITE, "includePaths": ["^/blog/.+"]})

    assert sources(api.crawl(included)) == {
        "",
        "/blog",
        *(f"/blog/page-{i}" for i in (1, 2, 3)),
        *(f"/blog/page-{i}/page-{j}" for i in (1, 2, 3) for j in (1, 2, 3)),
    }
    left = sources(api.crawl(excluded))
    assert {"", "/docs", "/pricing", "/docs/page-1", "/docs/page-3/page-1"} <= left
    assert not [path for path in left if path.startswith("/blog") or path.endswith("page-2")]
    # "/blog" itself does not match, so the crawl never reaches the pages below it.
    assert sources(api.crawl(anchored)) == {""}


def test_regex_on_full_url_matches_the_whole_url(api: Api) -> None:
    job_id = api.start(
        "/v2/crawl",
        {"url": SITE, "includePaths": [r"docs\.example\.com/docs"], "regexOnFullURL": True},
    )

    found = sources(api.crawl(job_id))

    assert "/docs/page-2/page-3" in found
    assert all(path == "" or path.startswith("/docs") for path in found)


def test_limit_counts_the_start_page(api: Api) -> None:
    job_id = api.start("/v1/crawl", {"url": SITE, "limit": 5})

    page = api.crawl(job_id, version=1)

    assert (page["completed"], page["total"]) == (5, 5)
    assert sources(page) == {"", "/docs", "/blog", "/pricing", "/docs/page-1"}


@pytest.mark.parametrize(
    ("version", "option"), [(1, "maxDepth"), (1, "maxDiscoveryDepth"), (2, "maxDiscoveryDepth")]
)
def test_the_depth_options_bound_how_far_below_the_start_a_crawl_goes(
    api: Api, version: int, option: str
) -> None:
    start = f"{SITE}/guide"
    shallow = api.start(f"/v{version}/crawl", {"url": start, option: 1})
    only_start = api.start(f"/v{version}/crawl", {"url": start, option: 0})

    assert sources(api.crawl(shallow)) == {"/guide", "/guide/docs", "/guide/blog", "/guide/pricing"}
    assert sources(api.crawl(only_start)) == {"/guide"}


def test_scrape_options_shape_every_crawled_page(api: Api) -> None:
    job_id = api.start(
        "/v2/crawl",
        {"url": SITE, "limit": 4, "scrapeOptions": {"formats": ["html"], "onlyMainContent": False}},
    )

    docs = api.crawl(job_id)["data"]

    assert [set(doc) for doc in docs] == [{"html", "metadata"}] * 4
    assert all(doc["html"].startswith("<nav>") for doc in docs)


def test_a_crawled_page_lists_the_sites_links_whatever_the_filters(api: Api) -> None:
    job_id = api.start(
        "/v2/crawl",
        {"url": SITE, "maxDiscoveryDepth": 0, "scrapeOptions": {"formats": ["links"]}},
    )

    (doc,) = api.crawl(job_id)["data"]

    assert doc["links"] == [
        f"{SITE}/docs",
        f"{SITE}/blog",
        f"{SITE}/pricing",
        "https://example.com/external",
    ]


def test_a_page_that_fails_links_to_nothing(api: Api) -> None:
    job_id = api.sim.create_crawl(ALICE, SITE, fail_urls={f"{SITE}/blog"})

    page = api.crawl(job_id)
    (failed,) = api.errors(job_id)

    assert failed["url"] == f"{SITE}/blog"
    assert not [path for path in sources(page) if path.startswith("/blog")]
    assert page["total"] == page["completed"] == 1 + 2 + 6 + 18


def test_bad_crawl_bodies_are_refused_as_the_server_does(api: Api) -> None:
    bad_regex = api.post("/v2/crawl", json={"url": SITE, "includePaths": ["("]})
    v1_option = api.post("/v2/crawl", json={"url": SITE, "maxDepth": 2})
    no_url = api.post("/v1/crawl", json={"limit": 2})
    bad_format = api.post("/v2/crawl", json={"url": SITE, "scrapeOptions": {"formats": ["nope"]}})

    assert (bad_regex.status_code, bad_regex.json()) == (
        400,
        {"success": False, "error": "Invalid regular expression: /(/: Unterminated group"},
    )
    assert (v1_option.status_code, v1_option.json()["details"]) == (
        400,
        [
            {
                "code": "unrecognized_keys",
                "keys": ["maxDepth"],
                "path": [],
                "message": 'Unrecognized key: "maxDepth"',
            }
        ],
    )
    assert no_url.status_code == 400
    assert no_url.json()["details"][0]["message"] == (
        "Invalid input: expected string, received undefined"
    )
    assert bad_format.json()["details"][0]["path"] == ["scrapeOptions", "formats", 0]
    assert api.sim.count_requests("POST") == 4 and api.json("/v2/team/activity")["data"] == []


def test_a_crawl_is_cut_to_the_credits_left_unless_its_limit_asks_for_more(api: Api) -> None:
    api.sim.add_key(ALICE, team="alice", credits=10)

    too_many = api.post("/v2/crawl", json={"url": SITE, "limit": 50})
    job_id = api.start("/v2/crawl", {"url": SITE})

    assert too_many.status_code == 402
    assert api.crawl(job_id)["completed"] == 10
    assert api.json("/v2/team/credit-usage")["data"]["remainingCredits"] == 0
