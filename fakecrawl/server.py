"""The Firecrawl simulator: job endpoints, auth, credits and fault injection over real HTTP.

`FakeFirecrawl` owns all state behind one lock; `handle()` turns a request into a `Response`
without any socket, and a small `BaseHTTPRequestHandler` puts it on the wire (HTTP/1.1 keep-alive).

Routes, as the real server answers them (FIRECRAWL.md, the captures, and the server code):
- `POST /v{1,2}/batch/scrape`, `POST /v{1,2}/crawl`: start a job (400 bodies as zod spells them,
  402 when the team lacks credits, 409 on a reused `x-idempotency-key` where the server checks it).
- `GET|DELETE /v{1,2}/{batch/scrape|crawl}/{id}`, `GET .../{id}/errors`: status pages, cancel.
- `GET /v{1,2}/crawl/active` (and its alias `/crawl/ongoing`): the team's running crawls.
- `GET /v2/team/activity`: the team's jobs of the last 24 hours, newest first.
- `GET /v{1,2}/team/credit-usage`.
Anything else is Express's HTML `Cannot GET /path` 404.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from fakecrawl import faults, listings
from fakecrawl.content import ContentGenerator, random_uuid4, random_uuid7
from fakecrawl.crawls import (
    DEFAULT_LIMIT,
    CrawlRequest,
    plan_crawl,
    regex_error,
    stored_options,
)
from fakecrawl.faults import JSON, Fault, QueuedFault, Response
from fakecrawl.jobs import DEFAULT_PAGE_LIMIT_CHARS, Job, Listing, Settings, dumps, iso
from fakecrawl.validation import (
    BadRequest,
    bad_request_body,
    object_issue,
    parse_batch,
    parse_crawl,
)

# Wall time of sim-clock zero when tests drive a ManualClock: 2026-11-28T13:00:00Z.
FIXED_WALL_EPOCH = 1795870800.0
DEFAULT_FORMATS = ("markdown", "html", "links")  # of jobs made with create_batch()

JOB_PATH = re.compile(r"/v([12])/(batch/scrape|crawl)(?:/([^/]*))?(/errors)?/?")
CREDIT_PATH = re.compile(r"/v([12])/team/credit-usage/?")
ACTIVITY_PATH = re.compile(r"/v([12])/team/activity/?")
# Registered before /crawl/:jobId on both versions, so they win over it only while they exist.
ACTIVE_PATH = re.compile(r"/v([12])/crawl/(?:active|ongoing)/?")
# The `uuid` package's validate(), which the idempotency check uses.
UUID_PACKAGE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    r"|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff",
    re.IGNORECASE,
)
ACTIVITY_MODES = (True, False, "no-clickhouse")

NOT_FOUND = b'{"success":false,"error":"Job not found"}'
DELETE_NOT_FOUND = b'{"error":"Job not found"}'
INVALID_ID = b'{"success":false,"error":"Invalid job ID format. Job ID must be a valid UUID."}'
ALREADY_COMPLETED = b'{"error":"Crawl is already completed"}'
CANCELLED = b'{"status":"cancelled"}'
FORBIDDEN = b'{"success":false,"error":"Forbidden"}'
TOKEN_MISSING = b'{"success":false,"error":"Unauthorized: Token missing"}'
UNAUTHORIZED = b'{"success":false,"error":"Unauthorized"}'
INVALID_TOKEN = b'{"success":false,"error":"Unauthorized: Invalid token"}'
INVALID_JSON = (
    b'{"success":false,"code":"BAD_REQUEST_INVALID_JSON","error":"Bad request, malformed JSON"}'
)
INSUFFICIENT_CREDITS = (
    b'{"success":false,"error":"Insufficient credits to perform this request. For more credits, '
    b"you can upgrade your plan at https://firecrawl.dev/pricing or try changing the request "
    b'limit to a lower value."}'
)
IDEMPOTENCY_KEY_USED = b'{"success":false,"error":"Idempotency key already used"}'
NO_VALID_URLS = b'{"success":false,"error":"No valid URLs provided"}'
EMPTY_ERRORS = b'{"errors":[],"robotsBlocked":[]}'


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator received, with the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    api_key: str | None
    status: int
    time: float
    body: bytes = b""


def json_response(status: int, body: bytes) -> Response:
    return Response(status, body, JSON)


def express_not_found(method: str, path: str) -> Response:
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
        f"</head>\n<body>\n<pre>Cannot {method} {path}</pre>\n</body>\n</html>\n"
    )
    return Response(404, page.encode(), faults.HTML)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def fails_when_scraped(url: str) -> bool:
    """URLs that a POSTed job cannot scrape, like the captures' unreachable 127.0.0.1:9."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    return host.endswith(".invalid") or port == 9 or "/fail" in parts.path


