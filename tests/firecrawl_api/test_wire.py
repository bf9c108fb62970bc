"""firecrawl_api.wire: Firecrawl's answers read into typed values, odd ones normalised."""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firecrawl_api import (
    ActiveCrawl,
    CreditUsage,
    ErrorsListing,
    InvalidResponse,
    ScrapedDocument,
    StartedJob,
    StatusPage,
)
from firecrawl_api.wire import ActivityPage, as_int, bad_request_details

UUID = uuid.uuid4()

UNSAFE = "\ud83d\x00"


def unsafe(text: str) -> str:
    return f"{text}{UNSAFE}"


def is_safe(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


def page(**fields: Any) -> dict[str, Any]:
    return {"success": True, "status": "completed", "completed": 1, "total": 1, **fields}


# ---------------------------------------------------------------------------------------------
# Documents


def test_it_turns_odd_document_content_into_normal_values() -> None:
    doc = ScrapedDocument.from_raw(
        {
            "markdown": 42,
            "links": ["https://a.example", None, 3],
            "metadata": {
                "title": ["Home", 7, "Shop"],
                "statusCode": "404",
                "sourceURL": ["not", "a string"],
                "url": "https://final.example/",
                "scrapeId": {"nested": True},
            },
            "screenshot": "https://cdn.example/shot.png",
            "brandNew": {"unknown": "field"},
        }
    )
    assert doc.markdown is None
    assert doc.links == ["https://a.example"]
    assert doc.title == "Home / Shop"
    assert doc.status_code == 404
    assert doc.url == "https://final.example/"
    assert doc.scrape_id is None
    assert doc.raw["brandNew"] == {"unknown": "field"}
    assert ScrapedDocument.from_raw({"metadata": "nope"}).metadata == {}
    assert ScrapedDocument.from_raw("just a string").error is not None


def test_every_string_a_document_exposes_is_safe_to_display_and_store() -> None:
    raw = {
        "markdown": unsafe("# md"),
        "html": unsafe("<p>html</p>"),
        "rawHtml": unsafe("<html>raw</html>"),
        "links": [unsafe("https://a.example/")],
        "warning": unsafe("warning"),
        "screenshot": unsafe("https://cdn.example/shot.png"),
        "metadata": {
            "title": [unsafe("Home"), "Shop"],
            "url": unsafe("https://a.example/final"),
            "sourceURL": unsafe("https://a.example/"),
            "error": unsafe("error"),
            "scrapeId": unsafe("id"),
            unsafe("key"): {"nested": unsafe("value")},
        },
    }
    text = json.dumps(raw)

    doc = ScrapedDocument.from_raw(json.loads(text), text)

    exposed = [
        doc.markdown, doc.html, doc.raw_html, doc.content_html, doc.title, doc.url,
        doc.source_url, doc.error, doc.warning, doc.screenshot, doc.scrape_id,
        *doc.links, *doc.metadata, *doc.metadata.values(),
    ]  # fmt: skip
    assert all(isinstance(value, str) and is_safe(value) for value in exposed), exposed
    assert doc.title == "Home\ufffd\ufffd / Shop"
    assert doc.text == text  # the wire text is kept exactly as sent
    assert doc.raw["markdown"] == unsafe("# md")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"html": "<p>clean</p>", "rawHtml": "<html>raw</html>"}, "<p>clean</p>"),
        ({"html": "", "rawHtml": "<html>raw</html>"}, "<html>raw</html>"),
        ({"html": None, "rawHtml": "<html>raw</html>"}, "<html>raw</html>"),
        ({"markdown": "only markdown"}, None),
        ({"html": 5, "rawHtml": ["no"]}, None),
    ],
)
def test_content_html_is_the_html_else_the_raw_html(
    raw: dict[str, Any], expected: str | None
) -> None:
    assert ScrapedDocument.from_raw(raw).content_html == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (200, 200),
        ("404", 404),
        (404.0, 404),
        (100, 100),
        (999, 999),
        (99, None),
        (1000, None),
        (-200, None),
        (10**30, None),
        ("9" * 5000, None),
        (" 404 ", 404),
        ("--404", None),
        ("²⁰⁰", None),
        ("٤٠٤", None),
        (float("inf"), None),
        (404.5, None),
        (True, None),
        ([200], None),
    ],
)
def test_a_status_code_outside_100_to_999_is_no_status_code(
    value: Any, expected: int | None
) -> None:
    doc = ScrapedDocument.from_raw({"metadata": {"statusCode": value}})

    assert doc.status_code == expected


