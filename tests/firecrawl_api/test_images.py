"""Fetching and decoding screenshots (firecrawl_api.images) against the simulator's storage host:
only images, only from allowed hosts, within a size cap and one deadline, never with a key."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from fakecrawl import FakeFirecrawl, Fault
from fakecrawl.screenshots import NOT_AN_IMAGE, png_bytes
from firecrawl_api.images import (
    JPEG,
    PNG,
    WEBP,
    ImageFetcher,
    ImageRefused,
    decode_data_uri,
    sniff,
)

KEY = "fc-images000000000000000000000000f00d"
SHOTS = ("markdown", "screenshot")
LOOPBACK = {"127.0.0.1"}


@pytest.fixture(scope="module")
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=11, screenshot_bytes=20_000) as sim:
        sim.add_key(KEY, team="images")
        yield sim


@pytest.fixture(autouse=True)
def no_faults(sim: FakeFirecrawl) -> Iterator[None]:
    yield
    sim.clear_faults()


def asked(sim: FakeFirecrawl, job_id: str) -> list[Any]:
    """What the storage host received for the job's screenshots."""
    return [r for r in sim.storage_requests if job_id in r.path]


@pytest.fixture
def fetcher() -> Iterator[ImageFetcher]:
    with ImageFetcher(max_bytes=100_000, deadline=5) as fetcher:
        yield fetcher


def screenshot_url(sim: FakeFirecrawl) -> tuple[str, str]:
    """A new job's one screenshot URL, and the job's id."""
    job_id = sim.create_batch(KEY, n=1, state="completed", formats=SHOTS)
    (doc,) = sim.job(job_id).documents
    return doc["screenshot"], job_id


def test_the_first_bytes_say_the_type_not_the_name_or_the_header() -> None:
    assert sniff(png_bytes("x", 1000)) is PNG
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") is JPEG
    assert sniff(b"RIFF\x10\x00\x00\x00WEBPVP8 ") is WEBP
    assert sniff(b"GIF89a") is None
    assert sniff(NOT_AN_IMAGE) is None
    assert sniff(b"RIFF\x10\x00\x00\x00WAVEfmt ") is None


def test_a_screenshot_on_an_allowed_host_is_fetched_without_any_credentials(
    sim: FakeFirecrawl, fetcher: ImageFetcher
) -> None:
    url, job_id = screenshot_url(sim)

    image = fetcher.fetch(url, LOOPBACK)

    assert image.type is PNG
    assert image.data == requests.get(url, timeout=10).content
    (request, _) = asked(sim, job_id)
    assert request.api_key is None
    assert not any(name.lower() in ("authorization", "cookie") for name in request.headers)


def test_a_host_not_allowed_is_never_asked(sim: FakeFirecrawl, fetcher: ImageFetcher) -> None:
    url, job_id = screenshot_url(sim)

    with pytest.raises(ImageRefused, match=r"127\.0\.0\.1 is not the job's Firecrawl server") as e:
        fetcher.fetch(url, {"storage.googleapis.com"})

    assert not e.value.retryable
    assert asked(sim, job_id) == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/a.png", "file:///etc/passwd", "https://[::1"])
def test_only_http_urls_are_fetched(url: str, fetcher: ImageFetcher) -> None:
    with pytest.raises(ImageRefused, match="Not an http"):
        fetcher.fetch(url, LOOPBACK | {"", "::1"})


def test_a_page_sent_as_image_png_is_not_an_image(
    sim: FakeFirecrawl, fetcher: ImageFetcher
) -> None:
    url, job_id = screenshot_url(sim)
    sim.inject(Fault.not_an_image(), job_id=job_id)

    with pytest.raises(ImageRefused, match="Not a PNG, JPEG or WebP image") as refused:
        fetcher.fetch(url, LOOPBACK)

    assert not refused.value.retryable


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_image_over_the_cap_is_refused_as_it_streams(
    sim: FakeFirecrawl, fetcher: ImageFetcher, declare_length: bool
) -> None:
    url, job_id = screenshot_url(sim)
    # 64 MB, announced or chunked: refused after at most the cap (and one read) is read.
    sim.inject(Fault.oversize_image(declare_length=declare_length), job_id=job_id)

    with pytest.raises(ImageRefused, match=r"Larger than 100,000 bytes") as refused:
        fetcher.fetch(url, LOOPBACK)

    assert not refused.value.retryable


def test_an_image_exactly_at_the_cap_is_kept(sim: FakeFirecrawl) -> None:
    url, _ = screenshot_url(sim)
    with ImageFetcher(max_bytes=20_000, deadline=5) as fetcher:
        assert len(fetcher.fetch(url, LOOPBACK).data) == 20_000


