"""The Firecrawl client: one key on one server, typed answers, bounded retries, readable errors.

Every call is bounded in size (`max_response_bytes`, decompressed) and in time (`deadline`, the
whole call with its retries and waits); GETs retry, POST and DELETE never do.
"""

from __future__ import annotations

import http.client
import logging
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn, Self
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from urllib3.util import Retry

from firecrawl_api import jsonscan, transport
from firecrawl_api.errors import (
    AuthError,
    BadRequest,
    Conflict,
    DeadlineExceeded,
    FirecrawlError,
    Forbidden,
    InvalidResponse,
    NotFound,
    NotSupported,
    PaymentRequired,
    RateLimited,
    ResponseTooLarge,
    Unreachable,
    UpstreamError,
)
from firecrawl_api.ids import is_uuid, mask_key
from firecrawl_api.text import clean_text
from firecrawl_api.wire import (
    ActiveCrawl,
    ActivityPage,
    CreditUsage,
    ErrorsListing,
    StartedJob,
    StatusPage,
    as_text_or_none,
    bad_request_details,
    is_cancelled_entry,
)

logger = logging.getLogger(__name__)

USER_AGENT = "firecrawl-dashboard (+https://github.com/firecrawl-dashboard)"
JOB_KINDS = {"batch": "batch/scrape", "crawl": "crawl"}
# The header Firecrawl's server reads to refuse a second start with the same key (409); its
# value must be a UUID.
IDEMPOTENCY_HEADER = "x-idempotency-key"
# Firecrawl pages hold at most ~10 M UTF-16 units of JSON (up to ~30 MB of UTF-8).
DEFAULT_MAX_RESPONSE_BYTES = 64 * 2**20
DEFAULT_DEADLINE = 120.0
# The longest wait a Retry-After header or text may ask for; past it the caller is told when
# to come back instead.
MAX_RETRY_AFTER = 3600
# The most a listing (activity, active crawls) may send, whatever the size cap of the client:
# a page of 100 jobs is tens of kilobytes.
LISTING_MAX_BYTES = 8 * 2**20
# Jobs per page of the activity listing: Firecrawl's own maximum, kept whatever a server sends.
ACTIVITY_MAX_LIMIT = 100
# A list of failed URLs is parsed as it streams in (its first entries kept, the rest counted),
# so it may be this many times larger than other responses: 200,000 entries are ~80 MB.
ERRORS_SIZE_FACTOR = 8

_RETRY_AFTER_TEXT = re.compile(r"retry\s+after\s+(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
_RETRY_AFTER_HEADER = Retry(total=0, retry_after_max=MAX_RETRY_AFTER)
_EXCEPTION_ID = re.compile(
    r"(?:exception\s+id\s+is|error\s+id:?)\s*([0-9A-Za-z][0-9A-Za-z_-]*)", re.IGNORECASE
)
# A load balancer's or captive portal's page instead of JSON is the one 200 that is plausibly
# transient, so a GET gets one more try; a JSON of the wrong shape is retried never (it will not
# change), and a truncated body shows up as a dropped connection, retried like one.
_INVALID_BODY_RETRIES = 1
_TRANSPORT_ERRORS = (
    requests.RequestException,
    http.client.HTTPException,
    urllib3.exceptions.HTTPError,
    OSError,
)
# Configuration mistakes that no retry fixes.
_BAD_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
)


