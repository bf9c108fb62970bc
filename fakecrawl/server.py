"""The Firecrawl simulator: job endpoints, auth, credits and fault injection over real HTTP.

`FakeFirecrawl` owns all state behind one lock; `handle()` turns a request into a `Response`
without any socket, and a small `BaseHTTPRequestHandler` puts it on the wire (HTTP/1.1 keep-alive).
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from fakecrawl import faults
from fakecrawl.content import ContentGenerator, random_uuid4, random_uuid7
from fakecrawl.faults import JSON, Fault, QueuedFault, Response
from fakecrawl.jobs import DEFAULT_PAGE_LIMIT_CHARS, Job, Settings, dumps, iso

# Wall time of sim-clock zero when tests drive a ManualClock: 2026-11-28T13:00:00Z.
FIXED_WALL_EPOCH = 1795870800.0
DEFAULT_FORMATS = ("markdown", "html", "links")
KNOWN_FORMATS = [
    "markdown",
    "html",
    "rawHtml",
    "rawBase64",
    "links",
    "screenshot",
    "screenshot@fullPage",
    "extract",
    "json",
    "summary",
    "changeTracking",
    "branding",
    "product",
    "menu",
]

JOB_PATH = re.compile(r"/v([12])/(batch/scrape|crawl)(?:/([^/]*))?(/errors)?/?")
CREDIT_PATH = re.compile(r"/v([12])/team/credit-usage/?")

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
    b'you can upgrade your plan at https://firecrawl.dev/pricing."}'
)
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


def json_response(status: int, body: bytes) -> Response:
    return Response(status, body, JSON)


def bad_request(details: list[dict[str, Any]], error: str = "Bad Request") -> Response:
    body = {"success": False, "code": "BAD_REQUEST", "error": error, "details": details}
    return json_response(400, dumps(body))


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


def valid_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host.strip(".")
    return True


def fails_when_scraped(url: str) -> bool:
    """URLs that a POSTed job cannot scrape, like the captures' unreachable 127.0.0.1:9."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    return host.endswith(".invalid") or port == 9 or "/fail" in parts.path


