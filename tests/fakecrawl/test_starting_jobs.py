"""Starting jobs on the simulator: POST /v{1,2}/batch/scrape and the answers of each generation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from tests.fakecrawl.support import ALICE, Api, capture, capture_paths

POST_CAPTURES = [
    pytest.param(path, id=f"{generation}/{path.stem}")
    for generation in ("2025", "2026")
    for path in capture_paths("*_post*", generation)
]
URLS = ["https://a.example/1", "https://a.example/2", "https://a.example/3"]


def replay(api: Api, recorded: dict[str, Any]) -> requests.Response:
    """Send a captured request again, to the simulator."""
    request = recorded["request"]
    path = "/" + request["url"].split("/", 3)[3]
    if "body_raw" in request:
        raw = request["body_raw"].encode()
        return api.post(path, data=raw, headers={"Content-Type": "application/json"})
    if request.get("body") is None:
        return api.post(path)
    return api.post(path, json=request["body"])


@pytest.mark.parametrize("path", POST_CAPTURES)
def test_every_recorded_post_gets_the_recorded_answer(api: Api, path: Path) -> None:
    recorded = json.loads(path.read_text())
    api.sim.set_mode(path.parent.name.split("-")[2])
    real = json.loads(recorded["body_raw"])

    response = replay(api, recorded)

    if recorded["status"] != 200:
        assert (response.status_code, response.json()) == (recorded["status"], real)
    else:
        ours = response.json()
        assert response.status_code == 200
        assert list(ours) == list(real)
        assert ours.get("invalidURLs") == real.get("invalidURLs")
        route = real["url"].split("/", 3)[3].replace(real["id"], ours["id"])
        assert ours["url"] == f"{api.sim.url}/{route}"


def test_v2_always_answers_invalid_urls_and_v1_only_when_told_to_ignore_them(api: Api) -> None:
    v1 = api.post("/v1/batch/scrape", json={"urls": URLS}).json()
    v2 = api.post("/v2/batch/scrape", json={"urls": URLS}).json()
    v1_ignoring = api.post(
        "/v1/batch/scrape", json={"urls": [*URLS, "not a url"], "ignoreInvalidURLs": True}
    ).json()

    assert "invalidURLs" not in v1
    assert v2["invalidURLs"] == []
    assert v1_ignoring["invalidURLs"] == ["not a url"]
    assert api.status(v1_ignoring["id"])["total"] == 3


def test_the_2026_server_refuses_a_batch_whose_every_url_is_invalid(api: Api) -> None:
    payload = {"urls": ["not a url", "http://localhost/x"], "ignoreInvalidURLs": True}

    refused = api.post("/v2/batch/scrape", json=payload)
    api.sim.set_mode("2025")
    accepted = api.post("/v2/batch/scrape", json=payload)

    assert (refused.status_code, refused.json()) == (
        400,
        {"success": False, "error": "No valid URLs provided"},
    )
    assert accepted.status_code == 200
    assert accepted.json()["invalidURLs"] == payload["urls"]
    assert api.status(accepted.json()["id"])["total"] == 0


def test_a_url_without_a_scheme_is_scraped_over_http(api: Api) -> None:
    job_id = api.start("/v2/batch/scrape", {"urls": ["docs.example.com/start"]})

    (doc,) = api.status(job_id)["data"]

    assert doc["metadata"]["sourceURL"] == "http://docs.example.com/start"


def test_a_posted_batch_scrapes_the_formats_it_asks_for(api: Api) -> None:
    formats = ["markdown", "html", "rawHtml", "links", {"type": "screenshot", "fullPage": True}]
    job_id = api.start("/v2/batch/scrape", {"urls": URLS[:1], "formats": formats})
    plain_id = api.start("/v2/batch/scrape", {"urls": URLS[:1]})

    (doc,) = api.status(job_id)["data"]
    (plain,) = api.status(plain_id)["data"]

    assert set(doc) == {"markdown", "html", "rawHtml", "links", "screenshot", "metadata"}
    assert doc["screenshot"].startswith(api.sim.storage_url + "/")
    assert doc["screenshot"].split("?")[0].endswith(".png")
    assert set(plain) == {"markdown", "metadata"}  # the server's default is markdown only


def test_only_main_content_false_keeps_the_pages_navigation_and_footer(api: Api) -> None:
    payload: dict[str, Any] = {"urls": URLS[:1], "formats": ["markdown", "html"]}
    main_id = api.start("/v1/batch/scrape", payload)
    whole_id = api.start("/v1/batch/scrape", {**payload, "onlyMainContent": False})

    (main,) = api.status(main_id)["data"]
    (whole,) = api.status(whole_id)["data"]

    assert "<nav>" not in main["html"] and "© Example Corp" not in main["markdown"]
    assert "<nav>" in whole["html"] and "© Example Corp" in whole["markdown"]
    assert whole["markdown"].startswith("[Home](/)")


def test_started_jobs_spend_the_teams_credits(api: Api) -> None:
    api.sim.add_key(ALICE, team="alice", credits=100)

    api.start("/v2/batch/scrape", {"urls": URLS})
    api.start("/v1/batch/scrape", {"urls": [*URLS[:2], "http://127.0.0.1:9/down"]})

    usage = api.json("/v2/team/credit-usage")["data"]
    assert (usage["remainingCredits"], usage["planCredits"]) == (95, 100)  # the failed URL is free


def test_a_team_short_of_credits_gets_402_before_its_body_is_even_read(api: Api) -> None:
    api.sim.add_key(ALICE, team="alice", credits=2)
    expected = {
        "success": False,
        "error": "Insufficient credits to perform this request. For more credits, you can "
        "upgrade your plan at https://firecrawl.dev/pricing or try changing the request limit "
        "to a lower value.",
    }

    too_many = api.post("/v2/batch/scrape", json={"urls": URLS})
    bad_body_too = api.post("/v1/batch/scrape", json={"urls": URLS, "formats": ["bogus"]})
    two = api.post("/v2/batch/scrape", json={"urls": URLS[:2]})
    none_left = api.post("/v2/batch/scrape", json={"urls": URLS[:1]})

    assert (too_many.status_code, too_many.json()) == (402, expected)
    assert (bad_body_too.status_code, bad_body_too.json()) == (402, expected)
    assert two.status_code == 200
    assert (none_left.status_code, none_left.json()) == (402, expected)
    assert len(api.json("/v2/team/activity")["data"]) == 1


def test_an_injected_rate_limit_refuses_the_post_and_starts_nothing(api: Api) -> None:
    api.sim.inject(Fault.rate_limit(), method="POST")

    status = api.get("/v2/team/credit-usage")
    limited = api.post("/v2/batch/scrape", json={"urls": URLS})
    started = api.post("/v2/batch/scrape", json={"urls": URLS})

    assert status.status_code == 200  # the fault waited for a POST
    assert limited.status_code == 429
    assert limited.json()["error"].startswith("Rate limit exceeded. Consumed (req/min): 501")
    assert started.status_code == 200
    assert [job["id"] for job in api.json("/v2/team/activity")["data"]] == [started.json()["id"]]


def test_posts_can_be_counted_and_read_back(api: Api) -> None:
    api.post("/v2/batch/scrape", json={"urls": URLS})
    api.post("/v2/batch/scrape", json={"urls": []})
    api.post("/v1/crawl", json={"url": "https://docs.example.com", "limit": 2})
    api.get("/v2/team/credit-usage")

    assert api.sim.count_requests("POST") == 3
    assert api.sim.count_requests("post", "/batch/scrape") == 2
    assert api.sim.count_requests(path_contains="/team/") == 1
    first = api.sim.requests[0]
    assert json.loads(first.body) == {"urls": URLS}
    assert [r.status for r in api.sim.requests if r.method == "POST"] == [200, 400, 200]


def test_malformed_json_is_refused_before_the_key_is_checked(sim: FakeFirecrawl) -> None:
    response = requests.post(
        f"{sim.url}/v2/batch/scrape",
        data=b'{"urls": [',
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert (response.status_code, response.json()) == capture("218_v2_batch_post_malformed_json")


def test_posted_jobs_progress_at_the_post_rate(sim: FakeFirecrawl, clock: ManualClock) -> None:
    sim.post_rate = 2.0
    api = Api(sim)
    job_id = api.start("/v2/batch/scrape", {"urls": URLS})

    first = api.status(job_id)
    clock.advance(1)

    assert (first["completed"], first["total"]) == (0, 3)
    assert api.status(job_id)["completed"] == 2
