"""Job model of the Firecrawl simulator: progress over the sim clock, status and paginated pages.

A job processes its input URLs in a seeded completion order at `rate` URLs per second of the sim
clock. Documents are generated the first time a page needs them and cached as wire bytes, so a
page is assembled by joining bytes, never by re-serializing.
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

from fakecrawl.content import ContentGenerator, encode_document, error_entry

EXPIRY_SECONDS = 24 * 3600.0
DEFAULT_PAGE_LIMIT_CHARS = 10_485_760
DEFAULT_PAGE_DOCS = 100


class ManualClock:
    """A sim clock that only moves when told to: `clock.advance(2.5)`."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds


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
    ) -> None:
        self.id = job_id
        self.team = team
        self.kind = kind
        self.urls = urls
        self.failing = failing
        self.rate = rate
        self.created_at = now - max(start_offset, 0.0)
        self.origin = now - start_offset  # sim time at which processing started
        self.order = list(range(len(urls)))
        random.Random(f"{seed}:{job_id}:order").shuffle(self.order)
        self._rng = random.Random(f"{seed}:{job_id}:errors")
        self._generator = generator
        self._wall = wall
        self._lock = lock
        self._clock = clock
        self._settings = settings
        self.processed = 0
        self.done_at: float | None = None
        self.cancelled_at: float | None = None
        self.failed_at: float | None = None
        self.expired = False
        self.success: list[int] = []  # input indices of completed documents, completion order
        self.errors: list[dict[str, Any]] = []
        self._encoded: dict[int, tuple[bytes, int]] = {}

    # Public read-only view, always at the current sim time.

    @property
    def status(self) -> str:
        with self._lock:
            now = self._clock()
            self.advance(now)
            return self.status_at(now, self._settings())

    @property
    def completed(self) -> int:
        with self._lock:
            self.advance(self._clock())
            return len(self.success)

    @property
    def total(self) -> int:
        with self._lock:
            now = self._clock()
            self.advance(now)
            return self.total_at(now, self._settings())

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
        if self.cancelled_at is not None or self.failed_at is not None:
            return
        n = len(self.order)
        if self.rate is None:
            target = n
        else:
            target = min(n, max(0, math.floor((now - self.origin) * self.rate + 1e-9)))
        while self.processed < target:
            self._process(self._item_time(self.processed))
        if self.processed == n and self.done_at is None:
            self.done_at = self._item_time(n - 1) if n else self.created_at

    def _item_time(self, k: int) -> float:
        if self.rate is None:
            return self.created_at
        return self.origin + (k + 1) / self.rate

    def _process(self, at: float) -> None:
        index = self.order[self.processed]
        self.processed += 1
        if index in self.failing:
            wall = self._wall(at)
            self.errors.append(error_entry(self._rng, self.urls[index], wall, iso(wall)))
        else:
            self.success.append(index)

    def complete_now(self, now: float) -> None:
        self.advance(now)
        if self.cancelled_at is not None or self.failed_at is not None:
            return
        while self.processed < len(self.order):
            self._process(now)
        if self.done_at is None:
            self.done_at = now

    def cancel(self, now: float) -> None:
        self.advance(now)
        if self.cancelled_at is None:
            self.cancelled_at = now

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

    def total_at(self, now: float, settings: Settings) -> int:
        if self.cancelled_at is not None and now >= self.cancelled_at + settings.settle_seconds:
            return len(self.success)
        return len(self.order) - len(self.errors)

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
            has_next = skip + len(docs) < self.total_at(now, settings)
        else:
            page_docs = DEFAULT_PAGE_DOCS if limit is None else limit
            docs = self.page(skip, page_docs, settings.page_limit_chars)
            has_next = skip + len(docs) < len(self.success) or status != "completed"
        terminal = self.terminal_at(settings)
        if settings.mode == "2026" and terminal is not None:
            expires = terminal + EXPIRY_SECONDS
        else:
            expires = now + EXPIRY_SECONDS
        head: dict[str, Any] = {
            "success": True,
            "status": status,
            "completed": len(self.success),
            "total": self.total_at(now, settings),
            "creditsUsed": -1 if settings.credits_used_unknown else len(self.success),
            "expiresAt": iso(self._wall(expires), whole_seconds=True),
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
            if status != "scraping" and terminal is not None:
                tail["completedAt"] = iso(self._wall(terminal))
                end = terminal
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
