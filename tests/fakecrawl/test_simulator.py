"""Tests of the Firecrawl simulator: real HTTP against it, shapes compared with recorded responses.

The recordings of real self-hosted servers are in tests/fakecrawl/captures (see its README).
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from fakecrawl.content import utf16_len
from tests.fakecrawl.support import ALICE, BOB, SPEC_V2, Api, Receiver, capture, shape

# Shapes and exact bodies, compared with the 2026 captures.


@pytest.mark.parametrize(
    ("version", "name"),
    [(1, "013_v1_batch_small_after_done"), (2, "114_v2_batch_small_after_done")],
)
def test_completed_status_has_the_captured_shape(api: Api, version: int, name: str) -> None:
    _, real = capture(name)
    job_id = api.sim.create_batch(ALICE, n=29)
    ours = api.status(job_id, version=version)
    assert [key for key in ours] == [key for key in real]
    assert shape({k: v for k, v in ours.items() if k != "data"}) == shape(
        {k: v for k, v in real.items() if k != "data"}
    )
    ours_doc, real_doc = ours["data"][0], real["data"][0]
    assert list(ours_doc) == list(real_doc)
    common = [key for key in ours_doc["metadata"] if key in real_doc["metadata"]]
    assert set(real_doc["metadata"]) - {"description"} <= set(common)
    assert common == [key for key in real_doc["metadata"] if key in ours_doc["metadata"]]
    assert [shape(ours_doc["metadata"][k]) for k in common] == [
        shape(real_doc["metadata"][k]) for k in common
    ]


def test_running_and_cancelled_status_have_the_captured_shape(api: Api, clock: ManualClock) -> None:
    job_id = api.sim.create_batch(ALICE, n=40, rate=2)
    clock.advance(10)
    _, running = capture("157_v2_bigbatch_poll04")
    assert shape(api.status(job_id)) == shape(running)
    assert api.delete(f"/v2/batch/scrape/{job_id}").json() == capture("170_v2_cancel")[1]
    _, cancelled = capture("171_v2_cancel_get_after")
    ours = api.status(job_id, "?limit=1")
    assert shape(ours) == shape(cancelled)
    assert ours["next"].endswith(f"/v2/batch/scrape/{job_id}?skip=1&limit=1")


def test_documents_match_the_captured_and_documented_keys(api: Api) -> None:
    _, real = capture("114_v2_batch_small_after_done")
    spec = json.loads(SPEC_V2.read_text())
    item = spec["components"]["schemas"]["BatchScrapeStatusResponseObj"]["properties"]["data"]
    documented = set(item["items"]["properties"])
    documented_meta = set(item["items"]["properties"]["metadata"]["properties"])
    real_meta = {key for doc in real["data"] for key in doc["metadata"]}
    docs = api.status(api.sim.create_batch(ALICE, n=100, hostile=True))["data"]
    for doc in docs:
        assert set(doc) <= documented | {"rawHtml"}
        assert list(doc) == sorted(doc, key=lambda k: (len(k), k))  # jsonb key order
        extra_meta = {"keywords", "error", "ogTitle", "ogDescription", "favicon"}
        assert set(doc["metadata"]) <= real_meta | documented_meta | extra_meta
        assert {"sourceURL", "url", "statusCode", "scrapeId"} <= set(doc["metadata"])


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "/v1/batch/scrape/019ac000-0000-7000-8000-000000000000", "025_v1"),
        ("GET", "/v2/batch/scrape/2d6bc133-9ea0-40e4-a300-5149cd39bf34", "125_v2"),
        ("GET", "/v1/batch/scrape/not-a-uuid", "027_v1"),
        ("GET", "/v2/crawl/not-a-uuid", "134_v2"),
        ("GET", "/v1/batch/scrape/87cf0df6-1426-4c6e-bfff-94524015f1ba/errors", "028_v1"),
        ("GET", "/v1/batch/scrape/not-a-uuid/errors", "029_v1"),
        ("DELETE", "/v1/batch/scrape/166ea56d-a531-4766-81e4-77ccb673ce26", "030_v1"),
        ("DELETE", "/v1/batch/scrape/not-a-uuid", "031_v1"),
        ("DELETE", "/v2/batch/scrape/not-a-uuid", "132_v2"),
    ],
)
def test_error_bodies_are_the_captured_ones(api: Api, method: str, path: str, name: str) -> None:
    status, body = capture(name)
    response = api.session.request(method, api.sim.url + path, timeout=10)
    assert (response.status_code, response.json()) == (status, body)


def test_post_answers_are_the_captured_ones(api: Api) -> None:
    cases: list[tuple[str, int, dict[str, Any]]] = [
        ("034_v1_batch_post_empty_urls", 1, {"urls": []}),
        ("035_v1_batch_post_no_body", 1, {}),
        ("135_v2_batch_post_empty_urls", 2, {"urls": []}),
    ]
    for name, version, payload in cases:
        response = api.post(f"/v{version}/batch/scrape", json=payload)
        assert (response.status_code, response.json()) == capture(name)
    response = api.post("/v2/batch/scrape", data=b"{not json", headers={"Content-Type": "x"})
    assert (response.status_code, response.json()) == capture("218_v2_batch_post_malformed_json")
    for name, version in [("037_v1_batch_post_allfail", 1), ("138_v2_batch_post_allfail", 2)]:
        answer = api.post(f"/v{version}/batch/scrape", json={"urls": ["https://a.example/x"]})
        assert list(answer.json()) == list(capture(name)[1])
        assert (
            answer.json()["url"] == f"{api.sim.url}/v{version}/batch/scrape/{answer.json()['id']}"
        )


def test_errors_endpoint_has_the_captured_shape(api: Api) -> None:
    _, real = capture("120_v2_batch_small_errors")
    job_id = api.sim.create_batch(ALICE, n=10, fail_every=5)
    for path in (f"/v1/batch/scrape/{job_id}/errors", f"/v2/crawl/{job_id}/errors"):
        ours = api.get(path).json()
        assert shape(ours) == shape(real)
        assert [list(entry) for entry in ours["errors"]] == [list(real["errors"][0])] * 2
        assert ours["errors"][0]["error"] == real["errors"][0]["error"]
        assert {entry["url"] for entry in ours["errors"]} == {
            "https://example.test/page/5",
            "https://example.test/page/10",
        }


def test_cancelling_a_completed_job_is_a_409_then_an_expired_job_is_gone(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=3)
    response = api.delete(f"/v1/batch/scrape/{job_id}")
    assert (response.status_code, response.json()) == capture("022_v1_batch_delete_completed")
    api.sim.expire(job_id)
    for method, path, name in [
        ("GET", f"/v2/batch/scrape/{job_id}", "206_v2"),
        ("GET", f"/v2/batch/scrape/{job_id}/errors", "207_v2"),
        ("DELETE", f"/v2/batch/scrape/{job_id}", "208_v2"),
    ]:
        response = api.session.request(method, api.sim.url + path, timeout=10)
        assert (response.status_code, response.json()) == capture(name)


def test_negative_skip_is_a_500_and_limit_zero_points_next_at_itself(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=5)
    status, real = capture("065_v1_bigbatch_skip_neg")
    response = api.get(f"/v1/batch/scrape/{job_id}?skip=-5&limit=2")
    assert response.status_code == status
    assert list(response.json()) == list(real)
    assert re.fullmatch(r"An error occurred\. .* Error ID: [0-9a-f]{32}", response.json()["error"])
    page = api.status(job_id, "?limit=0", version=1)
    assert shape(page) == shape(capture("066_v1_bigbatch_limit0")[1])
    assert page["data"] == []
    assert page["next"] == f"{api.sim.url}/v1/batch/scrape/{job_id}?skip=0&limit=0"


def test_credit_usage_without_billing_is_the_captured_500(sim: FakeFirecrawl) -> None:
    sim.add_key("fc-selfhosted", team="selfhosted", credits=None)
    status, real = capture("147_v2_team_credit_usage")
    response = Api(sim, "fc-selfhosted").get("/v2/team/credit-usage")
    assert response.status_code == status
    assert list(response.json()) == list(real)
    assert response.json()["code"] == "UNKNOWN_ERROR"


def test_credit_usage_counts_scraped_documents(api: Api) -> None:
    api.sim.add_key(ALICE, team="alice", credits=500)
    api.sim.create_batch(ALICE, n=30)
    v1 = api.get("/v1/team/credit-usage").json()
    v2 = api.get("/v2/team/credit-usage").json()
    assert v1["success"] and v2["success"]
    assert list(v1["data"]) == [
        "remaining_credits",
        "plan_credits",
        "billing_period_start",
        "billing_period_end",
    ]
    assert list(v2["data"]) == [
        "remainingCredits",
        "planCredits",
        "billingPeriodStart",
        "billingPeriodEnd",
    ]
    assert (v2["data"]["remainingCredits"], v2["data"]["planCredits"]) == (470, 500)


# Pagination and `next`.


def test_pages_hold_100_documents_in_completion_order(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=250)
    pages = api.follow(job_id)
    assert [len(page["data"]) for page in pages] == [100, 100, 50]
    assert "next" not in pages[-1]
    assert pages[0]["next"] == f"{api.sim.url}/v2/batch/scrape/{job_id}?skip=100"
    docs = [doc for page in pages for doc in page["data"]]
    assert docs == api.sim.job(job_id).documents
    sources = [doc["metadata"]["sourceURL"] for doc in docs]
    assert sorted(sources) == sorted(f"https://example.test/page/{i}" for i in range(1, 251))
    assert sources != [f"https://example.test/page/{i}" for i in range(1, 251)]


def test_limit_is_echoed_in_next(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=25)
    page = api.status(job_id, "?skip=10&limit=10")
    assert len(page["data"]) == 10
    assert page["next"].endswith("?skip=20&limit=10")


def test_the_size_limit_moves_the_crossing_document_to_the_next_page(api: Api) -> None:
    api.sim.page_limit_chars = 20_000
    job_id = api.sim.create_batch(ALICE, n=40, doc_size=3000, hostile=True)
    pages = api.follow(job_id)
    assert len(pages) > 3
    sizes = [
        [utf16_len(json.dumps(d, ensure_ascii=False, separators=(",", ":"))) for d in p["data"]]
        for p in pages
    ]
    for this, following in itertools.pairwise(sizes):
        assert sum(this) <= 20_000 < sum(this) + following[0]
    assert sum(len(s) for s in sizes) == 40


def test_a_document_larger_than_the_limit_comes_alone(api: Api) -> None:
    api.sim.page_limit_chars = 5_000
    job_id = api.sim.create_batch(ALICE, n=3, doc_size=8000)
    pages = api.follow(job_id)
    assert [len(page["data"]) for page in pages] == [1, 1, 1]
    assert len(pages[0]["data"][0]["markdown"]) >= 7000


def test_sizes_count_characters_outside_the_bmp_twice() -> None:
    assert utf16_len("a🙂") == 3
    assert utf16_len("é") == 1


def test_a_running_job_repeats_the_same_cursor_until_documents_arrive(
    api: Api, clock: ManualClock
) -> None:
    job_id = api.sim.create_batch(ALICE, n=10, rate=2)
    first = api.status(job_id)
    assert (first["status"], first["data"], first["total"]) == ("scraping", [], 10)
    assert first["next"].endswith("?skip=0")
    clock.advance(1.5)
    page = api.status(job_id)
    assert len(page["data"]) == 3 and page["next"].endswith("?skip=3")
    assert api.status(job_id, "?skip=3")["next"].endswith("?skip=3")
    clock.advance(10)
    done = api.status(job_id, "?skip=3")
    assert (done["status"], len(done["data"])) == ("completed", 7)
    assert "next" not in done
    assert done["completedAt"] == "2026-11-28T13:00:05.000Z"
    assert done["expiresAt"] == "2026-11-29T13:00:11.000Z"  # read at 13:00:11.5, +24 h


def test_a_cancelled_job_points_next_at_itself_forever(api: Api, clock: ManualClock) -> None:
    job_id = api.sim.create_batch(ALICE, n=10, rate=1)
    clock.advance(4)
    assert api.delete(f"/v1/batch/scrape/{job_id}").json() == {"status": "cancelled"}
    clock.advance(60)
    page = api.status(job_id, version=1)
    assert (page["status"], page["completed"], page["total"]) == ("cancelled", 4, 4)
    again = api.status(job_id, "?skip=4", version=1)
    assert again["data"] == [] and again["next"].endswith(f"{job_id}?skip=4")
    assert api.delete(f"/v1/batch/scrape/{job_id}").status_code == 200


def test_the_2026_server_says_scraping_for_a_while_at_100_percent(
    api: Api, clock: ManualClock
) -> None:
    api.sim.settle_seconds = 3
    job_id = api.sim.create_batch(ALICE, n=5)
    page = api.status(job_id)
    assert (page["status"], page["completed"], page["total"]) == ("scraping", 5, 5)
    assert "completedAt" not in page and "next" in page
    clock.advance(3)
    assert api.status(job_id)["status"] == "completed"


def test_the_2025_server_ignores_skip(api: Api) -> None:
    api.sim.set_mode("2025")
    api.sim.page_limit_chars = 30_000
    job_id = api.sim.create_batch(ALICE, n=40, doc_size=3000)
    pages = api.follow(job_id, max_pages=10)
    first = pages[0]["data"]
    assert 1 < len(first) < 40
    assert all(page["data"] == first for page in pages)
    skips = [int(page["next"].rsplit("=", 1)[1]) for page in pages if "next" in page]
    assert skips == [len(first) * (i + 1) for i in range(len(skips))]
    assert "createdAt" not in pages[0]


def test_the_2025_server_cancels_completed_jobs_and_404s_bad_ids(api: Api) -> None:
    api.sim.set_mode("2025")
    job_id = api.sim.create_batch(ALICE, n=3)
    assert api.delete(f"/v2/batch/scrape/{job_id}").json() == {"status": "cancelled"}
    assert api.status(job_id)["status"] == "cancelled"
    assert api.get("/v2/batch/scrape/not-a-uuid").status_code == 404
    assert api.get(f"/v2/batch/scrape/{job_id}/errors").status_code == 404
    assert api.get(f"/v2/crawl/{job_id}/errors").status_code == 200


# Failures, expiry, ids.


def test_failed_urls_leave_data_and_total_and_show_in_errors(api: Api, clock: ManualClock) -> None:
    job_id = api.sim.create_batch(ALICE, n=20, rate=2, fail_every=4)
    totals = []
    for _ in range(12):
        totals.append(api.status(job_id)["total"])
        clock.advance(1)
    assert totals[0] == 20 and totals[-1] == 15
    assert totals == sorted(totals, reverse=True)
    page = api.status(job_id)
    assert (page["status"], page["completed"]) == ("completed", 15)
    failed_urls = {doc["url"] for doc in api.sim.job(job_id).failed}
    assert failed_urls == {f"https://example.test/page/{i}" for i in (4, 8, 12, 16, 20)}
    assert not failed_urls & {doc["metadata"]["sourceURL"] for doc in page["data"]}


def test_a_batch_whose_every_url_fails_completes_empty(api: Api) -> None:
    urls = ["https://a.example/1", "https://a.example/2"]
    job_id = api.sim.create_batch(ALICE, urls, fail_urls=set(urls))
    page = api.status(job_id)
    assert (page["status"], page["completed"], page["total"], page["data"]) == (
        "completed",
        0,
        0,
        [],
    )
    assert len(api.get(f"/v2/batch/scrape/{job_id}/errors").json()["errors"]) == 2


def test_jobs_expire_24_hours_after_completion(api: Api, clock: ManualClock) -> None:
    job_id = api.sim.create_batch(ALICE, n=5)
    clock.advance(24 * 3600 - 1)
    assert api.get(f"/v2/batch/scrape/{job_id}").status_code == 200
    clock.advance(1)
    assert api.get(f"/v2/batch/scrape/{job_id}").json() == {
        "success": False,
        "error": "Job not found",
    }
    assert api.get(f"/v2/batch/scrape/{job_id}/errors").json() == {
        "errors": [],
        "robotsBlocked": [],
    }


def test_ids_and_documents_are_deterministic_from_the_seed() -> None:
    def run(seed: int) -> tuple[str, list[dict[str, Any]]]:
        sim = FakeFirecrawl(seed=seed, clock=ManualClock())
        sim.add_key(ALICE)
        job_id = sim.create_batch(ALICE, n=20, hostile=True)
        return job_id, sim.job(job_id).documents

    assert run(1) == run(1)
    assert run(1) != run(2)
    job_id, _ = run(1)
    assert job_id[14] == "7"
    sim = FakeFirecrawl(clock=ManualClock())
    sim.add_key(ALICE)
    assert sim.create_batch(ALICE, n=1, uuid_version=4)[14] == "4"


def test_hostile_documents_carry_scripts_htmx_and_rtl_everywhere(api: Api) -> None:
    docs = api.status(api.sim.create_batch(ALICE, n=10, hostile=True))["data"]
    for field in ("markdown", "html", "rawHtml"):
        text = "".join(doc[field] for doc in docs)
        assert "<script>" in text and "hx-" in text and "javascript:" in text, field
    html = "".join(doc["html"] + doc["rawHtml"] for doc in docs)
    for needle in ("onerror=", "hx-post", "hx-trigger", "<iframe", "<svg onload", "\u202e"):
        assert needle in html
    assert any("<script>" in doc["metadata"]["title"] for doc in docs)


def test_posted_crawls_and_batches_are_real_jobs(api: Api) -> None:
    started = api.post("/v1/crawl", json={"url": "https://docs.example.com", "limit": 7}).json()
    page = api.get(f"/v1/crawl/{started['id']}").json()
    assert (page["status"], page["completed"]) == ("completed", 7)
    batch = api.post(
        "/v2/batch/scrape",
        json={"urls": ["https://a.example/1", "http://127.0.0.1:9/x.html", "not a url"]},
    )
    assert batch.status_code == 400
    batch = api.post(
        "/v2/batch/scrape",
        json={"urls": ["https://a.example/1", "http://127.0.0.1:9/x"], "ignoreInvalidURLs": True},
    ).json()
    assert batch["invalidURLs"] == []
    assert api.status(batch["id"])["total"] == 1
    assert api.get(f"/v2/batch/scrape/{batch['id']}/errors").json()["errors"][0]["url"] == (
        "http://127.0.0.1:9/x"
    )


# Auth and teams.


def test_requests_need_a_known_key(sim: FakeFirecrawl) -> None:
    job_id = sim.create_batch(ALICE, n=1)
    url = f"{sim.url}/v2/batch/scrape/{job_id}"
    missing = requests.get(url, timeout=10)
    assert (missing.status_code, missing.json()) == (
        401,
        {"success": False, "error": "Unauthorized: Token missing"},
    )
    unknown = requests.get(url, headers={"Authorization": "Bearer fc-nobody"}, timeout=10)
    assert (unknown.status_code, unknown.json()) == (
        401,
        {"success": False, "error": "Unauthorized: Invalid token"},
    )


def test_another_teams_job_is_not_found(sim: FakeFirecrawl) -> None:
    job_id = sim.create_batch(ALICE, n=1)
    bob = Api(sim, BOB)
    assert bob.get(f"/v2/batch/scrape/{job_id}").status_code == 404
    assert bob.delete(f"/v2/batch/scrape/{job_id}").status_code == 404
    forbidden = bob.get(f"/v2/batch/scrape/{job_id}/errors")
    assert (forbidden.status_code, forbidden.json()) == (
        403,
        {"success": False, "error": "Forbidden"},
    )
    assert sim.job(job_id).status == "completed"


def test_every_request_is_recorded(api: Api) -> None:
    api.get("/v2/batch/scrape/019ac000-0000-7000-8000-000000000000?skip=3")
    (record,) = api.sim.requests
    assert (record.method, record.path, record.query, record.api_key, record.status) == (
        "GET",
        "/v2/batch/scrape/019ac000-0000-7000-8000-000000000000",
        {"skip": "3"},
        ALICE,
        404,
    )
    api.sim.clear_requests()
    assert api.sim.requests == []


# Faults.


def test_rate_limit_fault_looks_like_firecrawls_429(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1)
    api.sim.inject(Fault.rate_limit(), job_id=job_id, count=2)
    api.sim.inject(Fault.rate_limit(retry_after=7, wait_text=None), job_id=job_id)
    first, second, third, fourth = (api.get(f"/v2/batch/scrape/{job_id}") for _ in range(4))
    assert first.status_code == second.status_code == 429
    assert "Retry-After" not in first.headers
    assert re.search(r"please retry after 12s, resets at \w{3} \w{3} \d\d", first.json()["error"])
    assert first.json()["error"].startswith("Rate limit exceeded. Consumed (req/min): 501")
    assert (third.status_code, third.headers["Retry-After"]) == (429, "7")
    assert "retry after" not in third.json()["error"]
    assert fourth.status_code == 200


def test_server_error_faults(api: Api) -> None:
    api.sim.inject(Fault.server_error())
    api.sim.inject(Fault.server_error(502))
    api.sim.inject(Fault.server_error(503))
    error = api.get("/v1/team/credit-usage")
    assert error.status_code == 500 and error.json()["code"] == "UNKNOWN_ERROR"
    assert re.search(r"Your exception ID is [0-9a-f]+$", error.json()["error"])
    bad_gateway = api.get("/v1/team/credit-usage")
    assert bad_gateway.status_code == 502 and "text/html" in bad_gateway.headers["Content-Type"]
    unavailable = api.get("/v1/team/credit-usage")
    assert (unavailable.status_code, unavailable.text.strip()) == (503, "Service Unavailable")


def test_slow_fault_delays_the_answer(api: Api) -> None:
    api.sim.inject(Fault.slow(0.3), path_contains="credit-usage")
    started = time.monotonic()
    assert api.get("/v2/team/credit-usage").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_fault_cuts_the_body_and_the_connection(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=5)
    api.sim.inject(Fault.drop(), job_id=job_id)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        api.get(f"/v2/batch/scrape/{job_id}")
    assert api.status(job_id)["completed"] == 5  # the session recovers on a new connection


def test_invalid_json_html_page_and_success_false_faults(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=5)
    api.sim.inject(Fault.invalid_json(), job_id=job_id)
    api.sim.inject(Fault.html_error_page(), job_id=job_id)
    api.sim.inject(Fault.html_error_page(status=502), job_id=job_id)
    api.sim.inject(Fault.success_false(), job_id=job_id)
    truncated = api.get(f"/v2/batch/scrape/{job_id}")
    assert truncated.status_code == 200
    with pytest.raises(ValueError):
        truncated.json()
    html = api.get(f"/v2/batch/scrape/{job_id}")
    assert (html.status_code, html.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert api.get(f"/v2/batch/scrape/{job_id}").status_code == 502
    failed = api.get(f"/v2/batch/scrape/{job_id}")
    assert failed.status_code == 200
    assert (failed.json()["success"], failed.json()["status"]) == (False, "failed")


def test_foreign_next_and_not_found_faults(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=150)
    api.sim.inject(Fault.not_found(), job_id=job_id)
    api.sim.inject(Fault.foreign_next(), job_id=job_id)
    assert api.get(f"/v2/batch/scrape/{job_id}").json() == {
        "success": False,
        "error": "Job not found",
    }
    page = api.status(job_id)
    assert page["next"] == f"http://evil.invalid:9/v2/batch/scrape/{job_id}?skip=100"
    assert api.status(job_id)["next"].startswith(api.sim.url)


def test_next_uses_the_host_header(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=150)
    page = api.status(job_id, "?limit=5")
    assert page["next"].startswith(api.sim.url)
    proxied = api.get(f"/v2/batch/scrape/{job_id}", headers={"Host": "localhost:3002"}).json()
    assert proxied["next"] == f"http://localhost:3002/v2/batch/scrape/{job_id}?skip=100"


def serve_from_the_command_line(*flags: str) -> tuple[subprocess.Popen[str], str, list[str]]:
    """`python -m fakecrawl --port 0 --key fc-demo ...`: the process, its URL, the demo job ids."""
    command = [sys.executable, "-m", "fakecrawl", "--port", "0", "--key", "fc-demo", *flags]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    job_ids = []
    while "serving on " not in (line := process.stdout.readline()):
        assert line, "the simulator exited"
        job_ids.append(line.split()[0])
    return process, line.split("serving on ", 1)[1].split(",")[0], job_ids


def test_the_command_line_serves_demo_jobs() -> None:
    process, url, job_ids = serve_from_the_command_line("--demo")
    headers = {"Authorization": "Bearer fc-demo"}
    try:
        page = requests.get(f"{url}/v1/batch/scrape/{job_ids[0]}", headers=headers, timeout=10)
        crawl = requests.get(f"{url}/v2/crawl/{job_ids[-1]}", headers=headers, timeout=10)
        active = requests.get(f"{url}/v1/crawl/active", headers=headers, timeout=10)
        listed = requests.get(f"{url}/v2/team/activity", headers=headers, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert (page.status_code, page.json()["completed"]) == (200, 50)
    assert crawl.json()["status"] == "scraping"
    assert [c["id"] for c in active.json()["crawls"]] == [job_ids[-1]]
    assert sorted(item["id"] for item in listed.json()["data"]) == sorted(job_ids)


def test_the_command_line_serves_a_self_hosted_server_without_its_listings() -> None:
    flags = ("--self-hosted", "--no-active-crawls")
    process, url, _ = serve_from_the_command_line(*flags)
    headers = {"Authorization": "Bearer fc-demo"}
    try:
        activity = requests.get(f"{url}/v2/team/activity", headers=headers, timeout=10)
        active = requests.get(f"{url}/v2/crawl/active", headers=headers, timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert (activity.status_code, active.status_code) == (500, 400)


def test_the_command_line_sends_webhooks_and_serves_screenshots() -> None:
    with Receiver() as receiver:
        flags = ("--demo", "--webhook-url", receiver.url + "/{{JOB_ID}}", "--allow-local-webhooks")
        process, url, job_ids = serve_from_the_command_line(*flags)
        headers = {"Authorization": "Bearer fc-demo"}
        try:
            (hook,) = receiver.wait_for(1)
            shots = requests.get(
                f"{url}/v2/batch/scrape/{job_ids[-2]}", headers=headers, timeout=10
            )
            image = requests.get(shots.json()["data"][0]["screenshot"], timeout=10)
        finally:
            process.terminate()
            process.wait(timeout=10)

    assert hook.payload["type"] in ("batch_scrape.page", "crawl.page")
    assert hook.path == "/" + hook.payload["id"]
    assert (image.status_code, image.content[:8]) == (200, b"\x89PNG\r\n\x1a\n")
