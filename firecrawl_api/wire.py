"""Firecrawl's answers as small typed values, every field range-checked on the way in.

The rest of the code never touches a raw dict from the wire. A job-level value that cannot be
true (a total beyond any database integer, an expiry past the year 3000) makes the whole answer an
InvalidResponse; documents are scraped content, hostile by nature, so an odd field in one of them
is normalised (to None or "") and never fails the page. Every string exposed here is safe to
display and store (firecrawl_api.text.clean_text); only `ScrapedDocument.raw` and `.text` are as
sent.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from firecrawl_api import jsonscan
from firecrawl_api.errors import InvalidResponse
from firecrawl_api.ids import is_uuid
from firecrawl_api.text import MAX_MESSAGE, MAX_URL, clean_text, cut

# What a database integer column holds: counters and offsets.
MAX_COUNT = 2**31 - 1
# What a BIGINT holds: remaining credits of a large plan.
MAX_BIG = 2**63 - 1
# No job runs for a year; results live for 24 hours.
MAX_DURATION = 365 * 24 * 3600.0
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
JOB_STATUS_LENGTH = 50

# A number sent as text. Longer is out of every range (int() refuses over 4,300 digits), and
# str.isdigit() would let through "²", which int() refuses too.
_INT_TEXT = re.compile(r"-?[0-9]{1,20}")
_MAX_NEXT_LENGTH = 10_000

# The activity listing's `endpoint` for the two kinds of job this dashboard tracks.
ACTIVITY_ENDPOINTS = {"batch_scrape": "batch", "crawl": "crawl"}


# ---------------------------------------------------------------------------------------------
# Reading single values: each returns None for anything that is not a plausible value.


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None  # inf and nan are not integers
    # str.strip() removes more than int() allows around a number (the separators \x1c-\x1f):
    # the text checked is the text converted.
    if isinstance(value, str) and _INT_TEXT.fullmatch(text := value.strip()):
        return int(text)
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return result if math.isfinite(result) else None


def as_utc(value: Any) -> datetime | None:
    """An ISO 8601 time between 2000 and 3000, in UTC (Firecrawl sends UTC; a naive time is
    taken as UTC rather than as local time)."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return parsed if EARLIEST <= parsed < LATEST else None


