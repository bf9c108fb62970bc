"""Job model of the Firecrawl simulator: progress over the sim clock, status and paginated pages.

A job processes its URLs in a fixed order at `rate` URLs per second of the sim clock. A batch
knows all its URLs from the start; a crawl discovers a page's links only when that page has been
scraped, so its `total` grows as it goes. A cancel does not stop the URLs at once: as on the 2026
server, they are failed one by one over `cancel_settle_seconds`, each becoming an `/errors` entry.
Documents are generated the first time a page needs them and cached as wire bytes, so a page is
assembled by joining bytes, never by re-serializing. Every URL scraped or failed is also written
to the job's log, in the order it happened, so that webhook events can be taken from it
(`take_events`).
"""

from __future__ import annotations

import json
import math
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fakecrawl.content import (
    SCRAPE_FAILED_MESSAGE,
    SCRAPE_FAILED_MESSAGE_2025,
    ContentGenerator,
    encode_document,
    error_entry,
    random_uuid7,
)

EXPIRY_SECONDS = 24 * 3600.0
DEFAULT_PAGE_LIMIT_CHARS = 10_485_760
DEFAULT_PAGE_DOCS = 100
# What a queued URL fails with once its job is cancelled (the worker's check, both generations).
CANCELLED_ERROR = "Parent crawl/batch scrape was cancelled"