class FakeFirecrawl:
    """A standalone Firecrawl API server for tests and demos (see FIRECRAWL.md for behaviour).

    mode "2026" is today's server; "2025" is the self-hosted server whose `skip` is ignored.
    clock returns sim seconds (default: time.monotonic); pass a ManualClock in tests.
    """

    def __init__(
        self,
        seed: int = 0,
        mode: str = "2026",
        clock: Callable[[], float] | None = None,
        *,
        settle_seconds: float = 0.0,
        credits_used_unknown: bool = False,
        post_rate: float | None = None,
        wall_epoch: float | None = None,
    ) -> None:
        self.set_mode(mode)
        self.seed = seed
        self.clock: Callable[[], float] = clock or time.monotonic
        self.page_limit_chars = DEFAULT_PAGE_LIMIT_CHARS
        self.settle_seconds = settle_seconds
        self.credits_used_unknown = credits_used_unknown
        self.post_rate = post_rate  # docs/second of jobs created by POST; None = instant
        if wall_epoch is None:
            wall_epoch = time.time() if clock is None else FIXED_WALL_EPOCH
        self._wall_zero = wall_epoch - self.clock()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._jobs: dict[str, Job] = {}
        self._teams: dict[str, str] = {}
        self._credits: dict[str, int | None] = {}
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
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="fakecrawl", daemon=True
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
    ) -> str:
        """Create a job owned by the key's team and return its id.

        urls, or n generated URLs (https://example.test/page/<i>, i from 1). rate: URLs processed
        per sim second (None: all at once). fail_every=k fails every k-th URL. state: "scraping"
        (progress by rate), "completed", "cancelled" or "failed" right away. start_offset: sim
        seconds the job has already been running (negative: first completion delayed).
        """
        if kind not in ("batch", "crawl"):
            raise ValueError("kind must be 'batch' or 'crawl'")
        if state not in ("scraping", "completed", "cancelled", "failed"):
            raise ValueError(f"unknown state {state!r}")
        if urls is None:
            urls = [f"https://example.test/page/{i}" for i in range(1, (n or 0) + 1)]
        fail_urls = fail_urls or set()
        failing = {i for i, url in enumerate(urls) if url in fail_urls}
        if fail_every > 0:
            failing |= {i for i in range(len(urls)) if (i + 1) % fail_every == 0}
        if formats is None:
            formats = DEFAULT_FORMATS + (("rawHtml",) if hostile else ())
        with self._lock:
            team = self._team_of(api_key)
            if team is None:
                raise KeyError(f"unknown API key {api_key!r}: call add_key() first")
            now = self.clock()
            job_id = job_id or self._new_id(uuid_version, now)
            job = Job(
                job_id=job_id,
                team=team,
                kind=kind,
                urls=list(urls),
                failing=failing,
                rate=rate,
                now=now,
                start_offset=start_offset,
                seed=self.seed,
                generator=ContentGenerator(self.seed, job_id, doc_size, hostile, formats),
                wall=self.wall,
                lock=self._lock,
                clock=self.clock,
                settings=self.settings,
            )
            self._jobs[job_id] = job
            if state == "completed":
                job.complete_now(now)
            elif state == "cancelled":
                job.cancel(now)
            elif state == "failed":
                job.fail(now)
            return job_id

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
    ) -> None:
        """Queue a fault for the next `count` requests whose path (and query) match."""
        with self._lock:
            self._faults.append(QueuedFault(fault, count, job_id, path_contains))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def settings(self) -> Settings:
        return Settings(
            self.mode, self.settle_seconds, self.credits_used_unknown, self.page_limit_chars
        )

    def wall(self, sim_seconds: float) -> float:
        """Unix time of a sim-clock instant."""
        return self._wall_zero + sim_seconds

    # Request handling (no sockets: `handle` is what the HTTP handler calls).

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one request and record it."""
        split = urlsplit(target)
        path = split.path
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        api_key = _bearer(lower.get("authorization", ""))
        base = f"http://{lower.get('host') or self.url.removeprefix('http://')}"
        fault = self._take_fault(target)
        response = self._respond_with_fault(fault, method, path, query, lower, body, base)
        with self._lock:
            record = RequestRecord(
                method, path, query, dict(headers), api_key, response.status, self.clock()
            )
            self._requests.append(record)
        return response

    def _take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for queued in self._faults:
                if queued.matches(target):
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
        job_match = JOB_PATH.fullmatch(path)
        credit_match = CREDIT_PATH.fullmatch(path)
        if not job_match and not credit_match:
            return express_not_found(method, path)
        authorization = headers.get("authorization")
        if not authorization:
            return json_response(401, TOKEN_MISSING)
        api_key = _bearer(authorization)
        if not api_key:
            return json_response(401, UNAUTHORIZED)
        with self._lock:
            team = self._team_of(api_key)
            if team is None:
                return json_response(401, INVALID_TOKEN)
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
                return self._start(version, path_kind, team, body, base)
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
        for job in self._jobs.values():
            if job.team == team:
                job.advance(now)
                used += len(job.success)
        return used

    def _start(self, version: int, path_kind: str, team: str, raw: bytes, base: str) -> Response:
        """POST /batch/scrape {urls} or POST /crawl {url, limit}."""
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return json_response(400, INVALID_JSON)
        if not isinstance(body, dict):
            detail: dict[str, Any] = {"expected": "object", "code": "invalid_type", "path": []}
            return bad_request([{**detail, "message": "Invalid input: expected object"}])
        formats = body.get("formats", list(DEFAULT_FORMATS))
        problem = _check_formats(formats)
        if problem is not None:
            return problem
        wanted = tuple(f if isinstance(f, str) else str(f.get("type")) for f in formats)
        credits = self._credits.get(team)
        if credits is not None and credits - self._credits_used(team) <= 0:
            return json_response(402, INSUFFICIENT_CREDITS)
        if path_kind == "crawl":
            return self._start_crawl(version, team, body, base, wanted)
        urls = body.get("urls")
        if not isinstance(urls, list):
            received = "undefined" if urls is None else type(urls).__name__
            detail = {"expected": "array", "code": "invalid_type", "path": ["urls"]}
            message = f"Invalid input: expected array, received {received}"
            return bad_request([{**detail, "message": message}])
        if not urls and self.mode == "2026":
            too_small = {"origin": "array", "code": "too_small", "minimum": 1, "inclusive": True}
            message = "Too small: expected array to have >=1 items"
            return bad_request([{**too_small, "path": ["urls"], "message": message}])
        invalid = [i for i, url in enumerate(urls) if not valid_url(url)]
        ignore_invalid = bool(body.get("ignoreInvalidURLs"))
        if invalid and not ignore_invalid:
            details = [
                {
                    "code": "invalid_format",
                    "format": "url",
                    "path": ["urls", i],
                    "message": "Invalid URL",
                }
                for i in invalid
            ]
            return bad_request(details)
        good = [url for i, url in enumerate(urls) if i not in set(invalid)]
        job_id = self._create_posted(team, "batch", good, wanted)
        answer: dict[str, Any] = {
            "success": True,
            "id": job_id,
            "url": f"{base}/v{version}/batch/scrape/{job_id}",
        }
        if version == 2 or ignore_invalid:
            answer["invalidURLs"] = [str(urls[i]) for i in invalid]
        return json_response(200, dumps(answer))

    def _start_crawl(
        self, version: int, team: str, body: dict[str, Any], base: str, formats: tuple[str, ...]
    ) -> Response:
        url = body.get("url")
        if not valid_url(url):
            return bad_request([{"code": "custom", "path": ["url"], "message": "Invalid URL"}])
        assert isinstance(url, str)
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or limit < 1:
            limit = 10
        urls = [url]
        if not fails_when_scraped(url):  # an unreachable start page discovers nothing
            urls += [f"{url.rstrip('/')}/page-{i}" for i in range(1, min(limit, 10000))]
        job_id = self._create_posted(team, "crawl", urls, formats)
        answer = {"success": True, "id": job_id, "url": f"{base}/v{version}/crawl/{job_id}"}
        return json_response(200, dumps(answer))

    def _create_posted(
        self, team: str, kind: str, urls: list[str], formats: tuple[str, ...]
    ) -> str:
        now = self.clock()
        job_id = self._new_id(7 if self.mode == "2026" else 4, now)
        job = Job(
            job_id=job_id,
            team=team,
            kind=kind,
            urls=urls,
            failing={i for i, url in enumerate(urls) if fails_when_scraped(url)},
            rate=self.post_rate,
            now=now,
            start_offset=0.0,
            seed=self.seed,
            generator=ContentGenerator(self.seed, job_id, 2000, False, formats),
            wall=self.wall,
            lock=self._lock,
            clock=self.clock,
            settings=self.settings,
        )
        self._jobs[job_id] = job
        return job_id


def _bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _check_formats(formats: object) -> Response | None:
    if not isinstance(formats, list):
        detail: dict[str, Any] = {"expected": "array", "code": "invalid_type", "path": ["formats"]}
        return bad_request([{**detail, "message": "Invalid input: expected array"}])
    for i, fmt in enumerate(formats):
        name = fmt if isinstance(fmt, str) else fmt.get("type") if isinstance(fmt, dict) else None
        if name not in KNOWN_FORMATS:
            detail = {"code": "invalid_value", "values": KNOWN_FORMATS, "path": ["formats", i]}
            message = "Invalid option: expected one of " + "|".join(f'"{f}"' for f in KNOWN_FORMATS)
            return bad_request([{**detail, "message": message}])
    return None


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