def as_text(value: Any) -> str:
    """A display-safe string; metadata strings may arrive as lists of strings (titles)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return clean_text(" / ".join(item for item in value if isinstance(item, str)))
    return ""


def as_text_or_none(value: Any) -> str | None:
    return clean_text(value) if isinstance(value, str) else None


def as_uuid(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and is_uuid(value) else None


def shown(value: Any) -> str:
    """A value from the wire, short enough to quote in an error message."""
    if isinstance(value, str):
        text = clean_text(value)
    elif isinstance(value, list):
        text = "a list"
    elif isinstance(value, dict):
        text = "an object"
    else:
        text = json.dumps(value)  # numbers (inf included), true/false, null
    return text if len(text) <= 40 else text[:40] + "…"


def _impossible(what: str, value: Any) -> InvalidResponse:
    return InvalidResponse(f"Firecrawl sent an impossible {what}: {shown(value)}")


def _count(payload: dict[str, Any], key: str, what: str) -> int:
    value = payload.get(key)
    number = as_int(value)
    if number is None and value is None:
        raise InvalidResponse(
            "Firecrawl's status response lacks status or counters (is the API URL right?)"
        )
    if number is None or not 0 <= number <= MAX_COUNT:
        raise _impossible(what, value)
    return number


def _optional_time(payload: dict[str, Any], key: str, what: str) -> datetime | None:
    value = payload.get(key)
    if value is None:
        return None
    moment = as_utc(value)
    if moment is None:
        raise _impossible(what, value)
    return moment


# ---------------------------------------------------------------------------------------------
# Documents


@dataclass(frozen=True)
class ScrapedDocument:
    """One scraped page: how the whole app reads a document, fresh from a status page or stored.

    The small fields are read at once (the sync stores them). The large ones (markdown, html,
    links, metadata) are read from `raw` the first time they are asked for, so a sync that never
    shows them never pays for cleaning them.
    """

    # The document as parsed, for code that needs a field this class does not expose; its
    # strings are NOT display-safe.
    raw: dict[str, Any]
    # The document's JSON text exactly as Firecrawl sent it, when the parser kept it (stored
    # verbatim: it is the only exact record of what was received).
    text: str | None = None
    source_url: str = ""
    url: str = ""
    title: str = ""
    status_code: int | None = None
    scrape_id: str | None = None
    error: str | None = None
    warning: str | None = None
    screenshot: str | None = None

    @classmethod
    def from_raw(cls, raw: Any, text: str | None = None) -> ScrapedDocument:
        if not isinstance(raw, dict):
            # Kept, not dropped: positions are upstream offsets, and skipping one would shift them.
            return cls(
                raw={"value": raw},
                text=text,
                error="Firecrawl sent a document that is not an object",
            )
        metadata = raw.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        source_url = as_text(metadata.get("sourceURL"))
        url = as_text(metadata.get("url"))
        status_code = as_int(metadata.get("statusCode"))
        if status_code is not None and not 100 <= status_code <= 999:
            status_code = None
        scrape_id = as_text_or_none(metadata.get("scrapeId"))
        return cls(
            raw=raw,
            text=text,
            source_url=source_url or url,
            url=url or source_url,
            title=as_text(metadata.get("title")),
            status_code=status_code
            if status_code is not None and 100 <= status_code <= 999
            else None,
            # Ids dedupe documents; one longer than any real id (a UUID) is no id.
            scrape_id=scrape_id if scrape_id and len(scrape_id) <= 100 else None,
            error=as_text_or_none(metadata.get("error")) or as_text_or_none(raw.get("error")),
            warning=as_text_or_none(raw.get("warning")),
            screenshot=as_text_or_none(raw.get("screenshot")),
        )

    @classmethod
    def from_text(cls, text: str) -> ScrapedDocument:
        """A stored document (its verbatim JSON text) read back."""
        try:
            raw = jsonscan.parse(text)
        except ValueError:
            return cls(raw={}, text=text, error="This stored document is not readable JSON")
        return cls.from_raw(raw, text)

    @cached_property
    def markdown(self) -> str | None:
        return as_text_or_none(self.raw.get("markdown"))

    @cached_property
    def html(self) -> str | None:
        return as_text_or_none(self.raw.get("html"))

    @cached_property
    def raw_html(self) -> str | None:
        return as_text_or_none(self.raw.get("rawHtml"))

    @property
    def content_html(self) -> str | None:
        """The HTML to show or export: the cleaned `html`, else the page's `rawHtml`."""
        return self.html or self.raw_html or None

    @cached_property
    def links(self) -> list[str]:
        links = self.raw.get("links")
        if not isinstance(links, list):
            return []
        return [clean_text(link) for link in links if isinstance(link, str)]

    def screenshots(self, limit: int) -> tuple[list[tuple[int, str | None]], int]:
        """The document's screenshots as sent, numbered: 0 is the page's own (`screenshot`),
        n the n-th its page actions took (`actions.screenshots`). A value that is not a string
        is None (kept, so that it can be reported). At most `limit` are read; the second value
        says how many more the document had. URLs and data: URIs are NOT display-safe."""
        shots: list[tuple[int, str | None]] = []
        own = self.raw.get("screenshot")
        if own is not None:
            shots.append((0, own if isinstance(own, str) else None))
        actions = self.raw.get("actions")
        taken = actions.get("screenshots") if isinstance(actions, dict) else None
        taken = taken if isinstance(taken, list) else []
        room = max(limit - len(shots), 0)
        shots += [
            (number, value if isinstance(value, str) else None)
            for number, value in enumerate(taken[:room], start=1)
        ]
        return shots[:limit], max(len(taken) - room, 0) + max(len(shots) - limit, 0)

    @cached_property
    def metadata(self) -> dict[str, str]:
        """Every metadata field as display text: lists of strings joined, other values as JSON."""
        metadata = self.raw.get("metadata")
        if not isinstance(metadata, dict):
            return {}
        return {clean_text(str(key)): _display(value) for key, value in metadata.items()}


