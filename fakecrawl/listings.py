"""The two ways the simulator lists a team's jobs, as the server's controllers do.

`GET /v2/team/activity` (controllers/v1/activity.ts, also served on v2): the team's requests of
the last 24 hours from the `requests` table of the server's database (its read replica), newest
first, `{success, data:[{id, endpoint, api_version, created_at, target}], cursor, has_more}`.
`created_at` is PostgreSQL's text for a timestamptz, `2026-11-28 13:00:02.5+00` (the fraction
without trailing zeros, none when whole); the cursor is base64url of `created_at:id` of the page's
last item, and null on the last page. A server without its database (self-hosted, no database
authentication) checks the parameters, then fails the query: 500 "Failed to fetch activity.".

`GET /v{1,2}/crawl/active` (crawl-ongoing.ts): the team's crawls still running, not cancelled,
`{success, crawls:[{id, teamId, url, created_at, options}]}`. Batch scrapes are left out (they
store no crawler options). There is no `status` field, although the v2 OpenAPI lists one.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fakecrawl.crawls import listed_options
from fakecrawl.jobs import Job, dumps, iso

ACTIVITY_ENDPOINTS = (
    "scrape",
    "crawl",
    "batch_scrape",
    "search",
    "extract",
    "llmstxt",
    "deep_research",
    "map",
    "agent",
    "browser",
    "interact",
)
ACTIVITY_WINDOW_SECONDS = 24 * 3600
ACTIVITY_DEFAULT_LIMIT = 50
ACTIVITY_MAX_LIMIT = 100
INVALID_ENDPOINT = "Invalid endpoint filter. Must be one of: " + ", ".join(ACTIVITY_ENDPOINTS)
INVALID_CURSOR = b'{"success":false,"error":"Invalid cursor."}'
ACTIVITY_FAILED = b'{"success":false,"error":"Failed to fetch activity."}'
# What PostgreSQL takes for a timestamptz parameter (a time without a zone is UTC there).
POSTGRES_TIME = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?"
    r"(Z|[+-]\d\d(?::?\d\d)?)?",
    re.IGNORECASE,
)
BASE64_LETTERS = frozenset(string.ascii_letters + string.digits + "-_+/")
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def micros(wall_seconds: float) -> int:
    """A wall time as PostgreSQL keeps it: whole microseconds."""
    return round(wall_seconds * 1_000_000)


def postgres_time(wall_micros: int) -> str:
    """`2026-11-28 13:00:02.5+00`: a timestamptz as PostgreSQL writes it (UTC session)."""
    seconds, fraction = divmod(wall_micros, 1_000_000)
    text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
    if fraction:
        text += "." + f"{fraction:06d}".rstrip("0")
    return text + "+00"


def js_parse_int(text: str | None) -> int | None:
    """JavaScript's parseInt(text, 10): leading digits after optional space and sign."""
    match = re.match(r"\s*([+-]?\d+)", text or "")
    return int(match.group(1)) if match else None


def encode_cursor(created_at: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}:{job_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[str, str] | None:
    """Node's Buffer.from(raw, "base64url") skips what is not base64; no `:` means invalid."""
    letters = "".join(ch for ch in raw if ch in BASE64_LETTERS)
    letters = letters.replace("+", "-").replace("/", "_")
    if len(letters) % 4 == 1:
        letters = letters[:-1]  # a lone trailing letter carries no whole byte
    try:
        decoded = base64.urlsafe_b64decode(letters + "=" * (-len(letters) % 4))
    except (binascii.Error, ValueError):
        return None
    text = decoded.decode("utf-8", errors="replace")
    created_at, sep, job_id = text.rpartition(":")
    if not sep or not created_at or not job_id:
        return None
    return created_at, job_id


def parse_postgres_time(text: str) -> int | None:
    """A timestamptz parameter in microseconds, or None where PostgreSQL fails the query."""
    match = POSTGRES_TIME.fullmatch(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = round(float("0." + (match.group(7) or "0")) * 1_000_000)
    offset = 0
    zone = (match.group(8) or "Z").upper()
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return (int(moment.timestamp()) - offset) * 1_000_000 + fraction


@dataclass(frozen=True)
class ActivityQuery:
    """GET /v2/team/activity's parameters once checked: what the database is then asked."""

    endpoint: str | None
    limit: int
    cursor: tuple[str, str] | None


def activity_query(query: dict[str, str]) -> ActivityQuery | tuple[int, bytes]:
    """The checked parameters, or the 400 the controller answers before any query."""
    endpoint = query.get("endpoint") or None
    if endpoint is not None and endpoint not in ACTIVITY_ENDPOINTS:
        return 400, dumps({"success": False, "error": INVALID_ENDPOINT})
    limit = js_parse_int(query.get("limit"))
    if limit is None or limit < 1:
        limit = ACTIVITY_DEFAULT_LIMIT
    limit = min(limit, ACTIVITY_MAX_LIMIT)
    raw_cursor = query.get("cursor") or None
    cursor = decode_cursor(raw_cursor) if raw_cursor else None
    if raw_cursor and cursor is None:
        return 400, INVALID_CURSOR
    return ActivityQuery(endpoint, limit, cursor)


def activity(
    jobs: Iterable[Job], checked: ActivityQuery, now_wall: float, wall: Any
) -> tuple[int, bytes]:
    """Status and body of GET /v2/team/activity for one team's jobs, on a server with its
    database."""
    rows = [(micros(wall(job.created_at)), job.id.lower(), job) for job in jobs]
    window_start = math.floor((now_wall - ACTIVITY_WINDOW_SECONDS) * 1000) * 1000
    rows = [row for row in rows if row[0] >= window_start]
    if checked.endpoint is not None:
        rows = [row for row in rows if row[2].listing.endpoint == checked.endpoint]
    if checked.cursor is not None:
        cursor_time = parse_postgres_time(checked.cursor[0])
        if cursor_time is None or not UUID_TEXT.fullmatch(checked.cursor[1]):
            return 500, ACTIVITY_FAILED  # PostgreSQL rejects the query's parameters
        cursor_id = checked.cursor[1].lower()
        rows = [row for row in rows if (row[0], row[1]) < (cursor_time, cursor_id)]
    rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    limit = checked.limit
    has_more = len(rows) > limit
    data = [
        {
            "id": job.id,
            "endpoint": job.listing.endpoint,
            "api_version": job.listing.api_version,
            "created_at": postgres_time(created),
            "target": job.listing.target,
        }
        for created, _, job in rows[:limit]
    ]
    next_cursor = None
    if has_more:
        last_time, _, last = rows[limit - 1]
        next_cursor = encode_cursor(postgres_time(last_time), last.id)
    body = {"success": True, "data": data, "cursor": next_cursor, "has_more": has_more}
    return 200, dumps(body)


def active_crawls(jobs: Iterable[Job], version: int, wall: Any) -> bytes:
    """Body of GET /v{version}/crawl/active for one team's ongoing, uncancelled crawls."""
    crawls = []
    for job in jobs:
        stored = job.listing.crawler_options
        if stored is None:
            continue
        options = listed_options(stored, version)
        options["scrapeOptions"] = job.listing.scrape_options or {}
        crawls.append(
            {
                "id": job.id,
                "teamId": job.team,
                "url": job.listing.target,
                "created_at": iso(wall(job.created_at)),
                "options": options,
            }
        )
    return dumps({"success": True, "crawls": crawls})