class FirecrawlClient:
    """One Firecrawl key on one server. GETs retry; POST and DELETE never do (not idempotent).

    `deadline` bounds a whole call, its retries and waits included (seconds); the timeouts bound
    each connect and each socket read within it. `finish_by`, a time.monotonic() moment, bounds
    every call together: a worker task's whole budget, so that several calls in one task never
    add up to more than it. `max_response_bytes` caps one response body,
    counted after decompression. `on_request` is called before every attempt (the request
    budget), `sleep` between attempts (tests pass a recorder). `slowest` is the longest one
    attempt has taken so far (seconds): how a caller tells a slow upstream. Holds one
    requests.Session for connection reuse, so use one client per thread.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        api_version: str = "v1",
        *,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        max_wait: float = 60.0,
        on_request: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        finish_by: float | None = None,
    ) -> None:
        if api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be 'v1' or 'v2', not {api_version!r}")
        if not deadline > 0 or not max_response_bytes > 0:  # nan included
            raise ValueError("deadline and max_response_bytes must be > 0")
        parts = urlsplit(api_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("api_url must be an http(s) URL such as https://api.firecrawl.dev")
        path = parts.path.rstrip("/")
        # People paste the URL from the docs, version included; the version is a separate setting.
        path = re.sub(r"/v[12]$", "", path)
        self._api_url = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        # Userinfo in a URL is a secret too: never show it in messages.
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        host += f":{parts.port}" if parts.port else ""
        self._display_url = urlunsplit((parts.scheme, host, path, "", ""))
        self._api_version = api_version
        self._api_key = api_key
        self._connect_timeout = float(connect_timeout)
        self._read_timeout = float(read_timeout)
        self._deadline = float(deadline)
        self._finish_by = finish_by
        self.slowest = 0.0
        self._max_response_bytes = int(max_response_bytes)
        self._max_retries = max(0, int(max_retries))
        self._backoff_base = float(backoff_base)
        self._max_wait = float(max_wait)
        self._on_request = on_request
        self._sleep = sleep
        self._session = transport.new_session()
        self._headers = {
            "Accept": "application/json",
            "Accept-Encoding": transport.ACCEPT_ENCODING,
            "User-Agent": USER_AGENT,
        }
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return (
            f"FirecrawlClient(api_url={self._display_url!r}, api_version={self._api_version!r}, "
            f"api_key={mask_key(self._api_key)!r})"
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- jobs ----------------------------------------------------------------------------------

    def job_status(
        self, job_id: str, skip: int = 0, limit: int | None = None, *, kind: str
    ) -> StatusPage:
        """One page of a job's status and results, starting at document offset `skip`."""
        if skip < 0:
            raise ValueError("skip must be >= 0")
        params: dict[str, int | str] = {"skip": skip}
        if limit is not None:
            if limit <= 0:
                raise ValueError("limit must be > 0")  # upstream's limit=0 loops on itself
            params["limit"] = limit
        payload = self._call(
            "GET",
            self._job_path(job_id, kind),
            params=params,
            failure="Firecrawl reported the job as failed",
        )
        return StatusPage.from_payload(payload, skip)

    def errors(self, job_id: str, *, kind: str, max_items: int | None = None) -> ErrorsListing:
        """The job's failed URLs and robots-blocked URLs (they never appear among documents):
        at most `max_items` of each, with how many Firecrawl listed."""
        path = self._job_path(job_id, kind) + "/errors"
        listed: dict[str, int] = {}

        def scan(chunks: Iterator[bytes]) -> dict[str, Any]:
            payload, counts = jsonscan.scan_arrays(
                chunks, keep=max_items or sys.maxsize, tally=_tally_cancelled
            )
            listed.update(counts)
            return payload

        size = self._max_response_bytes * ERRORS_SIZE_FACTOR
        try:
            payload = self._call("GET", path, stream=scan, max_bytes=size)
        except NotSupported:
            # The 2025 server has no /v2/batch/scrape/{id}/errors route; its /crawl/{id}/errors
            # accepts batch ids.
            if kind != "batch":
                raise
            crawl_path = self._job_path(job_id, "crawl") + "/errors"
            payload = self._call("GET", crawl_path, stream=scan, max_bytes=size)
        return ErrorsListing.from_payload(
            payload,
            max_items=max_items,
            failed_listed=listed.get("errors"),
            robots_listed=listed.get("robotsBlocked"),
            cancelled_listed=listed.get(CANCELLED_TALLY),
        )

    def cancel(self, job_id: str, *, kind: str) -> str:
        """Cancel a job; returns the upstream status ("cancelled"). Never retried."""
        payload = self._call("DELETE", self._job_path(job_id, kind))
        status = as_text_or_none(payload.get("status"))
        if status:
            return status[:50]
        if payload.get("success") is True:
            return "cancelled"
        raise InvalidResponse("Firecrawl's answer to the cancel request has no status")

    def start_batch(
        self, urls: list[str], *, options: dict[str, Any], idempotency_key: str | None = None
    ) -> StartedJob:
        """Start a batch scrape of `urls`; `options` are the other body fields (formats…).

        Never retried: give an `idempotency_key` (a UUID) to make a resubmission safe, Firecrawl
        then answers Conflict (409) instead of starting the batch twice.
        """
        payload = self._call(
            "POST",
            f"/{self._api_version}/batch/scrape",
            body={**options, "urls": list(urls)},
            headers=_idempotency(idempotency_key),
            failure="Firecrawl did not start the batch",
        )
        return StartedJob.from_payload(payload, "batch")

    def start_crawl(
        self, url: str, *, options: dict[str, Any], idempotency_key: str | None = None
    ) -> StartedJob:
        """Start a crawl from `url`; `options` are the other body fields (limit, scrapeOptions…).
        Never retried (see start_batch)."""
        payload = self._call(
            "POST",
            f"/{self._api_version}/crawl",
            body={**options, "url": url},
            headers=_idempotency(idempotency_key),
            failure="Firecrawl did not start the crawl",
        )
        return StartedJob.from_payload(payload, "crawl")

    # -- the team ------------------------------------------------------------------------------

    def credit_usage(self) -> CreditUsage:
        """Remaining credits of the key's team, or unknown when the server has no billing."""
        try:
            payload = self._call("GET", f"/{self._api_version}/team/credit-usage", retry_5xx=False)
        except UpstreamError as exc:
            # Self-hosted servers answer 500 here by design: credits are unknown, the key is fine.
            logger.info("Firecrawl credit usage unavailable (%s)", exc.status_code)
            return CreditUsage.unknown()
        return CreditUsage.from_payload(payload)

    def recent_jobs(
        self, *, kind: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> ActivityPage:
        """The team's batch scrapes and crawls of the last 24 hours, newest first, one page of
        at most `limit` jobs (100 when not given), whatever the server sends.

        Hosted Firecrawl has this listing (v2 only, whatever this client's version):
        NotSupported says the server lacks it. A self-hosted server without its database has
        the route but answers 500, which no retry changes: it is not retried.
        """
        params: dict[str, int | str] = {}
        if kind is not None:
            endpoints = {"batch": "batch_scrape", "crawl": "crawl"}
            if kind not in endpoints:
                raise ValueError(f"kind must be one of {sorted(endpoints)}, not {kind!r}")
            params["endpoint"] = endpoints[kind]
        if limit is not None:
            if not 1 <= limit <= 100:
                raise ValueError("limit must be between 1 and 100")
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        payload = self._call(
            "GET",
            "/v2/team/activity",
            params=params,
            retry_5xx=False,
            max_bytes=min(LISTING_MAX_BYTES, self._max_response_bytes),
        )
        return ActivityPage.from_payload(payload, max_items=limit or ACTIVITY_MAX_LIMIT)

    def active_crawls(self, *, max_items: int | None = None) -> list[ActiveCrawl]:
        """The team's crawls still running, at most `max_items` of them. NotSupported says the
        server lacks the listing."""
        try:
            payload = self._call(
                "GET",
                f"/{self._api_version}/crawl/active",
                max_bytes=min(LISTING_MAX_BYTES, self._max_response_bytes),
            )
        except (BadRequest, NotFound) as exc:
            # A server without the route takes "active" for a job id: 400 "Invalid job ID", or
            # 404 "Job not found". There is no id in this path, so either means no listing.
            raise NotSupported(
                "This Firecrawl server cannot list active crawls", status_code=exc.status_code
            ) from None
        return ActiveCrawl.list_from_payload(payload, max_items=max_items)

    # -- plumbing ------------------------------------------------------------------------------

    def _job_path(self, job_id: str, kind: str) -> str:
        segment = JOB_KINDS.get(kind)
        if segment is None:
            raise ValueError(f"kind must be one of {sorted(JOB_KINDS)}, not {kind!r}")
        # Only a validated UUID reaches the path, so no pasted text can inject path or query parts.
        candidate = job_id.strip() if isinstance(job_id, str) else ""
        if not is_uuid(candidate):
            raise BadRequest("That is not a valid Firecrawl job id: expected a UUID")
        return f"/{self._api_version}/{segment}/{candidate.lower()}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, int | str] | None = None,
        body: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_5xx: bool = True,
        failure: str = "Firecrawl reported a failure",
        max_bytes: int | None = None,
        stream: Callable[[Iterator[bytes]], dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One call with its retries. `max_bytes`: the size cap of this call's answer (else the
        client's). `stream`: parses a successful answer's body as it arrives, instead of the
        body being read whole first."""
        url = self._api_url + path
        seconds = self._deadline
        if self._finish_by is not None:
            seconds = min(seconds, self._finish_by - time.monotonic())
        deadline = transport.Deadline(seconds)
        limit = max_bytes or self._max_response_bytes
        retries = self._max_retries if method == "GET" else 0
        invalid_retries = _INVALID_BODY_RETRIES
        attempt = 0
        while True:
            error: FirecrawlError
            try:
                return self._attempt(
                    method, url, params, body, headers, failure, deadline, limit, stream
                )
            except _RateLimitHint as hint:
                cap = hint.seconds if hint.seconds is not None else self._backoff_cap(attempt)
                error = RateLimited(cap, api_message=hint.api_message)
                retryable = cap <= self._max_wait
                wait = cap if hint.seconds is not None else random.uniform(0, cap)
            except Unreachable as exc:
                error, retryable, wait = exc, exc.retryable, self._jittered(attempt)
            except UpstreamError as exc:
                error, retryable, wait = exc, retry_5xx, self._jittered(attempt)
            except InvalidResponse as exc:
                error, retryable, wait = exc, exc.transient, self._jittered(attempt)
                if retryable:
                    retryable = invalid_retries > 0
                    invalid_retries -= 1
            # No wait starts that would end past the deadline: the caller hears now, not later.
            if not retryable or attempt >= retries or wait >= deadline.left():
                self._log_give_up(method, path, attempt, error.message)
                raise error
            attempt += 1
            logger.info(
                "Firecrawl %s %s: %s; retry %d of %d in %.1f s",
                method,
                path,
                error.message,
                attempt,
                retries,
                wait,
            )
            self._sleep(wait)

    @staticmethod
    def _log_give_up(method: str, path: str, attempt: int, reason: str) -> None:
        if attempt:
            logger.warning(
                "Firecrawl %s %s: %s; giving up after %d attempts",
                method,
                path,
                reason,
                attempt + 1,
            )

    def _backoff_cap(self, attempt: int) -> float:
        return float(min(self._max_wait, self._backoff_base * 2**attempt))

    def _jittered(self, attempt: int) -> float:
        # Full jitter: clients polling the same team do not retry in lockstep.
        return random.uniform(0, self._backoff_cap(attempt))

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, int | str] | None,
        body: dict[str, Any] | None,
        headers: Mapping[str, str] | None,
        failure: str,
        deadline: transport.Deadline,
        limit: int,
        stream: Callable[[Iterator[bytes]], dict[str, Any]] | None,
    ) -> dict[str, Any]:
        left = deadline.left()
        if left <= 0:
            # Out of time before asking (a task's budget spent): nothing is paid for.
            raise self._deadline_exceeded(deadline)
        if self._on_request is not None:
            self._on_request()
        started = time.monotonic()
        try:
            return self._exchange(
                method, url, params, body, headers, failure, deadline, limit, stream
            )
        finally:
            self.slowest = max(self.slowest, time.monotonic() - started)

    def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, int | str] | None,
        body: dict[str, Any] | None,
        headers: Mapping[str, str] | None,
        failure: str,
        deadline: transport.Deadline,
        limit: int,
        stream: Callable[[Iterator[bytes]], dict[str, Any]] | None,
    ) -> dict[str, Any]:
        left = deadline.left()
        try:
            with transport.bounded_by(deadline, self._read_timeout):
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={**self._headers, **headers} if headers else self._headers,
                    timeout=(min(self._connect_timeout, left), min(self._read_timeout, left)),
                    # The API never redirects; a redirect means a wrong URL, and following it
                    # could carry the key to another host.
                    allow_redirects=False,
                    stream=True,
                )
                with response:
                    if stream is not None and response.status_code == 200:
                        return self._streamed(response, stream, limit, deadline)
                    content = transport.read_body(response.raw, limit=limit, deadline=deadline)
        except transport.TooLarge:
            raise ResponseTooLarge(
                f"Firecrawl sent more than {_size(limit)} in one response; stopped reading"
            ) from None
        except transport.DeadlinePassed:
            raise self._deadline_exceeded(deadline) from None
        except transport.UnaskedEncoding as exc:
            raise InvalidResponse(
                f"Firecrawl sent a response in an encoding this client did not ask for "
                f"({clean_text(str(exc))[:40]})"
            ) from None
        except _BAD_URL_ERRORS:
            raise Unreachable(
                f"The Firecrawl API URL {self._display_url} is not usable", retryable=False
            ) from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError) as exc:
            if deadline.passed():
                raise self._deadline_exceeded(deadline) from None
            if isinstance(exc, requests.ConnectTimeout):
                raise Unreachable(
                    f"Could not reach Firecrawl at {self._display_url} (no answer to connect)",
                    sent=False,
                ) from None
            raise Unreachable(
                f"Firecrawl at {self._display_url} did not answer in time (timed out)"
            ) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
            raise Unreachable(
                f"The connection to Firecrawl at {self._display_url} dropped mid-response"
            ) from None
        except _TRANSPORT_ERRORS as exc:
            raise Unreachable(
                f"Could not reach Firecrawl at {self._display_url} ({_transport_reason(exc)})",
                sent=not _never_connected(exc),
            ) from None
        return self._interpret(response, content, failure)

    @staticmethod
    def _streamed(
        response: requests.Response,
        parse: Callable[[Iterator[bytes]], dict[str, Any]],
        limit: int,
        deadline: transport.Deadline,
    ) -> dict[str, Any]:
        try:
            return parse(transport.iter_body(response.raw, limit=limit, deadline=deadline))
        except jsonscan.TooDeep:
            raise InvalidResponse(_TOO_DEEP, status_code=200) from None
        except ValueError:  # UnicodeDecodeError included
            # A cut body shows up as a dropped connection (retried); this one will not change.
            raise InvalidResponse(
                "Firecrawl sent a response that is not valid JSON (truncated?)", status_code=200
            ) from None

    def _deadline_exceeded(self, deadline: transport.Deadline) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"Firecrawl at {self._display_url} did not finish answering within "
            f"{round(max(deadline.seconds, 0), 1):g} s"
        )

    def _interpret(
        self, response: requests.Response, content: bytes, failure: str
    ) -> dict[str, Any]:
        status = response.status_code
        payload, problem = _decode(content, response.headers.get("Content-Type", ""))
        api_message = self._scrub(_api_message(payload))
        if 200 <= status < 300:
            if problem is not None:
                # A proxy's page or a cut body may be gone next time; JSON too deep will not.
                transient = problem != _TOO_DEEP
                raise InvalidResponse(problem, status_code=status, transient=transient)
            if not isinstance(payload, dict):
                raise InvalidResponse(
                    "Firecrawl answered with JSON that is not an object", status_code=status
                )
            if payload.get("success") is False:
                job_status = as_text_or_none(payload.get("status"))
                detail = api_message or (f'status "{job_status[:50]}"' if job_status else None)
                raise InvalidResponse(
                    f"{failure}: {detail}" if detail else failure,
                    status_code=status,
                    api_message=api_message,
                    job_status=job_status,
                )
            return payload
        self._raise_for_status(response, payload, status, api_message)

    def _raise_for_status(
        self, response: requests.Response, payload: Any, status: int, api_message: str | None
    ) -> NoReturn:
        common: dict[str, Any] = {"status_code": status, "api_message": api_message}
        detail = f": {api_message}" if api_message else ""
        if 300 <= status < 400:
            raise InvalidResponse(
                f"Firecrawl answered with a redirect ({status}); check the API URL "
                "(http vs https, extra path)",
                **common,
            )
        if status == 401:
            raise AuthError(**common)
        if status == 402:
            raise PaymentRequired(**common)
        if status == 403:
            raise Forbidden(**common)
        if status == 404:
            if api_message is None:
                # Express's "Cannot GET …" page, or any 404 without Firecrawl's JSON error: the
                # route is missing, not the job.
                raise NotSupported(
                    f"This Firecrawl server has no such endpoint (404 for "
                    f"{urlsplit(response.url).path}); check the API URL and version",
                    status_code=status,
                )
            expired = "expired" in api_message.lower()
            raise NotFound(
                "Job expired upstream" if expired else "Job not found upstream", **common
            )
        if status == 400:
            details = [self._scrub(line) or "" for line in bad_request_details(payload)]
            if details:
                more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
                detail = f": {details[0]}{more}"
            raise BadRequest(
                f"Firecrawl rejected the request (400){detail}", details=details, **common
            )
        if status == 409:
            raise Conflict(f"Firecrawl refused the request (409){detail}", **common)
        if status == 429:
            raise _RateLimitHint(_retry_after(response.headers, api_message), api_message)
        if status >= 500:
            match = _EXCEPTION_ID.search(api_message or "")
            raise UpstreamError(**common, exception_id=match.group(1) if match else None)
        raise FirecrawlError(f"Firecrawl refused the request ({status}){detail}", **common)

    def _scrub(self, text: str | None) -> str | None:
        # Upstream text is echoed into messages; make sure it can never carry our key.
        if text and self._api_key and self._api_key in text:
            return text.replace(self._api_key, mask_key(self._api_key))
        return text


class _RateLimitHint(Exception):
    """Internal: a 429 seen by one attempt, before the retry loop decides what to do."""

    def __init__(self, seconds: float | None, api_message: str | None) -> None:
        super().__init__("rate limited")
        self.seconds = seconds
        self.api_message = api_message


CANCELLED_TALLY = "errors:cancelled"


def _tally_cancelled(key: str, item: Any) -> str | None:
    """scan_arrays' tally: /errors entries for URLs a cancel left unscraped, counted as they
    stream by (kept or not), so a cancelled 200,000-URL batch is not counted as failures."""
    return CANCELLED_TALLY if key == "errors" and is_cancelled_entry(item) else None


def _idempotency(key: str | None) -> dict[str, str] | None:
    if key is None:
        return None
    if not is_uuid(key):
        raise ValueError("idempotency_key must be a UUID (Firecrawl refuses any other key)")
    return {IDEMPOTENCY_HEADER: key.lower()}


_TOO_DEEP = "Firecrawl sent JSON nested too deeply to read"


def _decode(content: bytes, content_type: str) -> tuple[Any, str | None]:
    """Parse the body as JSON; on failure return why, phrased for the user."""
    if not content.strip():
        return None, "Firecrawl answered with an empty body"
    try:
        # Status pages keep each document's JSON text beside the parsed object (see jsonscan).
        return jsonscan.loads(content), None
    except jsonscan.TooDeep:
        return None, _TOO_DEEP
    except (ValueError, UnicodeDecodeError):
        pass
    if "text/html" in content_type.lower() or content.lstrip()[:1] == b"<":
        return None, (
            "Firecrawl answered with an HTML page instead of JSON "
            "(check the API URL, or a proxy in between)"
        )
    return None, "Firecrawl sent a response that is not valid JSON (truncated?)"


def _api_message(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("error", "message"):
        text = payload.get(key)
        if isinstance(text, str) and text:
            return clean_text(text[:500])
    return None


def _retry_after(headers: Mapping[str, str], api_message: str | None) -> float | None:
    """Seconds to wait before retrying a 429, at most MAX_RETRY_AFTER, or None if unsaid.

    Retry-After is read by urllib3 (whole seconds or an HTTP date); Firecrawl sends no header,
    but says "please retry after 12s" in the error text.
    """
    header = headers.get("Retry-After")
    if header:
        try:
            return float(_RETRY_AFTER_HEADER.parse_retry_after(header))
        except (urllib3.exceptions.InvalidHeader, ValueError, OverflowError, TypeError):
            pass  # "1e308", "inf", "-5", 5,000 digits, a date past any calendar: as if unsaid
    match = _RETRY_AFTER_TEXT.search(api_message or "")
    if match:
        return min(float(match.group(1)), MAX_RETRY_AFTER)  # 400 digits are inf: clamped too
    return None


def _size(limit: int) -> str:
    if limit >= 2**20:
        return f"{limit / 2**20:g} MB"
    return f"{limit:,} bytes"


def _never_connected(exc: BaseException) -> bool:
    """Whether the connection was never made (refused, no such host): the request did not go
    out, so nothing can have been started."""
    reason = exc
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = exc.args[0]
    if isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    # NameResolutionError is a NewConnectionError: a host that does not resolve is one too.
    return isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionRefusedError)


def _transport_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename" in text or "resolve" in text:
        return "host name not found"
    if "timed out" in text or "timeout" in text:
        return "timed out"
    if "reset" in text or "aborted" in text or "remote end closed" in text:
        return "connection dropped"
    return "network error"
