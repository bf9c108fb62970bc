"""Huge answers for hostile-upstream tests: listings and failure lists no client should trust.

Built for the faults `listing_flood`, `active_flood` and `error_flood` (fakecrawl.faults): made-up
entries shaped exactly like real ones, deterministic for a seed, generated as they are sent so
that a 200,000-entry `/errors` never sits in the simulator's memory.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

from fakecrawl.content import SCRAPE_FAILED_CODE, SCRAPE_FAILED_MESSAGE
from fakecrawl.crawls import CrawlRequest, listed_options, stored_options
from fakecrawl.jobs import dumps, iso
from fakecrawl.listings import (
    ActivityQuery,
    encode_cursor,
    micros,
    parse_postgres_time,
    postgres_time,
)

FLOOD_HOST = "https://flood.example.test"
ENTRIES_PER_CHUNK = 1000
PAGE_BITS = 12  # a made-up id carries its page number, so a cursor tells which page follows


def _flood_id(seed: int, wall_millis: int, page: int, n: int) -> str:
    digest = hashlib.blake2b(f"{seed}:{wall_millis}:{n}".encode(), digest_size=8).digest()
    low = int.from_bytes(digest) & ((1 << 62) - 1)
    value = (wall_millis & ((1 << 48) - 1)) << 80 | 0x7 << 76
    value |= (page & ((1 << PAGE_BITS) - 1)) << 64 | 0b10 << 62 | low
    return str(uuid.UUID(int=value))


def _fast_uuid4(rng: random.Random) -> str:
    """A version 4 UUID's text, twice as fast as uuid.UUID's (200,000 of them per read)."""
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def _page_of(job_id: str) -> int:
    try:
        return (uuid.UUID(job_id).int >> 64) & ((1 << PAGE_BITS) - 1)
    except ValueError:
        return 0


def listing_page(
    params: dict[str, Any], checked: ActivityQuery, now_wall: float, seed: int
) -> bytes:
    """A page of GET /v2/team/activity with `items` made-up jobs, whatever the `limit`: each one
    millisecond older than the one before, the next page starting below the cursor."""
    items = max(int(params["items"]), 0)
    pages = params.get("pages")
    page = 0
    start = micros(now_wall) // 1000  # milliseconds, like the ids' timestamps
    if checked.cursor is not None:
        cursor_time = parse_postgres_time(checked.cursor[0])
        if cursor_time is not None:
            start = cursor_time // 1000
        page = _page_of(checked.cursor[1]) + 1
    data = []
    for n in range(items):
        millis = start - 1 - n
        target = f"{FLOOD_HOST}/site-{page}-{n}/"
        if n == 0 and page == 0 and params.get("target_chars"):
            target = (FLOOD_HOST + "/" + "t" * int(params["target_chars"]))[
                : params["target_chars"]
            ]
        data.append(
            {
                "id": _flood_id(seed, millis, page, n),
                "endpoint": "crawl" if n % 2 else "batch_scrape",
                "api_version": "v2",
                "created_at": postgres_time(millis * 1000),
                "target": target,
            }
        )
    has_more = bool(data) and (pages is None or page + 1 < int(pages))
    cursor = encode_cursor(data[-1]["created_at"], data[-1]["id"]) if has_more else None
    return dumps({"success": True, "data": data, "cursor": cursor, "has_more": has_more})


def active_crawls(
    params: dict[str, Any], real: list[dict[str, Any]], team: str, version: int, now_wall: float,
    seed: int,
) -> bytes:  # fmt: skip
    """GET /v{1,2}/crawl/active with `crawls` made-up running crawls before the real ones."""
    template = CrawlRequest(url=FLOOD_HOST, version=version)
    options = listed_options(stored_options(template, template.limit), version)
    options["scrapeOptions"] = {"formats": ["markdown"], "onlyMainContent": True}
    made_up = []
    for n in range(max(int(params["crawls"]), 0)):
        url = f"{FLOOD_HOST}/crawl-{n}/"
        if n == 0 and params.get("url_chars"):
            url = (FLOOD_HOST + "/" + "u" * int(params["url_chars"]))[: params["url_chars"]]
        millis = micros(now_wall) // 1000 - 1 - n
        made_up.append(
            {
                "id": _flood_id(seed, millis, 0, n),
                "teamId": team,
                "url": url,
                "created_at": iso(millis / 1000),
                "options": options,
            }
        )
    return dumps({"success": True, "crawls": made_up + real})


def error_list(
    params: dict[str, Any], real: list[dict[str, Any]], key: str, now_wall: float
) -> Iterator[bytes]:
    """GET .../{id}/errors with `entries` made-up failed URLs after the job's real ones, in
    pieces; `key` decides the made-up ids (a fresh key per read gives fresh ids)."""
    rng = random.Random(key)
    stamp = json.dumps(iso(now_wall))
    code = json.dumps(SCRAPE_FAILED_CODE)
    message = json.dumps(SCRAPE_FAILED_MESSAGE)
    yield b'{"errors":['
    yield b",".join(dumps(entry) for entry in real)
    entries = max(int(params["entries"]), 0)
    for first in range(0, entries, ENTRIES_PER_CHUNK):
        parts = []
        for n in range(first, min(first + ENTRIES_PER_CHUNK, entries)):
            url = json.dumps(f"{FLOOD_HOST}/failed/{n}")
            error = message
            if n == 0 and params.get("url_chars"):
                url = json.dumps(
                    (FLOOD_HOST + "/" + "u" * params["url_chars"])[: params["url_chars"]]
                )
            if n == 0 and params.get("error_chars"):
                error = json.dumps("E" * params["error_chars"])
            entry_id = _fast_uuid4(rng)
            parts.append(
                f'{{"id":"{entry_id}","timestamp":{stamp},"url":{url},"code":{code},'
                f'"error":{error}}}'
            )
        text = ",".join(parts)
        yield ((b"," if real or first else b"") + text.encode()) if text else b""
    yield b'],"robotsBlocked":[]}'
