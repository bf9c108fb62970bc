"""Finding jobs on the simulator: GET /v2/team/activity and GET /v{1,2}/crawl/active."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import ALICE, BOB, SPEC_V2, Api, record

# PostgreSQL's text for a timestamptz: the fraction without trailing zeros, none when whole.
POSTGRES_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?\+00")


def activity(api: Api, query: str = "") -> dict[str, Any]:
    body: dict[str, Any] = api.json(f"/v2/team/activity{query}")
    return body


def test_activity_lists_the_teams_jobs_newest_first_as_the_spec_documents(
    api: Api, clock: ManualClock
) -> None:
    older = api.sim.create_batch(ALICE, ["https://a.example/1", "https://a.example/2"])
    clock.advance(1.5)
    crawl = api.start("/v1/crawl", {"url": "https://docs.example.com", "limit": 2})
    clock.advance(1)
    batch = api.start("/v2/batch/scrape", {"urls": ["https://b.example/x"]})
    spec = json.loads(SPEC_V2.read_text())["paths"]["/team/activity"]["get"]
    schema = spec["responses"]["200"]["content"]["application/json"]["schema"]

    body = activity(api)

    assert list(body) == list(schema["properties"])
    fields = list(schema["properties"]["data"]["items"]["properties"])
    assert [list(item) for item in body["data"]] == [fields] * 3
    assert [
        tuple(item[k] for k in ("id", "endpoint", "api_version", "target")) for item in body["data"]
    ] == [
        (batch, "batch_scrape", "v2", "https://b.example/x"),
        (crawl, "crawl", "v1", "https://docs.example.com"),
        (older, "batch_scrape", "v2", "https://a.example/1"),
    ]
    assert [item["created_at"] for item in body["data"]] == [
        "2026-11-28 13:00:02.5+00",
        "2026-11-28 13:00:01.5+00",
        "2026-11-28 13:00:00+00",
    ]
    assert (body["cursor"], body["has_more"]) == (None, False)


def test_activity_pages_with_a_cursor_until_there_is_no_more(api: Api, clock: ManualClock) -> None:
    made = []
    for i in range(5):
        made.append(api.sim.create_batch(ALICE, [f"https://a.example/{i}"]))
        clock.advance(0.25)

    pages = [activity(api, "?limit=2")]
    while pages[-1]["has_more"]:
        pages.append(activity(api, f"?limit=2&cursor={pages[-1]['cursor']}"))

    assert [[item["id"] for item in page["data"]] for page in pages] == [
        made[4:2:-1],
        made[2:0:-1],
        made[0:1],
    ]
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert pages[-1]["cursor"] is None
    last = pages[0]["data"][-1]
    decoded = base64.urlsafe_b64decode(pages[0]["cursor"] + "==").decode()
    assert decoded == f"{last['created_at']}:{last['id']}"


def test_activity_filters_by_endpoint_and_refuses_an_unknown_one(api: Api) -> None:
    batch = api.sim.create_batch(ALICE, n=1)
    crawl = api.sim.create_crawl(ALICE, limit=1)

    crawls = activity(api, "?endpoint=crawl")["data"]
    batches = activity(api, "?endpoint=batch_scrape")["data"]
    scrapes = activity(api, "?endpoint=scrape")["data"]
    unknown = api.get("/v2/team/activity?endpoint=crawls")

    assert [item["id"] for item in crawls] == [crawl]
    assert [item["id"] for item in batches] == [batch]
    assert scrapes == []
    assert (unknown.status_code, unknown.json()) == (
        400,
        {
            "success": False,
            "error": "Invalid endpoint filter. Must be one of: scrape, crawl, batch_scrape, "
            "search, extract, llmstxt, deep_research, map, agent, browser, interact",
        },
    )


def test_activity_covers_the_last_24_hours_only(api: Api, clock: ManualClock) -> None:
    old = api.sim.create_batch(ALICE, n=1)
    clock.advance(3600)
    recent = api.sim.create_batch(ALICE, n=1)
    clock.advance(23 * 3600)

    at_24_hours = [item["id"] for item in activity(api)["data"]]  # `created_at >= now - 24 h`
    clock.advance(0.01)
    after = [item["id"] for item in activity(api)["data"]]

    assert (at_24_hours, after) == ([recent, old], [recent])


def test_activity_limit_defaults_to_50_and_stops_at_100(api: Api) -> None:
    for _ in range(120):
        api.sim.create_batch(ALICE, n=0)

    assert len(activity(api)["data"]) == 50
    assert len(activity(api, "?limit=500")["data"]) == 100
    assert len(activity(api, "?limit=0")["data"]) == 50
    assert len(activity(api, "?limit=7abc")["data"]) == 7  # parseInt reads the leading digits


def test_activity_refuses_a_cursor_it_cannot_split_and_fails_one_it_cannot_query(
    api: Api,
) -> None:
    no_separator = api.get("/v2/team/activity?cursor=bm8tc2VwYXJhdG9y")  # "no-separator"
    garbage = base64.urlsafe_b64encode(b"yesterday:someone").decode()

    unqueryable = api.get(f"/v2/team/activity?cursor={garbage}")

    assert (no_separator.status_code, no_separator.json()) == (
        400,
        {"success": False, "error": "Invalid cursor."},
    )
    assert (unqueryable.status_code, unqueryable.json()) == (
        500,
        {"success": False, "error": "Failed to fetch activity."},
    )


def test_activity_shows_each_team_only_its_own_jobs(sim: FakeFirecrawl) -> None:
    alices = sim.create_batch(ALICE, n=1)
    bobs = sim.create_batch(BOB, n=1)

    assert [item["id"] for item in activity(Api(sim))["data"]] == [alices]
    assert [item["id"] for item in activity(Api(sim, BOB))["data"]] == [bobs]
    assert Api(sim, "fc-nobody").get("/v2/team/activity").status_code == 401


def test_activity_lists_jobs_made_with_create_batch_with_their_version(api: Api) -> None:
    v1 = api.sim.create_batch(ALICE, n=3, api_version=1)
    crawl = api.sim.create_batch(ALICE, ["https://c.example/"], kind="crawl")

    items = {item["id"]: item for item in activity(api)["data"]}

    assert (items[v1]["api_version"], items[v1]["endpoint"]) == ("v1", "batch_scrape")
    assert items[v1]["target"] == "https://example.test/page/1"
    assert (items[crawl]["endpoint"], items[crawl]["target"]) == ("crawl", "https://c.example/")
    assert all(POSTGRES_TIME.fullmatch(item["created_at"]) for item in items.values())


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"activity": False}, "/v2/team/activity"),
        ({"mode": "2025"}, "/v2/team/activity"),
        ({}, "/v1/team/activity"),
    ],
)
def test_a_server_without_the_activity_route_answers_expresss_404(
    clock: ManualClock, options: dict[str, Any], path: str
) -> None:
    with FakeFirecrawl(clock=clock, **options) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=1)

        response = Api(sim).get(path)

    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<pre>Cannot GET {path}</pre>" in response.text


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("221_v2_team_activity_no_database", "/v2/team/activity"),
        (
            "221_v2_team_activity_no_database",
            "/v2/team/activity?limit=5&cursor="
            + base64.urlsafe_b64encode(
                b"2026-11-28 13:00:00+00:00000000-0000-0000-0000-000000000000"
            ).decode(),
        ),
        ("222_v2_team_activity_no_database_bad_endpoint", "/v2/team/activity?endpoint=crawls"),
        ("223_v1_team_activity", "/v1/team/activity"),
    ],
)
def test_a_self_hosted_server_without_its_database_answers_activity_as_its_capture(
    clock: ManualClock, name: str, path: str
) -> None:
    with FakeFirecrawl(clock=clock, self_hosted=True) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=1)
        sim.create_crawl(ALICE, rate=0.1)

        response = Api(sim).get(path)

    recorded = record(name)
    assert response.status_code == recorded["status"]
    assert response.headers["Content-Type"] == dict(recorded["headers"])["Content-Type"]
    assert response.content == recorded["body_raw"].encode()


def test_a_self_hosted_server_without_its_database_still_lists_its_running_crawls(
    clock: ManualClock,
) -> None:
    with FakeFirecrawl(clock=clock, self_hosted=True) as sim:
        sim.add_key(ALICE)
        sim.create_batch(ALICE, n=5, rate=0.1)
        crawl = sim.create_crawl(ALICE, rate=0.1)
        api = Api(sim)

        listing = api.get("/v2/team/activity")
        active = {v: api.get(f"/v{v}/crawl/active") for v in (1, 2)}

    assert listing.status_code == 500
    assert [r.status_code for r in active.values()] == [200, 200]
    assert [[c["id"] for c in r.json()["crawls"]] for r in active.values()] == [[crawl], [crawl]]


def test_a_hosted_server_keeps_its_activity_listing(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock) as sim:
        sim.add_key(ALICE)
        batch = sim.create_batch(ALICE, n=1)

        response = Api(sim).get("/v2/team/activity")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["data"]] == [batch]


def test_the_old_no_clickhouse_mode_is_refused_with_a_pointer_to_self_hosted() -> None:
    with pytest.raises(ValueError, match="self_hosted=True"):
        FakeFirecrawl(activity="no-clickhouse")  # type: ignore[arg-type]


@pytest.mark.parametrize("version", [1, 2])
def test_crawl_active_lists_running_crawls_with_their_options(
    api: Api, clock: ManualClock, version: int
) -> None:
    api.sim.post_rate = 1.0
    payload = {
        "url": "https://docs.example.com",
        "limit": 20,
        "includePaths": ["^/docs"],
        "scrapeOptions": {"formats": ["markdown", "links"]},
    }
    crawl = api.start("/v1/crawl", {**payload, "maxDepth": 2})
    clock.advance(0.5)

    body = api.json(f"/v{version}/crawl/active")

    (item,) = body["crawls"]
    assert list(body) == ["success", "crawls"]
    assert list(item) == ["id", "teamId", "url", "created_at", "options"]
    assert (item["id"], item["teamId"], item["url"]) == (crawl, "alice", payload["url"])
    assert item["created_at"] == "2026-11-28T13:00:00.000Z"
    options = item["options"]
    assert (options["includePaths"], options["excludePaths"], options["limit"]) == (
        ["^/docs"],
        [],
        20,
    )
    assert options["scrapeOptions"] == {"formats": ["markdown", "links"], "onlyMainContent": True}
    assert list(options)[-1] == "scrapeOptions"
    if version == 1:
        assert (options["maxDepth"], options["ignoreSitemap"]) == (2, False)
        assert "sitemap" not in options
    else:
        assert options["sitemap"] == "include"
        assert "maxDepth" not in options and "ignoreSitemap" not in options


def test_crawl_active_leaves_out_batches_and_cancelled_and_finished_crawls(
    api: Api, clock: ManualClock
) -> None:
    api.sim.settle_seconds = 5
    api.sim.create_batch(ALICE, n=10, rate=1.0)
    running = api.sim.create_crawl(ALICE, rate=1.0)
    cancelled = api.sim.create_crawl(ALICE, rate=1.0)
    settling = api.sim.create_crawl(ALICE, limit=1)  # done, still `scraping` for 5 s
    api.delete(f"/v2/crawl/{cancelled}")

    listed = [item["id"] for item in api.json("/v2/crawl/active")["crawls"]]
    clock.advance(5)
    later = [item["id"] for item in api.json("/v1/crawl/ongoing")["crawls"]]

    assert listed == [running, settling]
    assert later == [running]


def test_crawl_active_shows_each_team_only_its_own_crawls(sim: FakeFirecrawl) -> None:
    alices = sim.create_crawl(ALICE, rate=1.0)
    bobs = sim.create_crawl(BOB, rate=1.0)

    assert [c["id"] for c in Api(sim).json("/v2/crawl/active")["crawls"]] == [alices]
    assert [c["id"] for c in Api(sim, BOB).json("/v1/crawl/active")["crawls"]] == [bobs]


@pytest.mark.parametrize(
    ("mode", "status", "body"),
    [
        (
            "2026",
            400,
            {"success": False, "error": "Invalid job ID format. Job ID must be a valid UUID."},
        ),
        ("2025", 404, {"success": False, "error": "Job not found"}),
    ],
)
def test_without_crawl_active_the_path_is_read_as_a_job_id(
    clock: ManualClock, mode: str, status: int, body: dict[str, Any]
) -> None:
    # The route is registered before /crawl/:jobId; without it, "active" is taken for an id.
    with FakeFirecrawl(clock=clock, mode=mode, active_crawls=False) as sim:
        sim.add_key(ALICE)
        sim.create_crawl(ALICE, rate=1.0)

        response = Api(sim).get("/v2/crawl/active")

    assert (response.status_code, response.json()) == (status, body)
