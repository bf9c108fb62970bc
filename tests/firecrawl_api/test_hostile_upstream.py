"""The client against a malicious Firecrawl (tests/hostile.py), over real HTTP.

Bodies that inflate, never end or trickle are refused at the cap or the deadline, read by a child
process whose address space has a hard ceiling (tests/hostile.py); every value no real server
would send becomes a clear InvalidResponse, or a safe normal value inside a document.
"""

from __future__ import annotations

import gzip
import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firecrawl_api import (
    DeadlineExceeded,
    InvalidResponse,
    RateLimited,
    ResponseTooLarge,
    StatusPage,
    Unreachable,
)
from firecrawl_api.client import MAX_RETRY_AFTER, FirecrawlClient
from tests.hostile import (
    MIB,
    HostileFirecrawl,
    Reply,
    drip_body,
    drip_headers,
    endless_chunks,
    endless_gzip,
    gzip_bomb,
    gzip_members,
    in_turn,
    json_reply,
    large_page,
    plain_flood,
    read_in_child,
    status_body,
)

TOO_LARGE = "Firecrawl sent more than 64 MB in one response; stopped reading"


@pytest.fixture(scope="module")
def server() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as hostile:
        yield hostile


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: HostileFirecrawl, sleeps: list[float]) -> FirecrawlClient:
    return FirecrawlClient(server.url, "fc-hostile", deadline=10, sleep=sleeps.append)


# ---------------------------------------------------------------------------------------------
# Bodies past the cap, read by a client with the default cap in a process of its own


@pytest.mark.parametrize(
    "reply",
    [gzip_bomb, endless_gzip, plain_flood, endless_chunks],
    ids=[
        "gzip bomb of 4 GB from 4 MB in 4,096 members",
        "endless gzip member",
        "600 MB plain body",
        "endless chunked body",
    ],
)
def test_a_body_past_the_cap_is_refused_within_the_childs_memory_ceiling(
    server: HostileFirecrawl, reply: Callable[[], Reply]
) -> None:
    job_id = server.job(reply())

    read = read_in_child(server.url, job_id)

    assert (read.outcome, read.message) == ("ResponseTooLarge", TOO_LARGE)


def test_a_normal_5_mb_page_still_parses(server: HostileFirecrawl) -> None:
    job_id = server.job(json_reply(large_page()))

    read = read_in_child(server.url, job_id)

    assert (read.outcome, read.documents) == ("parsed", 50)


def test_a_page_gzipped_in_many_members_reads_exactly_as_sent(
    server: HostileFirecrawl, client: FirecrawlClient
) -> None:
    # Members ending on read boundaries: urllib3 2.8's own decoder replays them forever.
    body = large_page(size=3 * MIB, documents=3)
    job_id = server.job(gzip_members(body, member_size=MIB))

    page = client.job_status(job_id, kind="batch")

    assert [doc.text for doc in page.documents] == [
        json.dumps(doc, ensure_ascii=False) for doc in json.loads(body)["data"]
    ]


def test_a_body_in_an_encoding_not_asked_for_is_refused(
    server: HostileFirecrawl, client: FirecrawlClient, sleeps: list[float]
) -> None:
    job_id = server.job(gzip_members(json.dumps(status_body()).encode(), MIB, encoding="br"))
    server.hits.clear()

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id, kind="batch")

    assert caught.value.message == (
        "Firecrawl sent a response in an encoding this client did not ask for (br)"
    )
    assert server.hits[0][2]["Accept-Encoding"] == "gzip"
    assert sleeps == []


@pytest.mark.parametrize(
    "content",
    [
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 20,
        gzip.compress(b'{"status": "completed"}')[:-5],
        b'{"status": "completed"}',
    ],
    ids=["not deflate data", "cut before its end", "not gzip at all"],
)
def test_a_corrupt_gzip_body_counts_as_a_dropped_connection(
    server: HostileFirecrawl, sleeps: list[float], content: bytes
) -> None:
    job_id = server.job(json_reply(content, headers={"Content-Encoding": "gzip"}))
    client = FirecrawlClient(server.url, "fc-k", max_retries=1, sleep=sleeps.append)

    with pytest.raises(Unreachable) as caught:
        client.job_status(job_id, kind="batch")

    assert caught.value.message == (
        f"The connection to Firecrawl at {server.url} dropped mid-response"
    )
    assert len(sleeps) == 1


