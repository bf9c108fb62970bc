"""Screenshots on the simulator: real PNGs on a storage host of its own that expire with the job,
inline `data:` URIs when self-hosted, and the hostile storage answers."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault, ManualClock
from tests.fakecrawl.support import ALICE, Api

SHOT_FORMATS = ("markdown", "screenshot")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG whose chunks and image data all check out."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert kind == b"IEND"
    assert len(zlib.decompress(idat)) == size[1] * (size[0] * 3 + 1)
    return size


def documents(api: Api, job_id: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = api.status(job_id)["data"]
    return docs


def fetch(url: str, **kwargs: Any) -> requests.Response:
    return requests.get(url, timeout=10, allow_redirects=False, **kwargs)


def test_a_screenshot_is_a_png_of_the_configured_size_on_another_host(api: Api) -> None:
    api.sim.screenshot_bytes = 300_000
    job_id = api.sim.create_batch(ALICE, n=2, formats=SHOT_FORMATS)

    first, second = (doc["screenshot"] for doc in documents(api, job_id))
    image, again, other = fetch(first), fetch(first), fetch(second)

    assert urlsplit(first).netloc != urlsplit(api.sim.url).netloc
    assert first.startswith(api.sim.storage_url + "/firecrawl-scrape-media/")
    assert (image.status_code, image.headers["Content-Type"]) == (200, "image/png")
    assert len(image.content) == int(image.headers["Content-Length"]) == 300_000
    assert png_size(image.content)[0] == 256
    assert again.content == image.content != other.content


def test_the_screenshot_size_is_a_constructor_option(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, screenshot_bytes=4096) as sim:
        sim.add_key(ALICE)
        job_id = sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
        (doc,) = documents(Api(sim), job_id)

        assert len(fetch(doc["screenshot"]).content) == 4096


def test_posted_formats_and_screenshot_actions_give_screenshots(api: Api) -> None:
    actions = [
        {"type": "screenshot"},
        {"type": "wait", "milliseconds": 500},
        {"type": "screenshot"},
    ]
    v1 = api.start(
        "/v1/batch/scrape",
        {"urls": ["https://a.example.com"], "formats": ["screenshot@fullPage"], "actions": actions},
    )
    v2 = api.start(
        "/v2/batch/scrape",
        {"urls": ["https://b.example.com"], "formats": [{"type": "screenshot", "fullPage": True}]},
    )
    crawl = api.start(
        "/v2/crawl",
        {"url": "https://docs.example.com", "limit": 1, "scrapeOptions": {"actions": actions}},
    )

    (with_actions,) = documents(api, v1)
    (plain,) = documents(api, v2)
    (crawled,) = api.crawl(crawl)["data"]

    assert list(with_actions["actions"]) == ["pdfs", "scrapes", "screenshots", "javascriptReturns"]
    shots = [*with_actions["actions"]["screenshots"], with_actions["screenshot"]]
    assert len(set(shots)) == 3
    assert all(png_size(fetch(url).content) for url in shots)
    assert "actions" not in plain and fetch(plain["screenshot"]).status_code == 200
    assert len(crawled["actions"]["screenshots"]) == 2 and "screenshot" not in crawled


def test_screenshots_stop_being_served_when_the_job_expires(api: Api, clock: ManualClock) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)
    before = fetch(doc["screenshot"])
    clock.advance(24 * 3600)

    after = fetch(doc["screenshot"])

    assert before.status_code == 200
    assert after.status_code == 400
    assert after.headers["Content-Type"] == "application/xml; charset=UTF-8"
    assert "<Code>ExpiredToken</Code>" in after.text
    assert "Request signature expired at: 2026-11-29T13:00:00+00:00" in after.text


def test_a_screenshot_url_that_was_tampered_with_or_names_nothing_is_refused(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)
    path, _, query = doc["screenshot"].partition("?")

    other_shot = fetch(path.replace("/0-0.png", "/0-1.png") + "?" + query)
    unknown = fetch(api.sim.storage_url + "/firecrawl-scrape-media/nothing-here")

    assert other_shot.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in other_shot.text
    assert unknown.status_code == 404 and "<Code>NoSuchKey</Code>" in unknown.text


def test_a_self_hosted_server_sends_screenshots_inline_as_data_uris(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, self_hosted=True, screenshot_bytes=5000) as sim:
        sim.add_key(ALICE)
        job_id = sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
        (doc,) = documents(Api(sim), job_id)

    prefix = "data:image/png;base64,"
    assert doc["screenshot"].startswith(prefix)
    image = base64.b64decode(doc["screenshot"].removeprefix(prefix), validate=True)
    assert len(image) == 5000 and png_size(image)


def test_the_storage_host_never_needs_and_logs_what_it_was_sent(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)

    fetch(doc["screenshot"])

    (request,) = api.sim.storage_requests
    assert request.path.endswith("/0-0.png") and request.status == 200
    assert request.api_key is None


def test_a_storage_fault_can_serve_a_page_instead_of_an_image(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=2, formats=SHOT_FORMATS)
    first, second = (doc["screenshot"] for doc in documents(api, job_id))
    api.sim.inject(Fault.not_an_image(), job_id=job_id, count=None)

    answers = [fetch(first), fetch(second)]

    assert {(a.status_code, a.headers["Content-Type"]) for a in answers} == {(200, "image/png")}
    assert all(a.content.startswith(b"<!DOCTYPE html>") for a in answers)


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_storage_fault_can_serve_an_oversize_image(api: Api, declare_length: bool) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)
    api.sim.inject(Fault.oversize_image(5_000_000, declare_length=declare_length))

    response = fetch(doc["screenshot"])

    assert len(response.content) == 5_000_000 and png_size(response.content)
    assert ("Content-Length" in response.headers) is declare_length


def test_a_storage_fault_can_redirect_to_another_host(api: Api) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)
    api.sim.inject(Fault.redirect())

    moved = fetch(doc["screenshot"])
    there = fetch(moved.headers["Location"])

    assert moved.status_code == 302
    assert urlsplit(moved.headers["Location"]).hostname == "localhost"
    assert there.status_code == 200 and png_size(there.content)


@pytest.mark.parametrize("fault", [Fault.slow(5), Fault.trickle(5, pieces=2)])
def test_a_storage_fault_can_make_the_host_slow(api: Api, fault: Fault) -> None:
    job_id = api.sim.create_batch(ALICE, n=1, formats=SHOT_FORMATS)
    (doc,) = documents(api, job_id)
    api.sim.inject(fault, on="storage")

    # Slow before the headers (a ReadTimeout), or between pieces of the body (raised while reading).
    with pytest.raises(requests.exceptions.RequestException, match="timed out"):
        requests.get(doc["screenshot"], timeout=0.5).content  # noqa: B018 (reads the body)
    assert api.status(job_id)["completed"] == 1  # the API itself is not slowed


def test_a_server_without_a_screenshot_engine_warns_and_fails_actions(clock: ManualClock) -> None:
    with FakeFirecrawl(clock=clock, self_hosted=True, screenshots="none") as sim:
        sim.add_key(ALICE)
        api = Api(sim)
        shot = api.start(
            "/v1/batch/scrape",
            {"urls": ["https://a.example.com"], "formats": ["markdown", "screenshot@fullPage"]},
        )
        acted = api.start(
            "/v2/batch/scrape",
            {"urls": ["https://b.example.com"], "actions": [{"type": "screenshot"}]},
        )
        (doc,) = documents(api, shot)
        acted_status = api.status(acted)
        (failure,) = api.errors(acted)

    assert "screenshot" not in doc
    assert doc["warning"] == (
        "The engine used does not support the following features: screenshot@fullScreen -- "
        "your scrape may be partial."
    )
    assert (acted_status["completed"], acted_status["data"]) == (0, [])
    assert failure["error"].startswith("Actions are not supported by any available engines.")