def test_metadata_reads_as_display_text() -> None:
    metadata = {
        "keywords": ["a", "b"],
        "og": {"image": "x.png"},
        "count": 3,
        "flag": True,
        "nothing": None,
        "title": "Home",
    }

    doc = ScrapedDocument.from_raw({"metadata": metadata})

    assert doc.metadata == {
        "keywords": "a, b",
        "og": '{"image": "x.png"}',
        "count": "3",
        "flag": "true",
        "nothing": "null",
        "title": "Home",
    }


def test_a_scrape_id_longer_than_any_real_id_is_no_id() -> None:
    assert ScrapedDocument.from_raw({"metadata": {"scrapeId": "x" * 101}}).scrape_id is None
    assert ScrapedDocument.from_raw({"metadata": {"scrapeId": "x" * 100}}).scrape_id == "x" * 100


def test_a_stored_document_reads_back_like_a_fresh_one() -> None:
    text = json.dumps({"markdown": "# Hi \\ud83d", "metadata": {"title": "T", "statusCode": 200}})

    stored = ScrapedDocument.from_text(text)

    assert stored == ScrapedDocument.from_raw(json.loads(text), text)
    assert stored.markdown == "# Hi \\ud83d"
    assert ScrapedDocument.from_text('{"markdown": "\\ud83d"}').markdown == "\ufffd"


@pytest.mark.parametrize("text", ["not json", "[" * 100_000 + "]" * 100_000, ""])
def test_an_unreadable_stored_document_says_so(text: str) -> None:
    doc = ScrapedDocument.from_text(text)

    assert doc.error == "This stored document is not readable JSON"
    assert doc.text == text


def test_an_odd_document_never_fails_its_page() -> None:
    data = [
        {"metadata": {"statusCode": "9" * 5000, "title": 5}},
        "not an object",
        {"metadata": {"sourceURL": "https://a.example/"}},
    ]

    result = StatusPage.from_payload(page(completed=3, total=3, data=data), skip=0)

    assert [doc.status_code for doc in result.documents] == [None, None, None]
    assert result.documents[1].error == "Firecrawl sent a document that is not an object"
    assert result.documents[2].source_url == "https://a.example/"


# ---------------------------------------------------------------------------------------------
# The next page


@pytest.mark.parametrize(
    ("next_value", "expected"),
    [
        ("https://api.firecrawl.dev/v1/batch/scrape/x?skip=100", 100),
        ("https://api.firecrawl.dev/v1/batch/scrape/x?skip=100&limit=10", 100),
        # Unusable hints fall back to the offset right after this page's single document.
        ("http://[", 6),
        ("http://[::1?skip=7", 7),
        ("https://host/x?skip=-5", 6),
        (f"https://host/x?skip={10**30}", 6),
        (f"https://host/x?skip={'9' * 5000}", 6),
        ("https://host/x", 6),
        (42, 6),
        (["https://host/x?skip=9"], 6),
        (None, None),
    ],
)
def test_it_reads_only_the_skip_out_of_next(next_value: Any, expected: int | None) -> None:
    data = [{"markdown": "one"}]

    result = StatusPage.from_payload(page(data=data, next=next_value), skip=5)

    assert result.next_skip == expected


def test_a_page_that_brings_nothing_ends_the_walk() -> None:
    result = StatusPage.from_payload(
        page(status="cancelled", creditsUsed=-1, next="x?skip=0", data=[]), skip=0
    )

    assert result.credits_used is None  # -1: a self-hosted server without a database
    assert result.next_skip == 0
    assert result.has_next is False


# ---------------------------------------------------------------------------------------------
# Listings and 400 details


def test_an_impossible_activity_cursor_is_an_invalid_response() -> None:
    with pytest.raises(InvalidResponse, match="impossible page cursor"):
        ActivityPage.from_payload({"data": [], "cursor": "c" * 5000, "has_more": True})
    with pytest.raises(InvalidResponse, match="no list of jobs"):
        ActivityPage.from_payload({"data": {"id": "x"}})