def test_a_body_past_a_smaller_cap_is_refused_and_never_retried(
    server: HostileFirecrawl, sleeps: list[float]
) -> None:
    job_id = server.job(json_reply(large_page()))
    server.hits.clear()
    client = FirecrawlClient(server.url, "fc-k", max_response_bytes=2**20, sleep=sleeps.append)

    with pytest.raises(ResponseTooLarge) as caught:
        client.job_status(job_id, kind="batch")

    assert caught.value.message == "Firecrawl sent more than 1 MB in one response; stopped reading"
    assert (len(server.hits), sleeps) == (1, [])


# ---------------------------------------------------------------------------------------------
# Trickles stopped at the deadline

TRICKLE = b'{"status":"completed","completed":0,"total":0}'


@pytest.mark.parametrize(
    "reply",
    [drip_body(0.1, TRICKLE), drip_headers(0.1, 50, TRICKLE)],
    ids=["body, a byte every 0.1 s", "a header, a byte every 0.1 s"],
)
def test_a_trickling_answer_is_stopped_at_the_deadline(
    server: HostileFirecrawl, reply: Reply
) -> None:
    # Every byte comes well within the read timeout: only the deadline can stop this.
    job_id = server.job(reply)
    client = FirecrawlClient(server.url, "fc-k", read_timeout=5, deadline=1.0)
    started = time.monotonic()

    with pytest.raises(DeadlineExceeded) as caught:
        client.job_status(job_id, kind="batch")

    assert time.monotonic() - started >= 1.0  # not before the deadline
    assert caught.value.message == (
        f"Firecrawl at {server.url} did not finish answering within 1 s"
    )


# ---------------------------------------------------------------------------------------------
# Values no real server sends


def raw_body(text: str) -> bytes:
    return text.encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (status_body(total=10**30), "impossible total: 1000000000000000000000000000000"),
        (raw_body('{"status":"completed","completed":1,"total":' + "9" * 5000 + "}"),
         "impossible total: Infinity"),
        (status_body(total="9" * 5000), "impossible total: " + "9" * 40 + "…"),
        (status_body(completed=-1), "impossible number of completed pages: -1"),
        (status_body(completed=2**31), "impossible number of completed pages: 2147483648"),
        (status_body(creditsUsed=10**30), "impossible number of credits used: 10000000000"),
        (status_body(creditsUsed=-7), "impossible number of credits used: -7"),
        (status_body(expiresAt="9999-12-31T23:59:59-14:00"),
         "impossible expiry time: 9999-12-31T23:59:59-14:00"),
        (status_body(expiresAt="0001-01-01T00:00:00+14:00"),
         "impossible expiry time: 0001-01-01T00:00:00+14:00"),
        (status_body(createdAt="yesterday"), "impossible creation time: yesterday"),
        (status_body(completedAt=17), "impossible completion time: 17"),
        (status_body(duration=1e308), "impossible duration: 1e+308"),
        (status_body(duration=-1), "impossible duration: -1"),
        (raw_body('{"status":"completed","completed":1,"total":1,"duration":NaN}'),
         "impossible duration: NaN"),
        (raw_body('{"status":"completed","completed":1,"total":1,"duration":-Infinity}'),
         "impossible duration: -Infinity"),
        (status_body(status="s" * 10_000), "impossible job status: " + "s" * 40 + "…"),
        (raw_body('{"data": ' + "[" * 100_000 + "]" * 100_000 + "}"),
         "JSON nested too deeply to read"),
        (status_body(data={"not": "a list"}), "has no list of documents"),
    ],
    ids=[
        "total 10**30", "total of 5,000 digits", "total as a string of 5,000 digits",
        "completed -1", "completed 2**31", "creditsUsed 10**30", "creditsUsed -7",
        "expiresAt overflowing UTC", "expiresAt underflowing UTC", "createdAt not a date",
        "completedAt a number", "duration 1e308", "duration -1", "duration NaN",
        "duration -Infinity", "status of 10,000 characters", "arrays 100,000 deep",
        "data an object",
    ],
)  # fmt: skip
def test_an_impossible_value_is_a_clear_invalid_response(
    server: HostileFirecrawl,
    client: FirecrawlClient,
    sleeps: list[float],
    body: dict[str, Any] | bytes,
    message: str,
) -> None:
    job_id = server.job(json_reply(body))

    with pytest.raises(InvalidResponse) as caught:
        client.job_status(job_id, kind="batch")

    assert message in caught.value.message
    assert caught.value.message.startswith("Firecrawl")
    assert sleeps == []  # the same answer would come again