class ManualClock:
    """A sim clock that only moves when told to: `clock.advance(2.5)`. What subscribes to it (a
    simulator's webhooks) runs after each move, in the caller's thread."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def subscribe(self, listener: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)


def iso(wall_seconds: float, *, whole_seconds: bool = False) -> str:
    """`2026-11-28T13:04:16.123Z`, the format of every Firecrawl timestamp."""
    if whole_seconds:
        wall_seconds = math.floor(wall_seconds)
    moment = datetime.fromtimestamp(wall_seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Settings:
    """What a job needs from its simulator when it is read."""

    mode: str
    settle_seconds: float
    credits_used_unknown: bool
    page_limit_chars: int
    cancel_settle_seconds: float = 0.0
    cancel_in_flight: int = 0
    completed_lag: int = 0


@dataclass(frozen=True)
class JobEvent:
    """Something a webhook reports: "started", "page" (a URL scraped: `position` in the
    documents, or failed: `error` index in `/errors`) or "completed"."""

    kind: str
    position: int | None = None
    error: int | None = None


@dataclass(frozen=True)
class Listing:
    """How a job shows in `GET /v2/team/activity` and `GET /v{1,2}/crawl/active`.

    crawler_options are a crawl's options in the server's stored (legacy) spelling, which each
    API version renders its own way; None for a batch scrape.
    """

    endpoint: str  # "batch_scrape" or "crawl", the activity listing's `endpoint`
    api_version: str  # "v1" or "v2"
    target: str | None  # the crawl's URL, or a batch's first URL
    crawler_options: dict[str, Any] | None = None
    scrape_options: dict[str, Any] | None = None


class Job:
    """One batch scrape or crawl. Read its state through the simulator's `sim.job(id)`."""

    def __init__(
        self,
        *,
        job_id: str,
        team: str,
        kind: str,
        urls: list[str],
        failing: set[int],
        rate: float | None,
        now: float,
        start_offset: float,
        seed: int,
        generator: ContentGenerator,
        wall: Callable[[float], float],
        lock: threading.RLock,
        clock: Callable[[], float],
        settings: Callable[[], Settings],
        parents: list[int | None] | None = None,
        order: list[int] | None = None,
        listing: Listing | None = None,
        completed_lag: int | None = None,
        webhook: Any = None,
        error_message: str | None = None,
    ) -> None:
        self.id = job_id
        self.webhook = webhook  # the start request's webhook (fakecrawl.webhooks.WebhookConfig)
        self.error_message = error_message  # instead of the server's, for every failed URL
        self.team = team
        self.kind = kind
        self.urls = urls
        self.failing = failing
        self.rate = rate
        self.created_at = now - max(start_offset, 0.0)
        self.origin = now - start_offset  # sim time at which processing started
        # A URL with a parent is found only once its parent page was scraped (crawls).
        self.parents: list[int | None] = parents or [None] * len(urls)
        self.children = [0] * len(urls)
        for parent in self.parents:
            if parent is not None:
                self.children[parent] += 1
        self.roots = sum(parent is None for parent in self.parents)
        # A batch's URLs are all known when it is created, a crawl's start page when it kicks off.
        self.roots_known_at = self.origin if kind == "crawl" else self.created_at
        if order is None:
            order = list(range(len(urls)))
            random.Random(f"{seed}:{job_id}:order").shuffle(order)
        self.order = order
        self.listing = listing or Listing(
            "crawl" if kind == "crawl" else "batch_scrape", "v2", urls[0] if urls else None
        )
        self.completed_lag = completed_lag
        self._rng = random.Random(f"{seed}:{job_id}:errors")
        self._generator = generator
        self._wall = wall
        self._lock = lock
        self._clock = clock
        self._settings = settings
        self.processed = 0  # how many of `order` were scraped before any cancel
        self.found_children = 0
        self.done_at: float | None = None
        self.cancelled_at: float | None = None
        self.failed_at: float | None = None
        self.last_success_at: float | None = None
        self.expired = False
        self.success: list[int] = []  # input indices of completed documents, completion order
        self.errors: list[dict[str, Any]] = []
        # After a cancel: (sim time, input index, still scraped normally) for each pending URL.
        self._cancel_queue: list[tuple[float, int, bool]] = []
        self.cancel_settled_at: float | None = None  # when the last of them was settled
        self._encoded: dict[int, tuple[bytes, int]] = {}
        # What happened, in order: a position in `success` (>= 0) or ~index in `errors` (< 0).
        self.log: list[int] = []
        self._events_taken = 0
        self._started_taken = False
        self._completed_taken = False

    # Public read-only view, always at the current sim time.

    @property
    def status(self) -> str:
        with self._lock:
            now = self._clock()
            self.advance(now)
            return self.status_at(now, self._settings())

    @property
    def completed(self) -> int:
        """Documents scraped so far (what `data` lists; the reported count may lag it)."""
        with self._lock:
            self.advance(self._clock())
            return len(self.success)

    @property
    def total(self) -> int:
        with self._lock:
            now = self._clock()
            self.advance(now)
            return self.total_at(now)

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Completed documents in completion order, exactly as GET returns them in `data`."""
        with self._lock:
            self.advance(self._clock())
            return [json.loads(self.encoded(pos)[0]) for pos in range(len(self.success))]

    @property
    def failed(self) -> list[dict[str, Any]]:
        with self._lock:
            self.advance(self._clock())
            return [dict(entry) for entry in self.errors]

    # State transitions (call with the simulator lock held).

    def advance(self, now: float) -> None:
        if self.failed_at is not None:
            return
        if self.cancelled_at is not None:
            while self._cancel_queue and self._cancel_queue[0][0] <= now:
                at, index, scraped = self._cancel_queue.pop(0)
                if scraped:
                    self._scrape(index, at, follow_links=False)
                else:
                    self._fail_cancelled(index, at)
            return
        n = len(self.order)
        if self.rate is None:
            target = n if now >= self.origin else 0
        else:
            target = min(n, max(0, math.floor((now - self.origin) * self.rate + 1e-9)))
        while self.processed < target:
            at = self._item_time(self.processed)
            self._scrape(self.order[self.processed], at, follow_links=True)
            self.processed += 1
        if self.processed == n and self.done_at is None:
            self.done_at = self._item_time(n - 1) if n else max(self.created_at, self.origin)

    def _item_time(self, k: int) -> float:
        if self.rate is None:
            return max(self.created_at, self.origin)
        return self.origin + (k + 1) / self.rate

    def _scrape(self, index: int, at: float, *, follow_links: bool) -> None:
        if index in self.failing:
            wall = self._wall(at)
            message = self.error_message or (
                SCRAPE_FAILED_MESSAGE_2025
                if self._settings().mode == "2025"
                else SCRAPE_FAILED_MESSAGE
            )
            self.errors.append(error_entry(self._rng, self.urls[index], wall, iso(wall), message))
            self.log.append(~(len(self.errors) - 1))
            return
        self.log.append(len(self.success))
        self.success.append(index)
        self.last_success_at = at
        if follow_links:
            self.found_children += self.children[index]

    def _fail_cancelled(self, index: int, at: float) -> None:
        wall = self._wall(at)
        entry = {
            "id": random_uuid7(self._rng, wall),
            "timestamp": iso(wall),
            "url": self.urls[index],
            "error": CANCELLED_ERROR,
        }
        self.errors.append(entry)
        self.log.append(~(len(self.errors) - 1))

    def complete_now(self, now: float) -> None:
        self.advance(now)
        if self.cancelled_at is not None or self.failed_at is not None:
            return
        while self.processed < len(self.order):
            self._scrape(self.order[self.processed], now, follow_links=True)
            self.processed += 1
        if self.done_at is None:
            self.done_at = now

    def cancel(self, now: float) -> None:
        """Stop taking URLs. Those already known but not yet scraped are settled over the
        next `cancel_settle_seconds`: the first `cancel_in_flight` still finish as usual (they
        were being scraped), the rest fail one by one with the server's cancel error."""
        self.advance(now)
        if self.cancelled_at is not None:
            return
        self.cancelled_at = now
        if self.failed_at is not None:
            return
        settings = self._settings()
        scraped = set(self.success)
        roots_known = now >= self.roots_known_at
        pending = [
            index
            for index in self.order[self.processed :]
            if (self.parents[index] is None and roots_known) or self.parents[index] in scraped
        ]
        spread = max(settings.cancel_settle_seconds, 0.0)
        in_flight = max(settings.cancel_in_flight, 0)
        self._cancel_queue = [
            (now + spread * (j + 1) / len(pending), index, j < in_flight)
            for j, index in enumerate(pending)
        ]
        self.cancel_settled_at = self._cancel_queue[-1][0] if self._cancel_queue else now
        self.advance(now)

    def fail(self, now: float) -> None:
        self.advance(now)
        if self.failed_at is None and self.cancelled_at is None:
            self.failed_at = now

    # Reading.

    def status_at(self, now: float, settings: Settings) -> str:
        if self.failed_at is not None:
            return "failed"
        if self.cancelled_at is not None:
            return "cancelled"
        if self.done_at is None:
            return "scraping"
        if settings.mode == "2026" and now < self.done_at + settings.settle_seconds:
            return "scraping"  # completion is settled by a periodic job on the 2026 server
        return "completed"

    def terminal_at(self, settings: Settings) -> float | None:
        if self.failed_at is not None:
            return self.failed_at
        if self.cancelled_at is not None:
            return self.cancelled_at
        if self.done_at is None:
            return None
        return self.done_at + (settings.settle_seconds if settings.mode == "2026" else 0.0)

    def is_expired(self, now: float, settings: Settings) -> bool:
        terminal = self.terminal_at(settings)
        return self.expired or (terminal is not None and now >= terminal + EXPIRY_SECONDS)

    def total_at(self, now: float) -> int:
        """URLs known so far minus those that failed: it shrinks as URLs fail."""
        roots = self.roots if now >= self.roots_known_at else 0
        return roots + self.found_children - len(self.errors)

    def reported_completed(self, settings: Settings) -> int:
        """`completed` as the server reports it: counted after the listing, so while documents
        are still arriving it can lag the documents in `data` by `completed_lag`."""
        lag = settings.completed_lag if self.completed_lag is None else self.completed_lag
        running = self.done_at is None and self.cancelled_at is None and self.failed_at is None
        if lag > 0 and running:
            return max(len(self.success) - lag, 0)
        return len(self.success)

    def settled_at(self, settings: Settings) -> float | None:
        """When the server finishes the job's group (and sends `completed`): after its last URL
        and, on the 2026 server, the periodic check; None while it runs, or for a failed job."""
        if self.failed_at is not None:
            return None
        if self.cancelled_at is not None:
            end = self.cancel_settled_at if self.cancel_settled_at is not None else 0.0
        elif self.done_at is not None:
            end = self.done_at
        else:
            return None
        return end + (settings.settle_seconds if settings.mode == "2026" else 0.0)

    def take_events(self, now: float, settings: Settings) -> list[JobEvent]:
        """The events due by `now` not taken before, in the order they happened: `started` (a
        batch when created, a crawl when its kickoff ran), a `page` per URL scraped or failed,
        and `completed` once the job is settled. Empty for good once `finished_events`."""
        self.advance(now)
        events: list[JobEvent] = []
        if self.expired:
            return events
        started_at = self.roots_known_at if self.kind == "crawl" else self.created_at
        if not self._started_taken and now >= started_at:
            self._started_taken = True
            events.append(JobEvent("started"))
        if self._started_taken:
            for entry in self.log[self._events_taken :]:
                if entry >= 0:
                    events.append(JobEvent("page", position=entry))
                else:
                    events.append(JobEvent("page", error=~entry))
            self._events_taken = len(self.log)
        settled = self.settled_at(settings)
        if not self._completed_taken and settled is not None and now >= settled:
            self._completed_taken = True
            events.append(JobEvent("completed"))
        return events

    def skip_events(self) -> None:
        """Take what happened so far without reporting it (a webhook configured later)."""
        self._events_taken = len(self.log)

    @property
    def finished_events(self) -> bool:
        """Whether no event can come any more."""
        return self.expired or self.failed_at is not None or self._completed_taken

    def is_ongoing(self, now: float, settings: Settings) -> bool:
        return self.status_at(now, settings) == "scraping" and not self.is_expired(now, settings)

    def encoded(self, pos: int) -> tuple[bytes, int]:
        """Wire bytes and UTF-16 length of the pos-th completed document, generated once."""
        index = self.success[pos]
        cached = self._encoded.get(index)
        if cached is None:
            doc = self._generator.document(index, self.urls[index], self._wall(self.created_at))
            cached = self._encoded[index] = encode_document(doc)
        return cached

    def page(self, skip: int, limit: int, page_limit_chars: int) -> list[bytes]:
        """Documents from `skip`: at most `limit` and at most `page_limit_chars` UTF-16 units,
        except that a single document larger than the limit comes alone."""
        docs: list[bytes] = []
        size = 0
        for pos in range(skip, min(len(self.success), skip + limit)):
            raw, units = self.encoded(pos)
            if docs and size + units > page_limit_chars:
                break
            docs.append(raw)
            size += units
        return docs

    def status_body(
        self,
        now: float,
        settings: Settings,
        *,
        version: int,
        base: str,
        path_kind: str,
        skip: int,
        limit: int | None,
    ) -> bytes:
        """The body of GET /v{version}/{path_kind}/{id}?skip&limit."""
        self.advance(now)
        status = self.status_at(now, settings)
        if settings.mode == "2025":
            # That server ignores skip (and limit): every page is the first page.
            docs = self.page(0, DEFAULT_PAGE_DOCS, settings.page_limit_chars)
            has_next = skip + len(docs) < self.total_at(now)
        else:
            page_docs = DEFAULT_PAGE_DOCS if limit is None else limit
            docs = self.page(skip, page_docs, settings.page_limit_chars)
            has_next = skip + len(docs) < len(self.success) or status != "completed"
        head: dict[str, Any] = {
            "success": True,
            "status": status,
            "completed": self.reported_completed(settings),
            "total": self.total_at(now),
            "creditsUsed": -1 if settings.credits_used_unknown else len(self.success),
            # Both generations slide this to now + 24 h on every read (every capture shows it),
            # even after completion; the 2026 server still drops the job 24 h after it ended.
            "expiresAt": iso(self._wall(now + EXPIRY_SECONDS), whole_seconds=True),
        }
        if has_next:
            next_url = f"{base}/v{version}/{path_kind}/{self.id}?skip={skip + len(docs)}"
            if limit is not None:
                next_url += f"&limit={limit}"
            head["next"] = next_url
        tail: dict[str, Any] = {}
        if version == 2 and settings.mode == "2026":
            tail["createdAt"] = iso(self._wall(self.created_at))
            end = now
            if status != "scraping":
                # The last document's time, not when the status flipped: a job whose every URL
                # failed shows its creation time and a duration of 0 (captures 145, 204).
                end = self.last_success_at if self.last_success_at is not None else self.created_at
                tail["completedAt"] = iso(self._wall(end))
            duration = round(max(end - self.created_at, 0.0), 3)
            tail["duration"] = int(duration) if duration.is_integer() else duration  # as JS prints
        return join_body(head, docs, tail)

    def errors_body(self) -> bytes:
        return dumps({"errors": self.errors, "robotsBlocked": []})


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def join_body(head: dict[str, Any], docs: list[bytes], tail: dict[str, Any]) -> bytes:
    """`{...head, "data": [docs], ...tail}` from pre-serialized documents."""
    parts = [dumps(head)[:-1], b',"data":[', b",".join(docs), b"]"]
    if tail:
        parts.extend([b",", dumps(tail)[1:]])
    else:
        parts.append(b"}")
    return b"".join(parts)