def test_it_reads_firecrawls_400_details_as_readable_lines() -> None:
    payload = {
        "success": False,
        "code": "BAD_REQUEST",
        "details": [
            {"code": "invalid_format", "path": ["urls", 29], "message": "Invalid URL"},
            {"code": "custom", "path": ["urls", 29], "message": "URL must have a valid TLD"},
            {"code": "custom", "path": ["urls", 29], "message": "Invalid URL"},
            {"code": "invalid_union", "path": ["formats", 0], "message": "Invalid input"},
            {"code": "too_small", "path": ["scrapeOptions", "waitFor"], "message": "Too small"},
            {"code": "custom", "path": [], "message": "Unrecognized key \ud83d"},
            {"code": "no message"},
            "junk",
        ],
    }

    assert bad_request_details(payload) == [
        "urls[29]: Invalid URL",
        "urls[29]: URL must have a valid TLD",
        "formats[0]: Invalid input",
        "scrapeOptions.waitFor: Too small",
        "Unrecognized key \ufffd",
    ]
    assert bad_request_details({"error": "Bad request, malformed JSON"}) == []
    assert bad_request_details(["not", "an", "object"]) == []


# ---------------------------------------------------------------------------------------------
# Whatever comes, a typed value or an InvalidResponse: never another exception

odd_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.sampled_from([math.inf, -math.inf, 2**31, -1, "9" * 5000, "--404", "²⁰⁰", "http://["])
    | st.text(max_size=30)
    | st.from_regex(r"-?[0-9]{1,25}", fullmatch=True)
    | st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}([+-][0-9]{2}:[0-9]{2}|Z)?", fullmatch=True
    )
)
odd_values = st.recursive(
    odd_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
odd = odd_scalars | odd_values
STATUS_KEYS = ["status", "completed", "total", "creditsUsed", "expiresAt", "createdAt",
               "completedAt", "duration", "warning", "next", "data"]  # fmt: skip
DOCUMENT_KEYS = ["markdown", "html", "rawHtml", "links", "warning", "error", "screenshot"]
METADATA_KEYS = ["title", "sourceURL", "url", "statusCode", "scrapeId", "error", "keywords"]
documents = st.fixed_dictionaries(
    {},
    optional={
        **{key: odd for key in DOCUMENT_KEYS},
        "metadata": st.fixed_dictionaries({}, optional={key: odd for key in METADATA_KEYS}) | odd,
    },
)


@settings(max_examples=300)
@given(
    st.fixed_dictionaries({}, optional={key: odd for key in STATUS_KEYS}),
    st.lists(documents | odd_values, max_size=4),
    st.booleans(),
)
def test_a_status_page_is_read_or_refused_never_crashed(
    fields: dict[str, Any], data: list[Any], with_data: bool
) -> None:
    payload = {**page(), **fields, **({"data": data} if with_data else {})}
    try:
        result = StatusPage.from_payload(payload, skip=0)
    except InvalidResponse as exc:
        assert exc.message.startswith("Firecrawl") and is_safe(exc.message)
        return
    assert 0 <= result.completed <= 2**31 - 1 and 0 <= result.total <= 2**31 - 1
    assert result.next_skip is None or 0 <= result.next_skip <= 2**31 - 1
    for doc in result.documents:
        texts = [doc.title, doc.url, doc.source_url, *doc.links, *doc.metadata.values()]
        texts += [t for t in (doc.markdown, doc.content_html, doc.error, doc.warning) if t]
        assert all(is_safe(text) for text in texts)
        assert doc.status_code is None or 100 <= doc.status_code <= 999


@given(odd_values)
def test_every_other_answer_is_read_or_refused_never_crashed(value: Any) -> None:
    for read in (
        lambda: ErrorsListing.from_payload({"errors": value, "robotsBlocked": value}),
        lambda: ErrorsListing.from_payload({"errors": [value, {"url": value, "timestamp": value}]}),
        lambda: CreditUsage.from_payload({"data": {"remainingCredits": value}}),
        lambda: StartedJob.from_payload({"id": value, "url": value, "invalidURLs": value}, "batch"),
        lambda: ActivityPage.from_payload({"data": [value], "cursor": value, "has_more": True}),
        lambda: ActiveCrawl.list_from_payload({"crawls": [value, {"id": str(UUID), "url": value}]}),
        lambda: bad_request_details({"details": [value, {"path": value, "message": "m"}]}),
    ):
        with contextlib.suppress(InvalidResponse):
            read()


@pytest.mark.parametrize("text", ["0\x1f", "\x1c7", " 12 ", "3\x1e"])
def test_a_number_with_separators_around_it_is_read_not_raised(text: str) -> None:
    # str.strip() takes away the separators \x1c-\x1f that int() refuses: a `next` URL with
    # `skip=0\x1f` once made the status page's parse raise (found by tests/jobs/test_properties.py).
    assert as_int(text) == int(text.strip())