def _display(value: Any) -> str:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return clean_text(", ".join(value))
    try:
        return clean_text(json.dumps(value, ensure_ascii=False))
    except (ValueError, RecursionError):
        return "…"


# ---------------------------------------------------------------------------------------------
# Status pages


@dataclass(frozen=True)
class StatusPage:
    status: str
    completed: int
    total: int
    credits_used: int | None
    expires_at: datetime | None
    created_at: datetime | None
    completed_at: datetime | None
    duration: float | None
    warning: str | None
    documents: list[ScrapedDocument]
    next_skip: int | None
    skip: int

    @property
    def has_next(self) -> bool:
        """Whether another page is worth asking for right now: the one rule for following `next`.

        Upstream's `next` never disappears on a cancelled job and repeats the same skip while a
        running job has nothing new, so a page that brought no documents (or a `next` that does
        not move forward) ends the walk; poll again later instead.
        """
        return self.next_skip is not None and bool(self.documents) and self.next_skip > self.skip

    @classmethod
    def from_payload(cls, payload: dict[str, Any], skip: int) -> StatusPage:
        status = payload.get("status")
        if not isinstance(status, str):
            raise InvalidResponse(
                "Firecrawl's status response lacks status or counters (is the API URL right?)"
            )
        if not 0 < len(status) <= JOB_STATUS_LENGTH:
            raise _impossible("job status", status)
        completed = _count(payload, "completed", "number of completed pages")
        total = _count(payload, "total", "total")
        data = payload.get("data")
        if data is None:
            data = []
        if not isinstance(data, list):
            raise InvalidResponse("Firecrawl's status response has no list of documents")
        texts = data.texts if isinstance(data, jsonscan.SourcedList) else [None] * len(data)
        documents = [
            ScrapedDocument.from_raw(item, text) for item, text in zip(data, texts, strict=True)
        ]
        return cls(
            status=clean_text(status),
            completed=completed,
            total=total,
            credits_used=_credits_used(payload.get("creditsUsed")),
            expires_at=_optional_time(payload, "expiresAt", "expiry time"),
            created_at=_optional_time(payload, "createdAt", "creation time"),
            completed_at=_optional_time(payload, "completedAt", "completion time"),
            duration=_duration(payload.get("duration")),
            warning=as_text_or_none(payload.get("warning")),
            documents=documents,
            next_skip=_next_skip(payload.get("next"), skip + len(documents)),
            skip=skip,
        )


def _credits_used(value: Any) -> int | None:
    if value is None:
        return None
    number = as_int(value)
    if number == -1:
        return None  # a self-hosted server without a database: unknown
    if number is None or not 0 <= number <= MAX_COUNT:
        raise _impossible("number of credits used", value)
    return number


def _duration(value: Any) -> float | None:
    if value is None:
        return None
    seconds = as_float(value)
    if seconds is None or not 0 <= seconds <= MAX_DURATION:
        raise _impossible("duration", value)
    return seconds


def _next_skip(value: Any, fallback: int) -> int | None:
    """The offset of the next page, from `next`'s query; None when there is no `next`.

    `next` is never requested (its host is untrusted) and never parsed as a URL (a hostile one
    such as "http://[" makes urlsplit raise): only its `skip` is read, and when that is missing
    or impossible, the offset right after this page's documents is used.
    """
    if value is None:
        return None
    skip = None
    if isinstance(value, str) and len(value) <= _MAX_NEXT_LENGTH:
        query = value.partition("?")[2].partition("#")[0]
        skip = as_int(parse_qs(query).get("skip", [""])[0])
    return skip if skip is not None and 0 <= skip <= MAX_COUNT else fallback


# ---------------------------------------------------------------------------------------------
# Failed URLs, credits, started jobs, listings


# What Firecrawl's worker fails each URL still queued with once its job is cancelled (both
# server generations): such an entry in /errors is a cancelled URL, not a failure to scrape it.
CANCELLED_URL_ERROR = "Parent crawl/batch scrape was cancelled"


@dataclass(frozen=True)
class FailedUrl:
    id: str
    timestamp: datetime | None
    url: str
    code: str | None
    error: str

    @property
    def cancelled(self) -> bool:
        """Left unscraped because the job was cancelled (counted and named apart)."""
        return is_cancelled_entry({"code": self.code, "error": self.error})