def test_a_redirect_to_another_host_is_not_followed(
    sim: FakeFirecrawl, fetcher: ImageFetcher
) -> None:
    url, job_id = screenshot_url(sim)
    sim.inject(Fault.redirect(), job_id=job_id, count=None)

    # Even to a host that is allowed: only the host the document named is asked.
    with pytest.raises(ImageRefused, match=r"redirected to another host \(localhost\)"):
        fetcher.fetch(url, LOOPBACK | {"localhost"})

    assert len(asked(sim, job_id)) == 1


def test_a_redirect_within_the_same_host_is_followed(
    sim: FakeFirecrawl, fetcher: ImageFetcher
) -> None:
    url, job_id = screenshot_url(sim)
    sim.inject(Fault.redirect(to=sim.storage_url), job_id=job_id, count=1)

    assert fetcher.fetch(url, LOOPBACK).type is PNG
    assert [r.status for r in asked(sim, job_id)] == [302, 200]


@pytest.mark.parametrize("fault", [Fault.slow(4), Fault.trickle(4, pieces=40)])
def test_a_slow_host_is_given_one_deadline_for_the_whole_fetch(
    sim: FakeFirecrawl, fault: Fault
) -> None:
    url, job_id = screenshot_url(sim)
    sim.inject(fault, job_id=job_id, on="storage")

    with (
        ImageFetcher(max_bytes=100_000, deadline=0.5) as fetcher,
        pytest.raises(ImageRefused, match=r"did not finish sending it within 0\.5 s") as refused,
    ):
        fetcher.fetch(url, LOOPBACK)

    assert refused.value.retryable


@pytest.mark.parametrize(
    ("fault", "status", "retryable"),
    [(Fault.server_error(503), 503, True), (Fault.not_found(), 404, False)],
)
def test_an_error_answer_says_whether_a_retry_can_help(
    sim: FakeFirecrawl, fetcher: ImageFetcher, fault: Fault, status: int, retryable: bool
) -> None:
    url, job_id = screenshot_url(sim)
    sim.inject(fault, job_id=job_id, on="storage")

    with pytest.raises(ImageRefused, match=f"answered {status}") as refused:
        fetcher.fetch(url, LOOPBACK)

    assert refused.value.retryable is retryable


def test_an_expired_screenshot_url_is_not_retried(
    sim: FakeFirecrawl, fetcher: ImageFetcher
) -> None:
    url, job_id = screenshot_url(sim)
    sim.expire(job_id)

    with pytest.raises(ImageRefused, match="answered 400") as refused:
        fetcher.fetch(url, LOOPBACK)

    assert not refused.value.retryable


def data_uri(data: bytes, header: str = "data:image/png;base64") -> str:
    return f"{header},{base64.b64encode(data).decode()}"


def test_a_base64_data_uri_is_decoded_and_checked() -> None:
    image = png_bytes("inline", 3000)

    kept = decode_data_uri(data_uri(image), max_bytes=3000)

    assert (kept.data, kept.type) == (image, PNG)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("data:image/png,%89PNG", "Only base64 data: URIs"),
        ("data:image/png;base64,!!!!", "not valid base64"),
        (data_uri(NOT_AN_IMAGE), "Not a PNG, JPEG or WebP image"),
        # The type a data: URI announces is only its sender's word.
        (data_uri(NOT_AN_IMAGE, "data:image/jpeg;base64"), "Not a PNG, JPEG or WebP image"),
        (data_uri(png_bytes("big", 5000)), "Larger than 4,000 bytes"),
        ("https://example.test/a.png", "Not a data: URI"),
    ],
)
def test_a_data_uri_that_is_no_small_image_is_refused(uri: str, message: str) -> None:
    with pytest.raises(ImageRefused, match=message) as refused:
        decode_data_uri(uri, max_bytes=4000)
    assert not refused.value.retryable


def test_a_data_uri_one_byte_over_the_cap_is_refused() -> None:
    with pytest.raises(ImageRefused, match="Larger than 4,000 bytes"):
        decode_data_uri(data_uri(png_bytes("edge", 4001)), max_bytes=4000)
    assert len(decode_data_uri(data_uri(png_bytes("edge", 4000)), max_bytes=4000).data) == 4000


def test_an_oversize_data_uri_is_refused_before_it_is_decoded(monkeypatch: Any) -> None:
    def never(*args: Any, **kwargs: Any) -> bytes:
        raise AssertionError("decoded")

    monkeypatch.setattr(base64, "b64decode", never)
    with pytest.raises(ImageRefused, match="Larger than"):
        decode_data_uri("data:image/png;base64," + "A" * 8000, max_bytes=4000)