def test_an_impossible_credit_count_is_a_clear_invalid_response(server: HostileFirecrawl) -> None:
    server.reply("/v2/team/credit-usage", json_reply({"data": {"remainingCredits": 10**30}}))

    with pytest.raises(InvalidResponse) as caught:
        FirecrawlClient(server.url, "fc-k", api_version="v2").credit_usage()

    assert caught.value.message == (
        "Firecrawl sent an impossible number of remaining credits: 1000000000000000000000000000000"
    )


@pytest.mark.parametrize(
    "next_value", ["http://[", "http://[::1/x?skip=-3", 12, {"skip": 5}, "?skip=" + "9" * 5000]
)
def test_an_unreadable_next_falls_back_to_the_following_offset(
    server: HostileFirecrawl, client: FirecrawlClient, next_value: Any
) -> None:
    job_id = server.job(json_reply(status_body(status="scraping", next=next_value)))

    page = client.job_status(job_id, skip=10, kind="batch")

    assert page.next_skip == 11
    assert page.has_next


def test_odd_documents_are_normalised_and_never_fail_the_page(
    server: HostileFirecrawl, client: FirecrawlClient
) -> None:
    documents = [
        {"markdown": "lone \ud83d and nul \x00", "metadata": {"statusCode": "9" * 5000}},
        {"metadata": {"statusCode": 10**30, "title": ["a", {"b": 1}], "sourceURL": 5}},
        {"metadata": {"statusCode": 42, "scrapeId": "x" * 5000, "url": "\x00"}},
        [1, 2, 3],
    ]
    body = json.dumps(status_body(completed=4, total=4, data=documents))
    job_id = server.job(json_reply(body.encode()))

    page = client.job_status(job_id, kind="batch")

    assert isinstance(page, StatusPage)
    assert [doc.status_code for doc in page.documents] == [None, None, None, None]
    assert page.documents[0].markdown == "lone \ufffd and nul \ufffd"
    assert page.documents[0].text == json.dumps(documents[0])  # stored as sent
    assert page.documents[1].title == "a"
    assert page.documents[2].scrape_id is None
    assert page.documents[2].url == "\ufffd"
    assert page.documents[3].error == "Firecrawl sent a document that is not an object"


# ---------------------------------------------------------------------------------------------
# Retry-After


@pytest.mark.parametrize("header", ["1e308", "inf", "nan", "-5", "9" * 5000, "soon"])
def test_an_unreadable_retry_after_means_the_usual_backoff(
    server: HostileFirecrawl, sleeps: list[float], header: str
) -> None:
    limited = json_reply(
        {"success": False, "error": "Rate limit exceeded"}, 429, {"Retry-After": header}
    )
    job_id = server.job(in_turn(limited, json_reply(status_body())))
    client = FirecrawlClient(server.url, "fc-k", backoff_base=0.5, sleep=sleeps.append)

    page = client.job_status(job_id, kind="batch")

    assert len(page.documents) == 1
    [waited] = sleeps
    assert 0 <= waited <= 0.5 and math.isfinite(waited)


@pytest.mark.parametrize(
    "header", ["9" * 30, "Fri, 31 Dec 9999 23:59:59 GMT"], ids=["30 digits", "year 9999"]
)
def test_an_absurd_retry_after_is_clamped_and_handed_to_the_caller(
    server: HostileFirecrawl, sleeps: list[float], header: str
) -> None:
    limited = json_reply(
        {"success": False, "error": "Rate limit exceeded"}, 429, {"Retry-After": header}
    )
    job_id = server.job(limited)
    client = FirecrawlClient(server.url, "fc-k", sleep=sleeps.append)

    with pytest.raises(RateLimited) as caught:
        client.job_status(job_id, kind="batch")

    assert caught.value.retry_after == MAX_RETRY_AFTER
    assert caught.value.message == f"Rate limited by Firecrawl, retry in {MAX_RETRY_AFTER} s"
    assert sleeps == []
