"""The Firecrawl simulator: job endpoints, auth, credits and fault injection over real HTTP.

`FakeFirecrawl` owns all state behind one lock; `handle()` turns a request into a `Response`
without any socket, and a small `BaseHTTPRequestHandler` puts it on the wire (HTTP/1.1 keep-alive).

Routes, as the real server answers them (FIRECRAWL.md, the captures, and the server code):
- `POST /v{1,2}/batch/scrape`, `POST /v{1,2}/crawl`: start a job (400 bodies as zod spells them,
  402 when the team lacks credits, 409 on a reused `x-idempotency-key` where the server checks it).
- `GET|DELETE /v{1,2}/{batch/scrape|crawl}/{id}`, `GET .../{id}/errors`: status pages, cancel.
- `GET /v{1,2}/crawl/active` (and its alias `/crawl/ongoing`): the team's running crawls.
- `GET /v2/team/activity`: the team's jobs of the last 24 hours, newest first (a self-hosted
  server without its database answers 500 "Failed to fetch activity.").
- `GET /v{1,2}/team/credit-usage`.
Anything else is Express's HTML `Cannot GET /path` 404.

Beside the API, a second listener plays the cloud storage that screenshot URLs point to
(fakecrawl.screenshots), and jobs send webhooks as the server does (fakecrawl.webhooks), driven by
the sim clock: a ManualClock's `advance()` queues the events that fell due, a real clock is
followed by a background thread; `wait_for_webhooks()` waits until every queued one was tried.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from fakecrawl import faults, floods, listings
from fakecrawl.content import (
    ACTIONS_NOT_SUPPORTED,
    ContentGenerator,
    DocumentOptions,
    random_uuid4,
    random_uuid7,
)
from fakecrawl.crawls import (
    DEFAULT_LIMIT,
    CrawlRequest,
    plan_crawl,
    regex_error,
    stored_options,
)
from fakecrawl.faults import JSON, Fault, QueuedFault, Response
from fakecrawl.jobs import (
    DEFAULT_PAGE_LIMIT_CHARS,
    EXPIRY_SECONDS,
    Job,
    JobEvent,
    Listing,
    ManualClock,
    Settings,
    dumps,
    iso,
)
from fakecrawl.listeners import Listener
from fakecrawl.screenshots import (
    NOT_AN_IMAGE,
    Storage,
    StoredShot,
    data_uri,
    expired_token,
    no_such_key,
    png_stream,
    signature_mismatch,
)
from fakecrawl.validation import (
    BadRequest,
    bad_request_body,
    object_issue,
    parse_batch,
    parse_crawl,
    parse_webhook,
    webhook_issues,
)
from fakecrawl.webhooks import (
    FETCH_HEADERS,
    Dispatcher,
    Outgoing,
    WebhookConfig,
    WebhookDelivery,
    event_type,
    payload,
    signature,
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
PUMP_INTERVAL = 0.02  # seconds between webhook checks when the clock is a real one

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

    @property
    def payload(self) -> Any:
        """The JSON body (a start request's `webhook` is `record.payload["webhook"]`)."""
        return json.loads(self.body) if self.body else None


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

    self_hosted: a self-hosted server without its database (USE_DB_AUTHENTICATION off, the
    self-hosted default): GET /v2/team/activity answers 500 "Failed to fetch activity." after
    checking its parameters, credit usage answers 500 and credits are unlimited, `creditsUsed` is
    -1, a UUID x-idempotency-key fails the start (the real one crashes), webhooks are signed with
    self_hosted_webhook_secret, and screenshots are inline `data:` URIs. API keys are still checked
    per team here (the real one takes any key as one team). False (the default) is the hosted
    service, or a server with its database: the activity listing works.

    settle_seconds: how long a finished job still reports `scraping` (2026 server).
    cancel_settle_seconds: over how long a cancelled job's unfinished URLs fail one by one
    (None: settle_seconds); cancel_in_flight: how many of them still finish normally first.
    completed_lag: how far `completed` trails the documents listed while a job runs.
    activity: whether GET /v2/team/activity exists (False: Express's 404); None: in mode 2026.
    active_crawls: whether GET /v{1,2}/crawl/active exists (else "active" is taken for a job id).
    idempotency_db: False is a server without its database: a UUID in x-idempotency-key then
    makes the POST fail with 500. None: not self_hosted. credits_used_unknown (None:
    self_hosted): `creditsUsed` is -1.
    crawl_kickoff_seconds: how long a POSTed crawl shows 0/0 before its first page is known.
    site_fanout, site_depth: the shape of the site every crawl walks (see fakecrawl.crawls).

    Screenshots (fakecrawl.screenshots): screenshots "storage" puts them on the storage listener
    (`storage_url`, another port; storage_host names it in URLs, default the API's host),
    "inline" makes them `data:image/png;base64,...`, "none" is a server without fire-engine (no
    screenshot, the server's warning instead; URLs with actions fail); None: inline when
    self_hosted.
    screenshot_bytes: the size of each PNG.

    Webhooks (fakecrawl.webhooks): self_hosted_webhook_url (SELF_HOSTED_WEBHOOK_URL, `{{JOB_ID}}`
    replaced) and self_hosted_webhook_secret (SELF_HOSTED_WEBHOOK_HMAC_SECRET); a team's own
    secret (hosted) comes from add_key(webhook_secret=). allow_local_webhooks
    (ALLOW_LOCAL_WEBHOOKS): deliver to loopback and private addresses. webhook_drop: the share of
    deliveries never sent (chosen by the seed). webhook_timeout: seconds per delivery.
    latency: real seconds every API request waits before it is answered (benchmarks).
    All of these are attributes too, and can be changed while the simulator runs.
    """

    def __init__(
        self,
        seed: int = 0,
        mode: str = "2026",
        clock: Callable[[], float] | None = None,
        *,
        self_hosted: bool = False,
        settle_seconds: float = 0.0,
        cancel_settle_seconds: float | None = None,
        cancel_in_flight: int = 0,
        completed_lag: int = 0,
        credits_used_unknown: bool | None = None,
        post_rate: float | None = None,
        wall_epoch: float | None = None,
        activity: bool | None = None,
        active_crawls: bool = True,
        idempotency_db: bool | None = None,
        crawl_kickoff_seconds: float = 0.0,
        site_fanout: int = 3,
        site_depth: int = 3,
        screenshots: str | None = None,
        screenshot_bytes: int = 20_000,
        storage_host: str | None = None,
        self_hosted_webhook_url: str | None = None,
        self_hosted_webhook_secret: str | None = None,
        allow_local_webhooks: bool = False,
        webhook_drop: float = 0.0,
        webhook_timeout: float = 10.0,
        latency: float = 0.0,
    ) -> None:
        self.set_mode(mode)
        if activity not in (True, False, None):
            raise ValueError(
                f"activity must be True, False or None, not {activity!r}; a server whose "
                "listing fails (no database) is FakeFirecrawl(self_hosted=True)"
            )
        if screenshots not in ("storage", "inline", "none", None):
            raise ValueError(f"screenshots must be 'storage', 'inline' or 'none': {screenshots!r}")
        self.seed = seed
        self.clock: Callable[[], float] = clock or time.monotonic
        self.self_hosted = self_hosted
        self.page_limit_chars = DEFAULT_PAGE_LIMIT_CHARS
        self.settle_seconds = settle_seconds
        self.cancel_settle_seconds = cancel_settle_seconds
        self.cancel_in_flight = cancel_in_flight
        self.completed_lag = completed_lag
        self.credits_used_unknown = (
            self_hosted if credits_used_unknown is None else credits_used_unknown
        )
        self.post_rate = post_rate  # docs/second of jobs created by POST; None = instant
        self.activity = activity
        self.active_crawls = active_crawls
        self.idempotency_db = not self_hosted if idempotency_db is None else idempotency_db
        self.crawl_kickoff_seconds = crawl_kickoff_seconds
        self.site_fanout = site_fanout
        self.site_depth = site_depth
        self.screenshots = screenshots or ("inline" if self_hosted else "storage")
        self.storage_host = storage_host
        self._self_hosted_webhook_url = self_hosted_webhook_url
        self.self_hosted_webhook_secret = self_hosted_webhook_secret
        self.allow_local_webhooks = allow_local_webhooks
        self.webhook_drop = webhook_drop
        self.webhook_timeout = webhook_timeout
        self.latency = latency
        if wall_epoch is None:
            wall_epoch = time.time() if clock is None else FIXED_WALL_EPOCH
        self._wall_zero = wall_epoch - self.clock()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._webhook_rng = random.Random(f"{seed}:webhooks")
        self._jobs: dict[str, Job] = {}
        self._teams: dict[str, str] = {}
        self._credits: dict[str, int | None] = {}
        self._webhook_secrets: dict[str, str] = {}
        self._idempotency_keys: set[str] = set()
        self._faults: list[QueuedFault] = []
        self._requests: list[RequestRecord] = []
        self._storage_requests: list[RequestRecord] = []
        self._error_reads: dict[str, int] = {}  # per job, for an error flood's fresh ids
        self._storage = Storage(seed, screenshot_bytes)
        self._webhook_jobs: dict[str, Job] = {}  # jobs that may still send an event
        self._webhook_sequence: dict[str, int] = {}
        self._dispatcher = Dispatcher(
            lambda: self.allow_local_webhooks, lambda: self.webhook_timeout
        )
        self._pump_stop = threading.Event()
        self._pump_thread: threading.Thread | None = None
        self._api: Listener | None = None
        self._storage_listener: Listener | None = None
        self.url = ""
        self.storage_url = ""

    # Lifecycle.

    def start(self, host: str = "127.0.0.1", port: int = 0, storage_port: int = 0) -> str:
        """Serve the API, and the screenshot storage on another port, in daemon threads (port 0:
        a free one); returns the API's base URL."""
        # Looked up per request, so that a test may wrap `sim.handle` while it serves.
        self._api = Listener(lambda *request: self.handle(*request), host, port, "fakecrawl")
        self.url = f"http://{host}:{self._api.port}"
        self._storage_listener = Listener(
            self.handle_storage, host, storage_port, "fakecrawl-storage"
        )
        self.storage_url = f"http://{self.storage_host or host}:{self._storage_listener.port}"
        self._storage.base_url = self.storage_url
        if isinstance(self.clock, ManualClock):
            self.clock.subscribe(self._pump_webhooks)
        return self.url

    def stop(self) -> None:
        """Stop serving and sending; deliveries still queued are abandoned."""
        if isinstance(self.clock, ManualClock):
            self.clock.unsubscribe(self._pump_webhooks)
        self._pump_stop.set()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
        self._dispatcher.stop()
        for listener in (self._api, self._storage_listener):
            if listener is not None:
                listener.stop()
        self._api = self._storage_listener = None
        self._pump_thread = None

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

    def add_key(
        self,
        api_key: str,
        team: str = "default",
        credits: int | None = 100000,
        *,
        webhook_secret: str | None = None,
    ) -> None:
        """Accept `api_key` for `team`; credits None means billing is unavailable (500).
        webhook_secret: the team's webhook secret (hosted: it signs the team's webhooks)."""
        with self._lock:
            self._teams[api_key] = team
            self._credits[team] = credits
            if webhook_secret is not None:
                self._webhook_secrets[team] = webhook_secret

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
        webhook: str | dict[str, Any] | None = None,
        actions: list[dict[str, Any]] | None = None,
        error_message: str | None = None,
    ) -> str:
        """Create a job owned by the key's team and return its id.

        urls, or n generated URLs (https://example.test/page/<i>, i from 1). rate: URLs processed
        per sim second (None: all at once). fail_every=k fails every k-th URL. state: "scraping"
        (progress by rate), "completed", "cancelled" or "failed" right away. start_offset: sim
        seconds the job has already been running (negative: first completion delayed).
        api_version: the version the activity listing says it was started with. completed_lag:
        this job's lag of `completed` behind `data` while it runs (None: the simulator's).
        webhook: the start request's `webhook` (a URL or {url, headers, metadata, events}).
        actions: the request's page actions (each `{"type": "screenshot"}` adds a screenshot to
        `actions.screenshots`). error_message: what every failed URL's `error` says.
        formats with "screenshot" give each document a `screenshot`.
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
            options=DocumentOptions.of(
                doc_size,
                hostile,
                tuple(formats),
                only_main_content,
                actions,
            ),
            listing=listing,
            completed_lag=completed_lag,
            webhook=self._webhook_argument(webhook),
            error_message=error_message,
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
        webhook: str | dict[str, Any] | None = None,
        actions: list[dict[str, Any]] | None = None,
    ) -> str:
        """Create a crawl of the simulated site under `url`, as POST /v{api_version}/crawl would.

        The options mean what Firecrawl's do (see fakecrawl.crawls); max_depth is v1's maxDepth.
        fail_urls: pages that fail (they link to nothing); a start URL that fails ends the crawl
        at 0 of 0, like an unreachable one. start_offset < 0: the kickoff takes that long.
        webhook, actions: as in create_batch.
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
            options=DocumentOptions.of(
                doc_size,
                hostile,
                tuple(formats),
                only_main_content,
                actions,
            ),
            completed_lag=completed_lag,
            webhook=self._webhook_argument(webhook),
        )

    def job(self, job_id: str) -> Job:
        with self._lock:
            return self._jobs[job_id]

    def complete(self, job_id: str) -> None:
        """Finish every remaining URL now."""
        with self._lock:
            self._jobs[job_id].complete_now(self.clock())
        self._pump_webhooks()

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
        self._pump_webhooks()
        return True

    def fail(self, job_id: str) -> None:
        """Mark the job failed now (documents so far stay)."""
        with self._lock:
            self._jobs[job_id].fail(self.clock())
        self._pump_webhooks()

    def expire(self, job_id: str) -> None:
        """Expire the job now: status and cancel 404, /errors answers empty lists, its
        screenshots answer as expired storage links, and it sends no more webhooks."""
        with self._lock:
            self._jobs[job_id].expired = True

    def inject(
        self,
        fault: Fault,
        *,
        job_id: str | None = None,
        count: int | None = 1,
        path_contains: str | None = None,
        method: str | None = None,
        api_key: str | None = None,
        on: str | None = None,
    ) -> None:
        """Queue a fault for the next `count` requests (None: every one, until clear_faults)
        whose path and query contain `job_id` and `path_contains`, of that `method`
        (`method="POST"`), sent with that `api_key`, to that listener: on="api" or "storage"
        (default: where the fault belongs, storage for the screenshot faults). Faults with a
        count are used before lasting ones; the floods wait for their own route."""
        queued = QueuedFault(fault, count, job_id, path_contains, method, api_key, on or fault.host)
        with self._lock:
            self._faults.append(queued)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def storage_requests(self) -> list[RequestRecord]:
        """The requests the screenshot storage listener received."""
        with self._lock:
            return list(self._storage_requests)

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
            if credits is None or self.self_hosted:
                return None
            return max(credits - self._credits_used(team), 0)

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
        options: DocumentOptions,
        listing: Listing,
        completed_lag: int | None,
        webhook: WebhookConfig | None = None,
        error_message: str | None = None,
        parents: list[int | None] | None = None,
        order: list[int] | None = None,
        page_links: list[list[str]] | None = None,
    ) -> str:
        if state not in ("scraping", "completed", "cancelled", "failed"):
            raise ValueError(f"unknown state {state!r}")
        if options.actions and self.screenshots == "none":
            # No engine of a server without fire-engine runs actions: every URL fails.
            failing, error_message = set(range(len(urls))), ACTIONS_NOT_SUPPORTED
        with self._lock:
            now = self.clock()
            job_id = job_id or self._new_id(uuid_version, now)
            generator = ContentGenerator(
                self.seed,
                job_id,
                options,
                page_links=None if page_links is None else (lambda i: list(page_links[i])),
                screenshot=self._screenshot_maker(job_id),
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
                webhook=webhook,
                error_message=error_message,
            )
            self._jobs[job_id] = job
            if webhook is not None or self._self_hosted_webhook_url:
                self._webhook_jobs[job_id] = job
            if state == "completed":
                job.complete_now(now)
            elif state == "cancelled":
                job.cancel(now)
            elif state == "failed":
                job.fail(now)
        self._pump_webhooks()
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
        options: DocumentOptions,
        completed_lag: int | None = None,
        webhook: WebhookConfig | None = None,
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
                options=options,
                listing=listing,
                completed_lag=completed_lag,
                webhook=webhook,
                parents=plan.parents,
                order=plan.order,
                page_links=plan.links,
            )

    def _webhook_argument(self, webhook: str | dict[str, Any] | None) -> WebhookConfig | None:
        """create_batch/create_crawl's `webhook`, checked as a start request's would be."""
        if webhook is None:
            return None
        issues = webhook_issues({"webhook": webhook}, self.mode)
        if issues:
            raise ValueError(f"the server would refuse this webhook: {issues}")
        return parse_webhook({"webhook": webhook})

    def _screenshot_maker(self, job_id: str) -> Callable[[int, int], str] | None:
        """What a job's documents carry for their screenshots: a storage URL, or the image."""
        if self.screenshots == "none":
            return None

        def screenshot(index: int, shot: int) -> str:
            stored = StoredShot(job_id, index, shot)
            if self.screenshots == "inline":
                return data_uri(self._storage.image(stored))
            return self._storage.url(stored, self.wall(self.clock()))

        return screenshot

    @property
    def screenshot_bytes(self) -> int:
        """The size of each screenshot PNG (changeable while running)."""
        return self._storage.size

    @screenshot_bytes.setter
    def screenshot_bytes(self, size: int) -> None:
        self._storage.size = size

    # Webhooks.

    @property
    def self_hosted_webhook_url(self) -> str | None:
        return self._self_hosted_webhook_url

    @self_hosted_webhook_url.setter
    def self_hosted_webhook_url(self, url: str | None) -> None:
        """Set while running: jobs already there report their pages from now on."""
        with self._lock:
            if url and not self._self_hosted_webhook_url:
                now = self.clock()
                for job in self._jobs.values():
                    if job.id not in self._webhook_jobs and not job.finished_events:
                        job.advance(now)
                        job.skip_events()
                        self._webhook_jobs[job.id] = job
            self._self_hosted_webhook_url = url

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every delivery attempted so far, in the order each finished."""
        return self._dispatcher.deliveries()

    def clear_webhook_deliveries(self) -> None:
        self._dispatcher.clear()

    def wait_for_webhooks(self, timeout: float = 30.0) -> list[WebhookDelivery]:
        """Queue the events due at the sim clock's now, wait until every queued delivery was
        attempted (TimeoutError after `timeout` real seconds), and return all deliveries."""
        self._pump_webhooks()
        if not self._dispatcher.wait_idle(timeout):
            raise TimeoutError(f"webhook deliveries still pending after {timeout} s")
        return self.webhook_deliveries

    def _pump_webhooks(self) -> None:
        """Queue the webhook events that fell due on the sim clock, job by job in order."""
        if not self._webhook_jobs:
            return
        with self._lock:
            now = self.clock()
            settings = self.settings()
            for job in list(self._webhook_jobs.values()):
                for event in job.take_events(now, settings):
                    self._send_event(job, event, now)
                if job.finished_events:
                    del self._webhook_jobs[job.id]
            follow = self._webhook_jobs and self._pump_thread is None
            if follow and not self._pump_stop.is_set() and not isinstance(self.clock, ManualClock):
                # A real clock moves by itself: follow it.
                self._pump_thread = threading.Thread(
                    target=self._follow_clock, name="fakecrawl-webhook-clock", daemon=True
                )
                self._pump_thread.start()

    def _follow_clock(self) -> None:
        while not self._pump_stop.wait(PUMP_INTERVAL):
            self._pump_webhooks()

    def _send_event(self, job: Job, event: JobEvent, now: float) -> None:
        """Queue one event's delivery, as the server's WebhookSender builds it."""
        config = job.webhook
        if config is not None:
            team_secret = self._webhook_secrets.get(job.team)
            secret = self.self_hosted_webhook_secret if self.self_hosted else team_secret
        elif event.kind == "page" and self._self_hosted_webhook_url:
            # Only page events go to the server-wide URL (see fakecrawl.webhooks).
            config = WebhookConfig(self._self_hosted_webhook_url.replace("{{JOB_ID}}", job.id))
            secret = self.self_hosted_webhook_secret
        else:
            return
        type_ = event_type(job.kind, event.kind)
        if not config.wants(type_, self.mode):
            return
        success, error, data = True, None, b"[]"
        if event.position is not None:
            data = b"[" + job.encoded(event.position)[0] + b"]"
        elif event.error is not None:
            failed = job.errors[event.error]
            success, error = False, str(failed["error"])
            data = dumps([{"metadata": {"sourceURL": failed["url"]}}])
        body = payload(
            success=success,
            type_=type_,
            job_id=job.id,
            webhook_id=random_uuid4(self._webhook_rng),
            data=data,
            error=error,
            metadata=config.metadata,
        )
        headers = {**FETCH_HEADERS, "Content-Type": "application/json", **config.headers}
        if secret:
            headers["X-Firecrawl-Signature"] = signature(secret, body)
        sequence = self._webhook_sequence[job.id] = self._webhook_sequence.get(job.id, -1) + 1
        share = self.webhook_drop
        dropped = share > 0 and random.Random(f"{self.seed}:{job.id}:{sequence}").random() < share
        self._dispatcher.submit(Outgoing(job.id, type_, config.url, headers, body, now, dropped))

    # Screenshot storage (the second listener).

    def handle_storage(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> Response:
        """Answer one request to the screenshot storage and record it."""
        split = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        fault = self._take_fault(
            method, target, _bearer(lower.get("authorization", "")), faults.STORAGE
        )
        response = self._storage_answer(fault, method, target, split.path, query)
        with self._lock:
            record = RequestRecord(
                method, split.path, query, dict(headers), _bearer(lower.get("authorization", "")),
                response.status, self.clock(), body,
            )  # fmt: skip
            self._storage_requests.append(record)
        return response

    def _storage_answer(
        self, fault: Fault | None, method: str, target: str, path: str, query: dict[str, str]
    ) -> Response:
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.params["seconds"]))
        if method != "GET":
            return signature_mismatch()
        found = self._storage.read(path, query.get("X-Goog-Signature"))
        if isinstance(found, Response):
            return found
        with self._lock:
            job = self._jobs.get(found.job_id)
            if job is None or not 0 <= found.index < len(job.urls):
                return no_such_key(path)
            now = self.clock()
            job.advance(now)
            settings = self.settings()
            if job.is_expired(now, settings):
                terminal = job.terminal_at(settings)
                ended = now if job.expired or terminal is None else terminal + EXPIRY_SECONDS
                return expired_token(self.wall(ended))
        image = Response(200, self._storage.image(found), "image/png")
        image.headers["Cache-Control"] = "private, max-age=0"
        params = fault.params if fault is not None else {}
        match fault.kind if fault is not None else None:
            case "not_an_image":
                return Response(200, NOT_AN_IMAGE, "image/png")
            case "oversize_image":
                length, pieces = png_stream(self._storage.image_key(found), int(params["size"]))
                declared = length if params["declare_length"] else None
                return Response(200, b"", "image/png", chunks=pieces, length=declared)
            case "redirect":
                elsewhere = params["to"] or self._other_storage_name()
                location = elsewhere.rstrip("/") + target
                return Response(int(params["status"]), b"", "text/html", {"Location": location})
            case "trickle":
                image.trickle = (float(params["seconds"]), int(params["pieces"]))
            case "drop":
                image.truncate_to = len(image.body) // 2
            case "server_error":
                return faults.server_error_response(Fault("server_error", params), random.Random())
            case "not_found":
                return no_such_key(path)
        return image

    def _other_storage_name(self) -> str:
        """The storage listener under another host name (localhost for 127.0.0.1)."""
        host, _, port = self.storage_url.removeprefix("http://").rpartition(":")
        other = "localhost" if host != "localhost" else "127.0.0.1"
        return f"http://{other}:{port}"

    # Request handling (no sockets: `handle` is what the HTTP handler calls).

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """Answer one API request and record it."""
        if self.latency > 0:
            time.sleep(self.latency)
        split = urlsplit(target)
        path = split.path
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        lower = {k.lower(): v for k, v in headers.items()}
        api_key = _bearer(lower.get("authorization", ""))
        base = f"http://{lower.get('host') or self.url.removeprefix('http://')}"
        fault = self._take_fault(method, target, api_key, faults.API)
        response = self._respond_with_fault(fault, method, path, query, lower, body, base)
        with self._lock:
            record = RequestRecord(
                method, path, query, dict(headers), api_key, response.status, self.clock(), body
            )
            self._requests.append(record)
        self._pump_webhooks()
        return response

    def _take_fault(self, method: str, target: str, api_key: str | None, on: str) -> Fault | None:
        with self._lock:
            matching = [
                queued for queued in self._faults if queued.matches(target, method, api_key, on)
            ]
            # One-off faults first: a lasting one (a slow host) must not hide them.
            matching.sort(key=lambda queued: queued.remaining is None)
            if not matching:
                return None
            queued = matching[0]
            if queued.remaining is not None:
                queued.remaining -= 1
                if queued.remaining <= 0:
                    self._faults.remove(queued)
            return queued.fault

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
        flood = fault if kind in faults.ROUTE_OF_KIND else None
        response = self._route(method, path, query, headers, body, base, next_base, flood)
        if kind == "drop":
            response.truncate_to = len(response.body) // 2
        elif kind == "invalid_json":
            response = Response(200, response.body[: max(len(response.body) // 2, 1)], JSON)
        elif kind == "trickle" and fault is not None:
            response.trickle = (float(fault.params["seconds"]), int(fault.params["pieces"]))
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
        flood: Fault | None = None,
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
            if method != "GET" or activity_match.group(1) != "2" or not self._activity_route():
                return express_not_found(method, path)
            with self._lock:
                team, refusal = self._authenticate(headers)
                if team is None:
                    assert refusal is not None
                    return refusal
                return self._activity(team, query, flood)
        active_match = ACTIVE_PATH.fullmatch(path)
        if active_match and method == "GET" and self.active_crawls:
            with self._lock:
                team, refusal = self._authenticate(headers)
                if team is None:
                    assert refusal is not None
                    return refusal
                return self._active_crawls(int(active_match.group(1)), team, flood)
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
                return self._errors(job_id, team, flood)
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

    def _errors(self, job_id: str, team: str, flood: Fault | None = None) -> Response:
        job = self._jobs.get(job_id)
        if job is None:
            return json_response(404, NOT_FOUND)
        if job.team != team:
            return json_response(403, FORBIDDEN)
        now = self.clock()
        job.advance(now)
        if job.is_expired(now, self.settings()):
            return json_response(200, EMPTY_ERRORS)
        if flood is not None and flood.kind == "error_flood":
            reads = self._error_reads[job_id] = self._error_reads.get(job_id, 0) + 1
            key = f"{self.seed}:{job_id}:flood:{reads if flood.params['fresh_ids'] else 0}"
            pieces = floods.error_list(flood.params, job.failed, key, self.wall(now))
            return Response(200, b"", JSON, chunks=pieces)
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

    def _activity_route(self) -> bool:
        return self.mode == "2026" if self.activity is None else self.activity

    def _activity(self, team: str, query: dict[str, str], flood: Fault | None = None) -> Response:
        checked = listings.activity_query(query)
        if not isinstance(checked, listings.ActivityQuery):
            return json_response(*checked)
        now_wall = self.wall(self.clock())
        if flood is not None and flood.kind == "listing_flood":
            return json_response(
                200, floods.listing_page(flood.params, checked, now_wall, self.seed)
            )
        if self.self_hosted:
            # The query goes to the database replica, which a server without its database lacks.
            return json_response(500, listings.ACTIVITY_FAILED)
        return json_response(
            *listings.activity(self._team_jobs(team), checked, now_wall, self.wall)
        )

    def _active_crawls(self, version: int, team: str, flood: Fault | None = None) -> Response:
        now = self.clock()
        settings = self.settings()
        ongoing = []
        for job in self._team_jobs(team):
            job.advance(now)
            if job.cancelled_at is None and job.is_ongoing(now, settings):
                ongoing.append(job)
        body = listings.active_crawls(ongoing, version, self.wall)
        if flood is not None and flood.kind == "active_flood":
            real = json.loads(body)["crawls"]
            body = floods.active_crawls(
                flood.params, real, team, version, self.wall(now), self.seed
            )
        return json_response(200, body)

    def _credit_usage(self, version: int, team: str) -> Response:
        credits = self._credits.get(team)
        if credits is None or self.self_hosted:
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
                crawl = parse_crawl(body, version, self.mode)
                return self._start_crawl(version, team, crawl, parse_webhook(body), base)
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
            options=DocumentOptions.of(
                2000,
                False,
                request.formats,
                request.only_main_content,
                body.get("actions"),
            ),
            listing=listing,
            completed_lag=None,
            webhook=parse_webhook(body),
        )
        answer: dict[str, Any] = {
            "success": True,
            "id": job_id,
            "url": f"{base}/v{version}/batch/scrape/{job_id}",
        }
        if version == 2 or body.get("ignoreInvalidURLs") is True:
            answer["invalidURLs"] = request.invalid_urls
        return json_response(200, dumps(answer))

    def _start_crawl(
        self,
        version: int,
        team: str,
        request: CrawlRequest,
        webhook: WebhookConfig | None,
        base: str,
    ) -> Response:
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
            options=DocumentOptions.of(
                2000,
                False,
                formats,
                only_main,
                request.scrape_options.get("actions"),
            ),
            webhook=webhook,
        )
        answer = {"success": True, "id": job_id, "url": f"{base}/v{version}/crawl/{job_id}"}
        return json_response(200, dumps(answer))


def _bearer(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