def is_cancelled_entry(item: Any) -> bool:
    """An entry of /errors (as parsed JSON) for a URL its job's cancel left unscraped."""
    if not isinstance(item, dict):
        return False
    error = item.get("error")
    return not item.get("code") and isinstance(error, str) and error.strip() == CANCELLED_URL_ERROR


@dataclass(frozen=True)
class ErrorsListing:
    """A job's failed and robots-blocked URLs: the first `max_items` of each that Firecrawl
    listed (its URLs and messages cut to text.MAX_URL and text.MAX_MESSAGE), and how many it
    listed in all (`cancelled_listed`: how many of `failed_listed` a cancel left unscraped)."""

    errors: list[FailedUrl]
    robots_blocked: list[str]
    failed_listed: int = -1  # -1: as many as `errors`
    robots_listed: int = -1
    cancelled_listed: int = -1  # -1: as many as `errors` holds

    def __post_init__(self) -> None:
        if self.failed_listed < 0:
            object.__setattr__(self, "failed_listed", len(self.errors))
        if self.cancelled_listed < 0:
            cancelled = sum(1 for item in self.errors if item.cancelled)
            object.__setattr__(self, "cancelled_listed", cancelled)
        if self.robots_listed < 0:
            object.__setattr__(self, "robots_listed", len(self.robots_blocked))

    @classmethod
    def from_payload(
        cls,
        payload: dict[str, Any],
        max_items: int | None = None,
        *,
        failed_listed: int | None = None,
        robots_listed: int | None = None,
        cancelled_listed: int | None = None,
    ) -> ErrorsListing:
        """`failed_listed`, `robots_listed`, `cancelled_listed`: how many entries each list had
        (and how many of the errors were cancelled URLs), when the payload holds only the first
        ones (firecrawl_api.jsonscan.scan_arrays)."""
        errors = payload.get("errors", [])
        blocked = payload.get("robotsBlocked", [])
        if not isinstance(errors, list) or not isinstance(blocked, list):
            raise InvalidResponse("Firecrawl's list of failed URLs has an unexpected shape")
        entries = [item for item in errors if isinstance(item, dict)]
        urls = [url for url in blocked if isinstance(url, str)]
        return cls(
            errors=[
                FailedUrl(
                    id=as_text(item.get("id"))[:100],
                    timestamp=as_utc(item.get("timestamp")),
                    url=_cut_text(item.get("url"), MAX_URL),
                    code=_code(item.get("code")),
                    error=_cut_text(item.get("error"), MAX_MESSAGE),
                )
                for item in entries[:max_items]
            ],
            robots_blocked=[cut(url, MAX_URL) for url in urls[:max_items]],
            failed_listed=len(entries) if failed_listed is None else failed_listed,
            robots_listed=len(urls) if robots_listed is None else robots_listed,
            cancelled_listed=(
                sum(1 for item in entries if is_cancelled_entry(item))
                if cancelled_listed is None
                else cancelled_listed
            ),
        )


def _cut_text(value: Any, limit: int) -> str:
    """as_text, cut before it is cleaned: a 30 MB message is never copied whole."""
    if isinstance(value, str):
        return cut(value, limit)
    return cut(as_text(value), limit)


def _code(value: Any) -> str | None:
    return cut(value, 100) if isinstance(value, str) else None


@dataclass(frozen=True)
class CreditUsage:
    """Remaining credits; None when the server has no billing (self-hosted answers 500)."""

    remaining_credits: int | None

    @property
    def known(self) -> bool:
        return self.remaining_credits is not None

    @classmethod
    def unknown(cls) -> CreditUsage:
        return cls(None)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CreditUsage:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise InvalidResponse("Firecrawl's credit usage response has no data")
        # v1 answers snake_case and v2 camelCase; reading both survives a mislabelled version.
        value = data.get("remaining_credits")
        if value is None:
            value = data.get("remainingCredits")
        if value is None:
            return cls.unknown()
        credits = as_int(value)
        if credits is None or not -MAX_BIG <= credits <= MAX_BIG:
            raise _impossible("number of remaining credits", value)
        return cls(credits)


