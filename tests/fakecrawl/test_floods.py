"""Hostile and huge upstreams on the simulator: floods of listings and failures, huge strings,
faults aimed at one key or kept until cleared, and a latency for benchmarks."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from tests.fakecrawl.support import ALICE, BOB, Api


def test_a_listing_flood_ignores_limit_and_never_ends(api: Api) -> None:
    real = api.sim.create_batch(ALICE, n=1)
    api.sim.inject(Fault.listing_flood(1000), count=None)

    pages = [api.json("/v2/team/activity?limit=10")]
    for _ in range(3):
        pages.append(api.json(f"/v2/team/activity?limit=10&cursor={pages[-1]['cursor']}"))

    ids = [item["id"] for page in pages for item in page["data"]]
    assert [len(page["data"]) for page in pages] == [1000] * 4
    assert all(page["has_more"] and page["cursor"] for page in pages)
    assert len(set(ids)) == 4000 and real not in ids
    assert {item["endpoint"] for item in pages[0]["data"]} == {"crawl", "batch_scrape"}
    assert list(pages[0]["data"][0]) == ["id", "endpoint", "api_version", "created_at", "target"]


def test_a_listing_flood_can_end_after_some_pages_and_still_checks_its_parameters(
    api: Api,
) -> None:
    api.sim.inject(Fault.listing_flood(5, pages=2), count=None)

    first = api.json("/v2/team/activity")
    second = api.json(f"/v2/team/activity?cursor={first['cursor']}")
    bad = api.get("/v2/team/activity?endpoint=nope")

    assert (first["has_more"], second["has_more"], second["cursor"]) == (True, False, None)
    assert bad.status_code == 400


def test_a_listing_flood_can_carry_a_15_mb_target(api: Api) -> None:
    api.sim.inject(Fault.listing_flood(3, pages=1, target_chars=15_000_000))

    data = api.json("/v2/team/activity")["data"]

    assert len(data[0]["target"]) == 15_000_000
    assert max(len(item["target"]) for item in data[1:]) < 100


def test_an_active_flood_lists_thousands_of_crawls_before_the_real_ones(api: Api) -> None:
    running = api.sim.create_crawl(ALICE, rate=0.1)
    api.sim.inject(Fault.active_flood(5000, url_chars=5_000_000), count=None)

    listed = api.json("/v1/crawl/active")["crawls"]
    again = api.json("/v2/crawl/ongoing")["crawls"]

    assert len(listed) == len(again) == 5001
    assert listed[-1]["id"] == running
    assert len(listed[0]["url"]) == 5_000_000
    assert list(listed[1]) == ["id", "teamId", "url", "created_at", "options"]
    assert len({crawl["id"] for crawl in listed}) == 5001


def test_an_error_flood_lists_200000_failures_after_the_real_ones(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=6, fail_every=3)
    real = api.errors(job_id)
    api.sim.inject(Fault.error_flood(200_000), job_id=job_id, count=None)

    response = api.get(f"/v2/batch/scrape/{job_id}/errors")
    entries = response.json()["errors"]

    assert response.headers["Transfer-Encoding"] == "chunked"
    assert len(entries) == 200_002 and entries[:2] == real
    assert list(entries[2]) == ["id", "timestamp", "url", "code", "error"]
    assert len({entry["id"] for entry in entries}) == 200_002
    assert api.status(job_id)["completed"] == 4  # the status is left alone


@pytest.mark.parametrize("fresh_ids", [False, True])
def test_an_error_flood_gives_the_same_ids_on_every_read_unless_asked_for_fresh_ones(
    api: Api, fresh_ids: bool
) -> None:
    job_id = api.sim.create_batch(ALICE, n=1)
    api.sim.inject(Fault.error_flood(2000, fresh_ids=fresh_ids), job_id=job_id, count=None)

    first = {entry["id"] for entry in api.errors(job_id)}
    second = {entry["id"] for entry in api.errors(job_id)}

    assert len(first) == len(second) == 2000
    assert (first == second) is not fresh_ids
    assert bool(first & second) is not fresh_ids


def test_an_error_flood_can_carry_a_30_mb_error_and_a_5_mb_url(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1)
    flood = Fault.error_flood(2, error_chars=30_000_000, url_chars=5_000_000)
    api.sim.inject(flood, job_id=job_id)

    huge, normal = api.errors(job_id)

    assert (len(huge["error"]), len(huge["url"])) == (30_000_000, 5_000_000)
    assert len(normal["error"]) < 1000


def test_a_job_can_fail_its_urls_with_a_message_of_its_own(api: Api) -> None:
    url = "https://huge.example.com/" + "p" * 1_000_000
    job_id = api.sim.create_batch(ALICE, [url], fail_urls={url}, error_message="E" * 2_000_000)

    (entry,) = api.errors(job_id)

    assert (entry["url"], len(entry["error"])) == (url, 2_000_000)


def test_a_fault_aimed_at_one_key_leaves_the_others_alone(sim: FakeFirecrawl) -> None:
    alices = sim.create_batch(ALICE, n=1)
    bobs = sim.create_batch(BOB, n=1)
    sim.inject(Fault.server_error(), api_key=BOB, count=None)

    bob = [Api(sim, BOB).get(f"/v2/batch/scrape/{bobs}").status_code for _ in range(3)]
    alice = [Api(sim).get(f"/v2/batch/scrape/{alices}").status_code for _ in range(3)]

    assert (bob, alice) == ([500] * 3, [200] * 3)


def test_a_lasting_fault_stays_until_cleared_and_never_hides_a_one_off(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1)
    api.sim.inject(Fault.not_found(), count=None)
    api.sim.inject(Fault.rate_limit())

    statuses = [api.get(f"/v2/batch/scrape/{job_id}").status_code for _ in range(4)]
    api.sim.clear_faults()

    assert statuses == [429, 404, 404, 404]
    assert api.get(f"/v2/batch/scrape/{job_id}").status_code == 200


def test_a_flood_waits_for_its_own_route(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1)
    api.sim.inject(Fault.listing_flood(7))

    status = api.status(job_id)
    listed = api.json("/v2/team/activity")["data"]
    after = api.json("/v2/team/activity")["data"]

    assert status["completed"] == 1
    assert (len(listed), [item["id"] for item in after]) == (7, [job_id])


def test_latency_holds_every_api_request(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, latency=5.0) as sim:
        sim.add_key(ALICE)
        job_id = sim.create_batch(ALICE, n=1)
        api = Api(sim)

        with pytest.raises(requests.exceptions.ReadTimeout):
            api.session.get(f"{sim.url}/v2/batch/scrape/{job_id}", timeout=0.5)
        sim.latency = 0
        answered = api.status(job_id)

    assert answered["completed"] == 1


def test_the_self_hosted_server_has_no_billing(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, self_hosted=True) as sim:
        sim.add_key(ALICE, credits=1)
        job_id = Api(sim).start("/v2/batch/scrape", {"urls": ["https://a.example.com"] * 3})
        credits = Api(sim).get("/v2/team/credit-usage")
        status: dict[str, Any] = Api(sim).status(job_id)

    assert credits.status_code == 500
    assert (status["creditsUsed"], status["completed"]) == (-1, 3)
    assert json.loads(credits.text)["code"] == "UNKNOWN_ERROR"