def credit_minimum(body: dict[str, Any], mode: str) -> float:
    """What the credit check asks for: the body's `limit`, else its URL count, else 1."""
    raw = body.get("limit")
    if raw is None:
        urls = body.get("urls")
        raw = len(urls) if isinstance(urls, list | str) else 1
    try:
        minimum = float(raw)
    except (TypeError, ValueError):
        minimum = math.nan
    if math.isnan(minimum) or math.isinf(minimum) or minimum <= 0:
        return 1.0 if mode == "2026" else 0.0
    return minimum


class FakeFirecrawl:
    """A standalone Firecrawl API server for tests and demos (see FIRECRAWL.md for behaviour).

    mode "2026" is today's server; "2025" is the self-hosted server whose `skip` is ignored.
    clock returns sim seconds (default: time.monotonic); pass a ManualClock in tests.

    settle_seconds: how long a finished job still reports `scraping` (2026 server).
    cancel_settle_seconds: over how long a cancelled job's unfinished URLs fail one by one
    (None: settle_seconds); cancel_in_flight: how many of them still finish normally first.
    completed_lag: how far `completed` trails the documents listed while a job runs.
    activity: True serves GET /v2/team/activity (hosted); False has no such route (Express
    404); "no-clickhouse" has the route answer 501, as a server without ClickHouse does.
    None: True in mode 2026, False in mode 2025.
    active_crawls: whether GET /v{1,2}/crawl/active exists (else "active" is taken for a job id).
    idempotency_db: False is a server without its database (self-hosted, no DB auth): a UUID
    in x-idempotency-key then makes the POST fail with 500, as the real one does.
    crawl_kickoff_seconds: how long a POSTed crawl shows 0/0 before its first page is known.
    site_fanout, site_depth: the shape of the site every crawl walks (see fakecrawl.crawls).
    """

    def __init__(
        self,
        seed: int = 0,
        mode: str = "2026",
        clock: Callable[[], float] | None = None,
        *,
        settle_seconds: float = 0.0,
        cancel_settle_seconds: float | None = None,
        cancel_in_flight: int = 0,
        completed_lag: int = 0,
        credits_used_unknown: bool = False,
        post_rate: float | None = None,
        wall_epoch: float | None = None,
        activity: bool | str | None = None,
        active_crawls: bool = True,
        idempotency_db: bool = True,
        crawl_kickoff_seconds: float = 0.0,
        site_fanout: int = 3,
        site_depth: int = 3,
    ) -> None:
        self.set_mode(mode)
        if activity not in (*ACTIVITY_MODES, None):
            raise ValueError(f"activity must be True, False, 'no-clickhouse' or None: {activity!r}")
        self.seed = seed
        self.clock: Callable[[], float] = clock or time.monotonic
        self.page_limit_chars = DEFAULT_PAGE_LIMIT_CHARS
        self.settle_seconds = settle_seconds
        self.cancel_settle_seconds = cancel_settle_seconds
        self.cancel_in_flight = cancel_in_flight
        self.completed_lag = completed_lag
        self.credits_used_unknown = credits_used_unknown
        self.post_rate = post_rate  # docs/second of jobs created by POST; None = instant
        self.activity = activity
        self.active_crawls = active_crawls
        self.idempotency_db = idempotency_db
        self.crawl_kickoff_seconds = crawl_kickoff_seconds
        self.site_fanout = site_fanout
        self.site_depth = site_depth
        if wall_epoch is None:
            wall_epoch = time.time() if clock is None else FIXED_WALL_EPOCH
        self._wall_zero = wall_epoch - self.clock()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._jobs: dict[str, Job] = {}
        self._teams: dict[str, str] = {}
        self._credits: dict[str, int | None] = {}
        self._idempotency_keys: set[str] = set()
        self._faults: list[QueuedFault] = []
        self._requests: list[RequestRecord] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # Lifecycle.

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve in a daemon thread (port 0: a free one); returns the base URL."""
        server = _Server((host, port), _Handler)
        server.sim = self
        self._server = server
        # stop() waits for the loop's current poll: 10 ms keeps a test's teardown short, for
        # 0.3% of a core while the simulator idles (50 ms cost every test 50 ms).
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.01,), name="fakecrawl", daemon=True
        )
        self._thread.start()
        self.url = f"http://{host}:{server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Set-up and control.

    def set_mode(self, mode: str) -> None:
        if mode not in ("2025", "2026"):
            raise ValueError(f"mode must be '2025' or '2026', not {mode!r}")
        self.mode = mode

    def add_key(self, api_key: str, team: str = "default", credits: int | None = 100000) -> None:
        """Accept `api_key` for `team`; credits None means billing is unavailable (500)."""
        with self._lock:
            self._teams[api_key] = team
            self._credits[team] = credits

    def create_batch(
        self,
        api_key: str,
        urls: list[str] | None = None,
        *,
        n: int | None = None,
        kind: str = "batch",
        rate: float | None = None,
        fail_urls: set[str] | None = None,
        fail_every: int = 0,
        doc_size: int = 2000,
        hostile: bool = False,
        state: str = "scraping",
        job_id: str | None = None,
        uuid_version: int = 7,
        start_offset: float = 0.0,
        formats: tuple[str, ...] | None = None,
        only_main_content: bool = True,
        api_version: int = 2,
        completed_lag: int | None = None,
    ) -> str:
        """Create a job owned by the key's team and return its id.

        urls, or n generated URLs (https://example.test/page/<i>, i from 1). rate: URLs processed
        per sim second (None: all at once). fail_every=k fails every k-th URL. state: "scraping"
        (progress by rate), "completed", "cancelled" or "failed" right away. start_offset: sim
        seconds the job has already been running (negative: first completion delayed).
        api_version: the version the activity listing says it was started with. completed_lag:
        this job's lag of `completed` behind `data` while it runs (None: the simulator's).
        """
        if kind not in ("batch", "crawl"):
            raise ValueError("kind must be 'batch' or 'crawl'")
        if urls is None:
            urls = [f"https://example.test/page/{i}" for i in range(1, (n or 0) + 1)]
        fail_urls = fail_urls or set()
        failing = {i for i, url in enumerate(urls) if url in fail_urls}
        if fail_every > 0:
            failing |= {i for i in range(len(urls)) if (i + 1) % fail_every == 0}
        if formats is None:
            formats = DEFAULT_FORMATS + (("rawHtml",) if hostile else ())
        target = urls[0] if urls else None
        scrape_options = {"formats": list(formats), "onlyMainContent": only_main_content}
        crawler_options = None
        if kind == "crawl":
            crawl = CrawlRequest(url=target or "", version=api_version, limit=len(urls))
            crawler_options = stored_options(crawl, len(urls))
        listing = Listing(
            "crawl" if kind == "crawl" else "batch_scrape",
            f"v{api_version}",
            target,
            crawler_options,
            scrape_options,
        )
        return self._add_job(
            self._require_team(api_key),
            kind,
            list(urls),
            failing=failing,
            rate=rate,
            start_offset=start_offset,
            state=state,
            job_id=job_id,
            uuid_version=uuid_version,
            generator_options=(doc_size, hostile, tuple(formats), only_main_content),
            listing=listing,
            completed_lag=completed_lag,
        )

    def create_crawl(
        self,
        api_key: str,
        url: str = "https://docs.example.test",
        *,
        limit: int = DEFAULT_LIMIT,
        max_depth: int | None = None,
        max_discovery_depth: int | None = None,
        include_paths: Iterable[str] = (),
        exclude_paths: Iterable[str] = (),
        regex_on_full_url: bool = False,
        formats: tuple[str, ...] = ("markdown",),
        only_main_content: bool = True,
        rate: float | None = None,
        fail_urls: set[str] | None = None,
        state: str = "scraping",
        api_version: int = 2,
        start_offset: float = 0.0,
        job_id: str | None = None,
        uuid_version: int = 7,
        doc_size: int = 2000,
        hostile: bool = False,
        completed_lag: int | None = None,
    ) -> str:
        """Create a crawl of the simulated site under `url`, as POST /v{api_version}/crawl would.

        The options mean what Firecrawl's do (see fakecrawl.crawls); max_depth is v1's maxDepth.
        fail_urls: pages that fail (they link to nothing); a start URL that fails ends the crawl
        at 0 of 0, like an unreachable one. start_offset < 0: the kickoff takes that long.
        """
        request = CrawlRequest(
            url=url,
            version=api_version,
            limit=limit,
            max_depth=max_depth,
            max_discovery_depth=max_discovery_depth,
            include_paths=tuple(include_paths),
            exclude_paths=tuple(exclude_paths),
            regex_on_full_url=regex_on_full_url,
            scrape_options={"formats": list(formats), "onlyMainContent": only_main_content},
        )
        problem = regex_error(request.include_paths + request.exclude_paths)
        if problem is not None:
            raise ValueError(problem)
        bad = set(fail_urls or ())
        return self._start_crawl_job(
            self._require_team(api_key),
            request,
            limit,
            fails=lambda page: page in bad,
            rate=rate,
            start_offset=start_offset,
            state=state,
            job_id=job_id,
            uuid_version=uuid_version,
            generator_options=(doc_size, hostile, tuple(formats), only_main_content),
            completed_lag=completed_lag,
        )

    def job(self, job_id: str) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def complete(self, job_id: str) -> None:
        """Finish every remaining URL now."""
        with self._lock:
            self._jobs[job_id].complete_now(self.clock())

    def cancel(self, job_id: str) -> bool:
        """Cancel like DELETE does; False when the job was already finished (2026: a 409)."""
        with self._lock:
            job = self._jobs[job_id]
            now = self.clock()
            job.advance(now)
            if self.mode == "2026" and job.status_at(now, self.settings()) in (
                "completed",
                "failed",
            ):
                return False
            job.cancel(now)
            return True

    def fail(self, job_id: str) -> None:
        """Mark the job failed now (documents so far stay)."""
        with self._lock:
            self._jobs[job_id].fail(self.clock())

    def expire(self, job_id: str) -> None:
        """Expire the job now: status and cancel 404, /errors answers empty lists."""
        with self._lock:
            self._jobs[job_id].expired = True

    def inject(
        self,
        fault: Fault,
        *,
        job_id: str | None = None,
        count: int = 1,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> None:
        """Queue a fault for the next `count` requests whose path (and query), and method when
        given (`method="POST"`), match."""
        with self._lock:
            self._faults.append(QueuedFault(fault, count, job_id, path_contains, method))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def count_requests(self, method: str | None = None, path_contains: str | None = None) -> int:
        """How many requests came, of that method and with that text in their path:
        `sim.count_requests("POST", "/batch/scrape")`."""
        with self._lock:
            return sum(
                (method is None or record.method == method.upper())
                and (path_contains is None or path_contains in record.path)
                for record in self._requests
            )

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def settings(self) -> Settings:
        cancel_settle = self.cancel_settle_seconds
        return Settings(
            self.mode,
            self.settle_seconds,
            self.credits_used_unknown,
            self.page_limit_chars,
            cancel_settle_seconds=self.settle_seconds if cancel_settle is None else cancel_settle,
            cancel_in_flight=self.cancel_in_flight,
            completed_lag=self.completed_lag,
        )

    def wall(self, sim_seconds: float) -> float:
        """Unix time of a sim-clock instant."""
        return self._wall_zero + sim_seconds

    def remaining_credits(self, team: str) -> int | None:
        """The team's credits left (None: no billing, so no limit); 1 per scraped document."""
        with self._lock:
            credits = self._credits.get(team)
            return None if credits is None else max(credits - self._credits_used(team), 0)

    # Job creation (with the lock held).

    def _require_team(self, api_key: str) -> str:
        team = self._team_of(api_key)
        if team is None:
            raise KeyError(f"unknown API key {api_key!r}: call add_key() first")
        return team

    def _add_job(
        self,
        team: str,
        kind: str,
        urls: list[str],
        *,
        failing: set[int],
        rate: float | None,
        start_offset: float,
        state: str,
        job_id: str | None,
        uuid_version: int,
        generator_options: tuple[int, bool, tuple[str, ...], bool],
        listing: Listing,
        completed_lag: int | None,
        parents: list[int | None] | None = None,
        order: list[int] | None = None,
        page_links: list[list[str]] | None = None,
    ) -> str:
        if state not in ("scraping", "completed", "cancelled", "failed"):
            raise ValueError(f"unknown state {state!r}")
        with self._lock:
            now = self.clock()
            job_id = job_id or self._new_id(uuid_version, now)
            doc_size, hostile, formats, only_main_content = generator_options
            generator = ContentGenerator(
                self.seed,
                job_id,
                doc_size,
                hostile,
                formats,
                only_main_content=only_main_content,
                page_links=None if page_links is None else (lambda i: list(page_links[i])),
            )
            job = Job(
                job_id=job_id,
                team=team,
                kind=kind,
                urls=urls,
                failing=failing,
                rate=rate,
                now=now,
                start_offset=start_offset,
                seed=self.seed,
                generator=generator,
                wall=self.wall,
                lock=self._lock,
                clock=self.clock,
                settings=self.settings,
                parents=parents,
                order=order,
                listing=listing,
                completed_lag=completed_lag,
            )
            self._jobs[job_id] = job
            if state == "completed":
                job.complete_now(now)
            elif state == "cancelled":
                job.cancel(now)
            elif state == "failed":
                job.fail(now)
            return job_id

    def _start_crawl_job(
        self,
        team: str,
        request: CrawlRequest,
        limit: int,
        *,
        fails: Callable[[str], bool],
        rate: float | None,
        start_offset: float,
        state: str = "scraping",
        job_id: str | None = None,
        uuid_version: int = 7,
        generator_options: tuple[int, bool, tuple[str, ...], bool],
        completed_lag: int | None = None,
    ) -> str:
        with self._lock:
            job_id = job_id or self._new_id(uuid_version, self.clock())
            plan = plan_crawl(
                dataclasses.replace(request, limit=limit),
                fails=fails,
                fanout=self.site_fanout,
                site_depth=self.site_depth,
                shuffle_key=f"{self.seed}:{job_id}:crawl",
            )
            listing = Listing(
                "crawl",
                f"v{request.version}",
                request.url,
                stored_options(request, limit),
                request.scrape_options,
            )
            return self._add_job(
                team,
                "crawl",
                plan.urls,
                failing={i for i, page in enumerate(plan.urls) if fails(page)},
                rate=rate,
                start_offset=start_offset,
                state=state,
                job_id=job_id,
                uuid_version=uuid_version,
                generator_options=generator_options,
                listing=listing,
                completed_lag=completed_lag,
                parents=plan.parents,
                order=plan.order,
                page_links=plan.links,
            )

    # Request handling (no sockets: `handle` is what the HTTP handler calls).

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request and record it."""
        split = urlsplit(target)
        path = split.path
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        api_key = _bearer(lower.get("authorization", ""))
        base = f"http://{lower.get('host') or self.url.removeprefix('http://')}"
        fault = self._take_fault(method, target)
        response = self._respond_with_fault(fault, method, path, query, lower, body, base)
        with self._lock:
            record = RequestRecord(
                method, path, query, dict(headers), api_key, response.status, self.clock(), body
            )
            self._requests.append(record)
        return response

    def _take_fault(self, method: str, target: str) -> Fault | None:
        with self._lock:
            for queued in self._faults:
                if queued.matches(target, method):
                    queued.remaining -= 1
                    if queued.remaining <= 0:
                        self._faults.remove(queued)
                    return queued.fault
        return None

    def _respond_with_fault(
        self,
        fault: Fault | None,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        base: str,
    ) -> Response:
        kind = fault.kind if fault else None
        if fault is not None:
            if kind == "rate_limit":
                resets = datetime.fromtimestamp(self.wall(self.clock()) + 60, UTC)
                text = resets.strftime("%a %b %d %Y %H:%M:00 GMT+0000 (Coordinated Universal Time)")
                return faults.rate_limit_response(fault, text)
            if kind == "server_error":
                with self._lock:
                    return faults.server_error_response(fault, self._rng)
            if kind == "html_error_page":
                return faults.html_page_response(fault)
            if kind == "success_false":
                return json_response(200, faults.SUCCESS_FALSE_BODY)
            if kind == "not_found":
                return json_response(404, NOT_FOUND)
            if kind == "slow":
                time.sleep(float(fault.params["seconds"]))
        next_base = fault.params["host"] if fault and kind == "foreign_next" else base
        response = self._route(method, path, query, headers, body, base, next_base)
        if kind == "drop":
            response.truncate_to = len(response.body) // 2
        elif kind == "invalid_json":
            response = Response(200, response.body[: max(len(response.body) // 2, 1)], JSON)
        return response

    def _authenticate(self, headers: dict[str, str]) -> tuple[str | None, Response | None]:
        """The key's team, or the 401 the server answers."""
        authorization = headers.get("authorization")
        if not authorization:
            return None, json_response(401, TOKEN_MISSING)
        api_key = _bearer(authorization)
        if not api_key:
            return None, json_response(401, UNAUTHORIZED)
        team = self._team_of(api_key)
        if team is None:
            return None, json_response(401, INVALID_TOKEN)
        return team, None

    def _route(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        base: str,
        next_base: str,
    ) -> Response:
        parsed: Any = None
        if method == "POST":
            # Express parses JSON bodies before any route runs, so this comes before auth.
            try:
                parsed = json.loads(body or b"{}")
            except ValueError:
                return json_response(400, INVALID_JSON)
        activity_match = ACTIVITY_PATH.fullmatch(path)
        if activity_match:
            if method != "GET" or activity_match.group(1) != "2" or not self._activity_mode():
                return express_not_found(method, path)
            with self._lock:
                team, refusal = self._authenticate(headers)
                if team is None:
                    assert refusal is not None
                    return refusal
                return self._activity(team, query)
        active_match = ACTIVE_PATH.fullmatch(path)
        if active_match and method == "GET" and self.active_crawls:
            with self._lock:
                team, refusal = self._authenticate(headers)
                if team is None:
                    assert refusal is not None
                    return refusal
                return self._active_crawls(int(active_match.group(1)), team)
        job_match = JOB_PATH.fullmatch(path)
        credit_match = CREDIT_PATH.fullmatch(path)
        if not job_match and not credit_match:
            return express_not_found(method, path)
        with self._lock:
            team, refusal = self._authenticate(headers)
            if team is None:
                assert refusal is not None
                return refusal
            if credit_match:
                if method != "GET":
                    return express_not_found(method, path)
                return self._credit_usage(int(credit_match.group(1)), team)
            assert job_match is not None
            version = int(job_match.group(1))
            path_kind = job_match.group(2)
            job_id = job_match.group(3)
            on_errors = bool(job_match.group(4))
            if job_id is None:
                if method != "POST" or on_errors:
                    return express_not_found(method, path)
                return self._start(version, path_kind, team, parsed, headers, base)
            if on_errors:
                if method != "GET":
                    return express_not_found(method, path)
                if self.mode == "2025" and version == 2 and path_kind == "batch/scrape":
                    return express_not_found(method, path)  # that server lacked the route
                return self._errors(job_id, team)
            if method == "GET":
                return self._status(version, path_kind, job_id, team, query, next_base)
            if method == "DELETE":
                return self._delete(version, job_id, team)
            return express_not_found(method, path)

    def _team_of(self, api_key: str | None) -> str | None:
        return self._teams.get(api_key) if api_key else None

    def _new_id(self, uuid_version: int, now: float) -> str:
        if uuid_version == 4:
            return random_uuid4(self._rng)
        return random_uuid7(self._rng, self.wall(now))

    def _visible_job(self, job_id: str, team: str, now: float) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or job.team != team:
            return None
        job.advance(now)
        return None if job.is_expired(now, self.settings()) else job

    def _team_jobs(self, team: str) -> list[Job]:
        return [job for job in self._jobs.values() if job.team == team]

    def _status(
        self,
        version: int,
        path_kind: str,
        job_id: str,
        team: str,
        query: dict[str, str],
        next_base: str,
    ) -> Response:
        if not is_uuid(job_id):
            return json_response(
                400 if self.mode == "2026" else 404,
                INVALID_ID if self.mode == "2026" else NOT_FOUND,
            )
        now = self.clock()
        job = self._visible_job(job_id, team, now)
        if job is None:
            return json_response(404, NOT_FOUND)
        try:
            skip = int(query.get("skip") or 0)
            limit = int(query["limit"]) if query.get("limit") else None
        except ValueError:
            skip, limit = 0, None
        if skip < 0 or (limit is not None and limit < 0):
            return json_response(500, faults.unknown_error_body(self._rng))
        body = job.status_body(
            now,
            self.settings(),
            version=version,
            base=next_base,
            path_kind=path_kind,
            skip=skip,
            limit=limit,
        )
        return json_response(200, body)

    def _errors(self, job_id: str, team: str) -> Response:
        job = self._jobs.get(job_id)
        if job is None:
            return json_response(404, NOT_FOUND)
        if job.team != team:
            return json_response(403, FORBIDDEN)
        now = self.clock()
        job.advance(now)
        if job.is_expired(now, self.settings()):
            return json_response(200, EMPTY_ERRORS)
        return json_response(200, job.errors_body())

    def _delete(self, version: int, job_id: str, team: str) -> Response:
        if not is_uuid(job_id):
            if self.mode == "2026" and version == 2:
                return json_response(400, INVALID_ID)
            return json_response(404, DELETE_NOT_FOUND)
        now = self.clock()
        job = self._visible_job(job_id, team, now)
        if job is None:
            return json_response(404, DELETE_NOT_FOUND)
        if self.mode == "2026" and job.status_at(now, self.settings()) in ("completed", "failed"):
            return json_response(409, ALREADY_COMPLETED)
        job.cancel(now)
        return json_response(200, CANCELLED)

    def _activity_mode(self) -> bool | str:
        if self.activity is None:
            return self.mode == "2026"
        return self.activity

    def _activity(self, team: str, query: dict[str, str]) -> Response:
        now_wall = self.wall(self.clock())
        status, body = listings.activity(
            self._team_jobs(team) if self._activity_mode() is True else [],
            query,
            now_wall,
            self.wall,
        )
        if status == 200 and self._activity_mode() == "no-clickhouse":
            return json_response(501, listings.NO_CLICKHOUSE)  # checked after the params
        return json_response(status, body)

    def _active_crawls(self, version: int, team: str) -> Response:
        now = self.clock()
        settings = self.settings()
        ongoing = []
        for job in self._team_jobs(team):
            job.advance(now)
            if job.cancelled_at is None and job.is_ongoing(now, settings):
                ongoing.append(job)
        return json_response(200, listings.active_crawls(ongoing, version, self.wall))

    def _credit_usage(self, version: int, team: str) -> Response:
        credits = self._credits.get(team)
        if credits is None:
            return json_response(500, faults.unknown_error_body(self._rng))
        remaining = max(credits - self._credits_used(team), 0)
        now = datetime.fromtimestamp(self.wall(self.clock()), UTC)
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        values = [remaining, credits, iso(start.timestamp()), iso(end.timestamp())]
        if version == 1:
            names = [
                "remaining_credits",
                "plan_credits",
                "billing_period_start",
                "billing_period_end",
            ]
        else:
            names = ["remainingCredits", "planCredits", "billingPeriodStart", "billingPeriodEnd"]
        return json_response(
            200, dumps({"success": True, "data": dict(zip(names, values, strict=True))})
        )

    def _credits_used(self, team: str) -> int:
        now = self.clock()
        used = 0
        for job in self._team_jobs(team):
            job.advance(now)
            used += len(job.success)
        return used

    def _claim_idempotency_key(self, headers: dict[str, str]) -> Response | None:
        """The server's idempotencyMiddleware (v1 batch scrape, v1 and v2 crawl): a key seen
        before, or one that is not a UUID, is a 409; a new one is kept for good, whatever the
        request then answers. Keys are global, not per team."""
        key = headers.get("x-idempotency-key")
        if not key:
            return None
        if not UUID_PACKAGE.fullmatch(key):
            return json_response(409, IDEMPOTENCY_KEY_USED)
        if not self.idempotency_db:
            # Looking the key up needs the database; without it the lookup throws.
            return json_response(500, faults.unknown_error_body(self._rng))
        if key.lower() in self._idempotency_keys:
            return json_response(409, IDEMPOTENCY_KEY_USED)
        self._idempotency_keys.add(key.lower())
        return None

    def _start(
        self,
        version: int,
        path_kind: str,
        team: str,
        body: Any,
        headers: dict[str, str],
        base: str,
    ) -> Response:
        """POST /batch/scrape or POST /crawl, through the server's middlewares in their order:
        credits (402), idempotency (409), then the controller's validation (400)."""
        if isinstance(body, dict):
            remaining = self.remaining_credits(team)
            if remaining is not None and remaining < credit_minimum(body, self.mode):
                return json_response(402, INSUFFICIENT_CREDITS)
            if path_kind == "crawl" or version == 1:
                refusal = self._claim_idempotency_key(headers)
                if refusal is not None:
                    return refusal
        try:
            if not isinstance(body, dict):
                raise BadRequest(object_issue(body, self.mode))
            if path_kind == "crawl":
                return self._start_crawl(version, team, parse_crawl(body, version, self.mode), base)
            request = parse_batch(body, version, self.mode)
        except BadRequest as exc:
            return json_response(400, dumps(bad_request_body(exc.issues, self.mode)))
        if not request.urls and request.invalid_urls and self.mode == "2026":
            return json_response(400, NO_VALID_URLS)
        urls = request.urls
        listing = Listing(
            "batch_scrape",
            f"v{version}",
            urls[0] if urls else "",
            None,
            request.scrape_options,
        )
        job_id = self._add_job(
            team,
            "batch",
            urls,
            failing={i for i, url in enumerate(urls) if fails_when_scraped(url)},
            rate=self.post_rate,
            start_offset=0.0,
            state="scraping",
            job_id=None,
            uuid_version=7 if self.mode == "2026" else 4,
            generator_options=(2000, False, request.formats, request.only_main_content),
            listing=listing,
            completed_lag=None,
        )
        answer: dict[str, Any] = {
            "success": True,
            "id": job_id,
            "url": f"{base}/v{version}/batch/scrape/{job_id}",
        }
        if version == 2 or body.get("ignoreInvalidURLs") is True:
            answer["invalidURLs"] = request.invalid_urls
        return json_response(200, dumps(answer))

    def _start_crawl(self, version: int, team: str, request: CrawlRequest, base: str) -> Response:
        problem = regex_error(request.include_paths + request.exclude_paths)
        if problem is not None:
            return json_response(400, dumps({"success": False, "error": problem}))
        limit = request.limit
        remaining = self.remaining_credits(team)
        if remaining is not None:
            limit = min(limit, remaining)  # the controller clamps a crawl to the credits left
        formats = tuple(
            str(f if isinstance(f, str) else f.get("type"))
            for f in request.scrape_options.get("formats", ["markdown"])
        )
        only_main = request.scrape_options.get("onlyMainContent", True) is not False
        job_id = self._start_crawl_job(
            team,
            request,
            limit,
            fails=fails_when_scraped,
            rate=self.post_rate,
            start_offset=-self.crawl_kickoff_seconds,
            uuid_version=7 if self.mode == "2026" else 4,
            generator_options=(2000, False, formats, only_main),
        )
        answer = {"success": True, "id": job_id, "url": f"{base}/v{version}/crawl/{job_id}"}
        return json_response(200, dumps(answer))


def _bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    allow_reuse_address = True
    sim: FakeFirecrawl

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a read timeout in a test) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 120  # close idle keep-alive connections eventually

    def setup(self) -> None:
        super().setup()
        # Without this, a header write then a body write can stall 40 ms on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            response = self.server.sim.handle(self.command, self.path, dict(self.headers), body)
        except Exception:
            import traceback

            traceback.print_exc()
            response = json_response(500, faults.unknown_error_body(random.Random()))
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.truncate_to is not None:
            self.wfile.write(response.body[: response.truncate_to])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(response.body)