@dataclass(frozen=True)
class StartedJob:
    id: str
    url: str
    invalid_urls: list[str]

    @classmethod
    def from_payload(cls, payload: dict[str, Any], what: str) -> StartedJob:
        job_id = as_uuid(payload.get("id"))
        if job_id is None:
            raise InvalidResponse(f"Firecrawl started a {what} but sent no valid job id")
        invalid = payload.get("invalidURLs")
        return cls(
            id=job_id,
            url=as_text(payload.get("url")),
            invalid_urls=[clean_text(u) for u in invalid if isinstance(u, str)]
            if isinstance(invalid, list)
            else [],
        )


@dataclass(frozen=True)
class RecentJob:
    """A batch scrape or crawl from the team's activity listing."""

    id: str
    kind: str  # "batch" or "crawl"
    created_at: datetime | None
    url: str  # what was submitted: the crawl's start URL, or a batch's first URL


@dataclass(frozen=True)
class ActivityPage:
    """One page of recent jobs; `next_cursor` asks for the following one (None: no more)."""

    jobs: list[RecentJob]
    next_cursor: str | None

    @classmethod
    def from_payload(cls, payload: dict[str, Any], max_items: int | None = None) -> ActivityPage:
        """`max_items`: the page's size as asked; a server that sends more is cut to it."""
        data = payload.get("data")
        if not isinstance(data, list):
            raise InvalidResponse("Firecrawl's activity listing has no list of jobs")
        jobs = []
        for item in data[:max_items]:
            if not isinstance(item, dict):
                continue
            job_id = as_uuid(item.get("id"))
            endpoint = item.get("endpoint")
            kind = ACTIVITY_ENDPOINTS.get(endpoint) if isinstance(endpoint, str) else None
            # Scrapes, searches, maps… are listed too; only jobs with results pages are kept.
            if job_id is not None and kind is not None:
                target = _cut_text(item.get("target"), MAX_URL)
                jobs.append(RecentJob(job_id, kind, as_utc(item.get("created_at")), target))
        cursor = payload.get("cursor")
        if cursor is not None and (not isinstance(cursor, str) or not 0 < len(cursor) <= 1000):
            raise _impossible("page cursor", cursor)
        more = payload.get("has_more") is True and cursor is not None
        return cls(jobs=jobs, next_cursor=cursor if more else None)


@dataclass(frozen=True)
class ActiveCrawl:
    id: str
    url: str
    status: str | None
    created_at: datetime | None

    @classmethod
    def list_from_payload(
        cls, payload: dict[str, Any], max_items: int | None = None
    ) -> list[ActiveCrawl]:
        """The listed crawls, the first `max_items` of them (the listing has no pages)."""
        crawls = payload.get("crawls")
        if not isinstance(crawls, list):
            raise InvalidResponse("Firecrawl's list of active crawls has an unexpected shape")
        return [
            cls(
                id=job_id,
                url=_cut_text(item.get("url"), MAX_URL),
                status=_code(item.get("status")),
                created_at=as_utc(item.get("created_at")),
            )
            for item in crawls[:max_items]
            if isinstance(item, dict) and (job_id := as_uuid(item.get("id"))) is not None
        ]


def bad_request_details(payload: Any) -> list[str]:
    """Firecrawl's 400 `details` (zod issues) as readable lines: "urls[2]: Invalid URL"."""
    details = payload.get("details") if isinstance(payload, dict) else None
    if not isinstance(details, list):
        return []
    lines: list[str] = []
    for issue in details[:100]:
        if not isinstance(issue, dict) or not isinstance(issue.get("message"), str):
            continue
        path = issue.get("path")
        where = _issue_path(path) if isinstance(path, list) else ""
        line = clean_text(f"{where}: {issue['message']}" if where else issue["message"])[:300]
        if line not in lines:  # zod repeats a message when two checks fail the same way
            lines.append(line)
    return lines


def _issue_path(path: list[Any]) -> str:
    where = ""
    for part in path[:10]:
        if isinstance(part, int) and not isinstance(part, bool):
            where += f"[{part}]"
        elif isinstance(part, str):
            where += f".{part}" if where else part
    return where
