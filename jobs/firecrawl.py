"""HTTP client for Firecrawl's job endpoints: typed results, bounded retries, readable errors.

The only module in the project that talks to Firecrawl (and imports requests); it knows no Django.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn, Self
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
import urllib3.exceptions

from jobs import jsontext

__all__ = [
    "AuthError",
    "BadRequest",
    "Conflict",
    "CreditUsage",
    "ErrorsListing",
    "FailedUrl",
    "FirecrawlClient",
    "FirecrawlError",
    "Forbidden",
    "InvalidResponse",
    "NotFound",
    "PaymentRequired",
    "RateLimited",
    "ScrapedDocument",
    "StartedJob",
    "StatusPage",
    "Unreachable",
    "UpstreamError",
    "mask_key",
    "parse_job_id",
]

logger = logging.getLogger(__name__)

USER_AGENT = "firecrawl-dashboard (+https://github.com/firecrawl-dashboard)"
JOB_KINDS = {"batch": "batch/scrape", "crawl": "crawl"}

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Lookarounds keep a UUID-shaped slice of a longer hex run (a hash, a key) from passing as an id.
_UUID_IN_TEXT = re.compile(rf"(?<![0-9A-Za-z-]){_UUID}(?![0-9A-Za-z-])")
_UUID_EXACT = re.compile(_UUID)
_RETRY_AFTER_TEXT = re.compile(r"retry\s+after\s+(\d+(?:\.\d+)?)\s*s", re.IGNORECASE)
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


def parse_job_id(text: str) -> str | None:
    """Return the first UUID found in `text` (a bare id or any pasted URL), lowercased, or None."""
    if not isinstance(text, str):
        return None
    match = _UUID_IN_TEXT.search(text)
    return match.group(0).lower() if match else None


def mask_key(key: str) -> str:
    """Show a key as `fc-…1a2b`; short keys would reveal too much of themselves, so only `…`."""
    if not isinstance(key, str):
        return "…"
    prefix = "fc-" if key.startswith("fc-") else ""
    body = key[len(prefix) :]
    if len(body) < 12:
        return "…"
    return f"{prefix}…{body[-4:]}"


# ---------------------------------------------------------------------------------------------
# Errors


class FirecrawlError(Exception):
    """A Firecrawl call failed; `message` is a sentence a user can act on."""

    default_message = "The Firecrawl request failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.status_code = status_code
        self.api_message = api_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthError(FirecrawlError):
    default_message = "Firecrawl rejected the API key (401)"


class PaymentRequired(FirecrawlError):
    default_message = "Firecrawl refused the request: the team is out of credits (402)"


class Forbidden(FirecrawlError):
    default_message = "This API key's team may not access that job (403)"


class NotFound(FirecrawlError):
    default_message = "Job not found upstream"


class BadRequest(FirecrawlError):
    """400, or a job id that is not a UUID (refused before any request)."""


class Conflict(FirecrawlError):
    """409, e.g. cancelling a job that already completed."""


class RateLimited(FirecrawlError):
    def __init__(
        self,
        retry_after: float,
        *,
        status_code: int | None = 429,
        api_message: str | None = None,
    ) -> None:
        self.retry_after = float(retry_after)
        seconds = max(1, math.ceil(self.retry_after))
        super().__init__(
            f"Rate limited by Firecrawl, retry in {seconds} s",
            status_code=status_code,
            api_message=api_message,
        )


class UpstreamError(FirecrawlError):
    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        exception_id: str | None = None,
    ) -> None:
        self.exception_id = exception_id
        if message is None:
            message = f"Firecrawl had an internal error ({status_code or '5xx'})"
            if exception_id:
                message += f", exception ID {exception_id}"
        super().__init__(message, status_code=status_code, api_message=api_message)


class InvalidResponse(FirecrawlError):
    """Firecrawl answered, but not with what the endpoint promises.

    `job_status` carries the upstream status when a 200 said `success: false` (a failed job).
    """

    default_message = "Firecrawl sent a response this dashboard cannot read"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        job_status: str | None = None,
        transient: bool = False,
    ) -> None:
        self.job_status = job_status
        self.transient = transient
        super().__init__(message, status_code=status_code, api_message=api_message)


class Unreachable(FirecrawlError):
    default_message = "Could not reach Firecrawl"

    def __init__(self, message: str | None = None, *, retryable: bool = True) -> None:
        self.retryable = retryable
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Typed results. Everything from the wire is normalized here so the rest of the code never
# touches raw dicts; documents are hostile input, so odd content is normalized, never fatal.


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _datetime_or_none(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Firecrawl always sends UTC; a naive stamp would otherwise compare as local time.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str:
    """A metadata string that may arrive as a list of strings (titles, keywords)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " / ".join(item for item in value if isinstance(item, str))
    return ""


@dataclass(frozen=True)
class ScrapedDocument:
    raw: dict[str, Any]
    markdown: str | None = None
    html: str | None = None
    raw_html: str | None = None
    links: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    source_url: str = ""
    url: str = ""
    title: str = ""
    status_code: int | None = None
    scrape_id: str | None = None
    error: str | None = None
    warning: str | None = None
    screenshot: str | None = None
    # The document's JSON text exactly as Firecrawl sent it, when the parser kept it.
    text: str | None = None

    @classmethod
    def from_raw(cls, raw: Any, text: str | None = None) -> ScrapedDocument:
        if not isinstance(raw, dict):
            # Kept, not dropped: positions are upstream offsets, and skipping one would shift them.
            return cls(raw={"value": raw}, error="Firecrawl sent a document that is not an object")
        metadata = raw.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        links = raw.get("links")
        source_url = _text(metadata.get("sourceURL"))
        url = _text(metadata.get("url"))
        return cls(
            raw=raw,
            markdown=_str_or_none(raw.get("markdown")),
            html=_str_or_none(raw.get("html")),
            raw_html=_str_or_none(raw.get("rawHtml")),
            links=[link for link in links if isinstance(link, str)]
            if isinstance(links, list)
            else [],
            metadata=metadata,
            source_url=source_url or url,
            url=url or source_url,
            title=_text(metadata.get("title")),
            status_code=_int_or_none(metadata.get("statusCode")),
            scrape_id=_str_or_none(metadata.get("scrapeId")),
            error=_str_or_none(metadata.get("error")) or _str_or_none(raw.get("error")),
            warning=_str_or_none(raw.get("warning")),
            screenshot=_str_or_none(raw.get("screenshot")),
            text=text,
        )


@dataclass(frozen=True)
class StatusPage:
    success: bool
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
    next_limit: int | None
    skip: int

    @property
    def has_next(self) -> bool:
        """Whether another page is worth asking for right now.

        Upstream's `next` never disappears on a cancelled job and repeats the same skip while a
        running job has nothing new, so a page that brought no documents (or a `next` that does
        not move forward) ends the walk; poll again later instead.
        """
        return self.next_skip is not None and bool(self.documents) and self.next_skip > self.skip

    @classmethod
    def from_payload(cls, payload: dict[str, Any], skip: int) -> StatusPage:
        status = payload.get("status")
        completed = _int_or_none(payload.get("completed"))
        total = _int_or_none(payload.get("total"))
        data = payload.get("data", [])
        if not isinstance(status, str) or completed is None or total is None:
            raise InvalidResponse(
                "Firecrawl's status response lacks status or counters (is the API URL right?)"
            )
        if data is None:
            data = []
        if not isinstance(data, list):
            raise InvalidResponse("Firecrawl's status response has no list of documents")
        texts = data.texts if isinstance(data, jsontext.SourcedList) else [None] * len(data)
        documents = [
            ScrapedDocument.from_raw(item, text) for item, text in zip(data, texts, strict=True)
        ]
        next_skip, next_limit = _parse_next(payload.get("next"), skip + len(documents))
        credits_used = _int_or_none(payload.get("creditsUsed"))
        return cls(
            success=payload.get("success") is not False,
            status=status,
            completed=completed,
            total=total,
            credits_used=credits_used if credits_used is not None and credits_used >= 0 else None,
            expires_at=_datetime_or_none(payload.get("expiresAt")),
            created_at=_datetime_or_none(payload.get("createdAt")),
            completed_at=_datetime_or_none(payload.get("completedAt")),
            duration=_float_or_none(payload.get("duration")),
            warning=_str_or_none(payload.get("warning")),
            documents=documents,
            next_skip=next_skip,
            next_limit=next_limit,
            skip=skip,
        )


def _parse_next(value: Any, fallback_skip: int) -> tuple[int | None, int | None]:
    """Read skip/limit out of `next`; the URL itself is never requested (its host is untrusted)."""
    if value is None:
        return None, None
    query = parse_qs(urlsplit(value).query) if isinstance(value, str) else {}
    skip = _int_or_none(query.get("skip", [""])[0])
    limit = _int_or_none(query.get("limit", [""])[0])
    if skip is None or skip < 0:
        skip = fallback_skip
    if limit is not None and limit <= 0:
        limit = None
    return skip, limit


@dataclass(frozen=True)
class FailedUrl:
    id: str
    timestamp: datetime | None
    url: str
    code: str | None
    error: str


@dataclass(frozen=True)
class ErrorsListing:
    errors: list[FailedUrl]
    robots_blocked: list[str]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ErrorsListing:
        errors = payload.get("errors", [])
        blocked = payload.get("robotsBlocked", [])
        if not isinstance(errors, list) or not isinstance(blocked, list):
            raise InvalidResponse("Firecrawl's list of failed URLs has an unexpected shape")
        return cls(
            errors=[
                FailedUrl(
                    id=_text(item.get("id")),
                    timestamp=_datetime_or_none(item.get("timestamp")),
                    url=_text(item.get("url")),
                    code=_str_or_none(item.get("code")),
                    error=_text(item.get("error")),
                )
                for item in errors
                if isinstance(item, dict)
            ],
            robots_blocked=[url for url in blocked if isinstance(url, str)],
        )


@dataclass(frozen=True)
class CreditUsage:
    """Remaining credits; all None when the server has no billing (self-hosted answers 500)."""

    remaining_credits: int | None
    plan_credits: int | None
    billing_period_start: datetime | None
    billing_period_end: datetime | None

    @property
    def known(self) -> bool:
        return self.remaining_credits is not None

    @classmethod
    def unknown(cls) -> CreditUsage:
        return cls(None, None, None, None)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> CreditUsage:
        data = payload.get("data")
        if not isinstance(data, dict):
            raise InvalidResponse("Firecrawl's credit usage response has no data")

        # v1 answers snake_case and v2 camelCase; reading both survives a mislabelled version.
        def pick(snake: str, camel: str) -> Any:
            return data.get(snake) if data.get(snake) is not None else data.get(camel)

        return cls(
            remaining_credits=_int_or_none(pick("remaining_credits", "remainingCredits")),
            plan_credits=_int_or_none(pick("plan_credits", "planCredits")),
            billing_period_start=_datetime_or_none(
                pick("billing_period_start", "billingPeriodStart")
            ),
            billing_period_end=_datetime_or_none(pick("billing_period_end", "billingPeriodEnd")),
        )


@dataclass(frozen=True)
class StartedJob:
    id: str
    url: str
    invalid_urls: list[str]


# ---------------------------------------------------------------------------------------------
# The client


class FirecrawlClient:
    """One Firecrawl key on one server. GETs retry; POST and DELETE never do (not idempotent).

    Holds one requests.Session for connection reuse, so use one client per thread.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        api_version: str = "v1",
        *,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        max_retries: int = 4,
        backoff_base: float = 1.0,
        max_wait: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_request: Callable[[str, str], None] | None = None,
    ) -> None:
        if api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be 'v1' or 'v2', not {api_version!r}")
        parts = urlsplit(api_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("api_url must be an http(s) URL such as https://api.firecrawl.dev")
        path = parts.path.rstrip("/")
        # People paste the URL from the docs, version included; the version is a separate setting.
        path = re.sub(r"/v[12]$", "", path)
        self.api_url = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        # Userinfo in a URL is a secret too: never show it in messages.
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        self._display_url = urlunsplit((parts.scheme, host, path, "", ""))
        self.api_version = api_version
        self._api_key = api_key
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = float(backoff_base)
        self.max_wait = float(max_wait)
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._on_request = on_request
        self._headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def __repr__(self) -> str:
        return (
            f"FirecrawlClient(api_url={self._display_url!r}, api_version={self.api_version!r}, "
            f"api_key={mask_key(self._api_key)!r})"
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def job_status(
        self, job_id: str, skip: int = 0, limit: int | None = None, *, kind: str = "batch"
    ) -> StatusPage:
        """One page of a job's status and results, starting at document offset `skip`."""
        if skip < 0:
            raise ValueError("skip must be >= 0")
        params: dict[str, int] = {"skip": skip}
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

    def errors(self, job_id: str, *, kind: str = "batch") -> ErrorsListing:
        """The job's failed URLs and robots-blocked URLs (they never appear among documents)."""
        path = self._job_path(job_id, kind) + "/errors"
        try:
            payload = self._call("GET", path)
        except NotFound as exc:
            # The 2025 server has no /v2/batch/scrape/{id}/errors route (an HTML 404, no JSON
            # error); its /crawl/{id}/errors accepts batch ids.
            if kind != "batch" or exc.api_message is not None:
                raise
            payload = self._call("GET", self._job_path(job_id, "crawl") + "/errors")
        return ErrorsListing.from_payload(payload)

    def cancel(self, job_id: str, *, kind: str = "batch") -> str:
        """Cancel a job; returns the upstream status ("cancelled"). Never retried."""
        payload = self._call("DELETE", self._job_path(job_id, kind))
        status = payload.get("status")
        if isinstance(status, str):
            return status
        if payload.get("success") is True:
            return "cancelled"
        raise InvalidResponse("Firecrawl's answer to the cancel request has no status")

    def credit_usage(self) -> CreditUsage:
        """Remaining credits of the key's team, or all-None when the server has no billing."""
        try:
            payload = self._call("GET", f"/{self.api_version}/team/credit-usage", retry_5xx=False)
        except UpstreamError as exc:
            # Self-hosted servers answer 500 here by design: credits are unknown, the key is fine.
            logger.info("Firecrawl credit usage unavailable (%s)", exc.status_code)
            return CreditUsage.unknown()
        return CreditUsage.from_payload(payload)

    def start_batch(self, urls: list[str], **options: Any) -> StartedJob:
        """Start a batch scrape; `options` are extra body fields (formats…). Never retried."""
        body = {**options, "urls": list(urls)}
        payload = self._call(
            "POST",
            f"/{self.api_version}/batch/scrape",
            body=body,
            failure="Firecrawl did not start the batch",
        )
        job_id = payload.get("id")
        if not isinstance(job_id, str) or not _UUID_EXACT.fullmatch(job_id):
            raise InvalidResponse("Firecrawl started a batch but sent no valid job id")
        invalid = payload.get("invalidURLs")
        return StartedJob(
            id=job_id.lower(),
            url=_text(payload.get("url")),
            invalid_urls=[u for u in invalid if isinstance(u, str)]
            if isinstance(invalid, list)
            else [],
        )

    # -- plumbing ------------------------------------------------------------------------------

    def _job_path(self, job_id: str, kind: str) -> str:
        segment = JOB_KINDS.get(kind)
        if segment is None:
            raise ValueError(f"kind must be one of {sorted(JOB_KINDS)}, not {kind!r}")
        # Only a validated UUID reaches the path, so no pasted text can inject path or query parts.
        candidate = job_id.strip() if isinstance(job_id, str) else ""
        if not _UUID_EXACT.fullmatch(candidate):
            raise BadRequest("That is not a valid Firecrawl job id: expected a UUID")
        return f"/{self.api_version}/{segment}/{candidate.lower()}"

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, int] | None = None,
        body: dict[str, Any] | None = None,
        retry_5xx: bool = True,
        failure: str = "Firecrawl reported a failure",
    ) -> dict[str, Any]:
        url = self.api_url + path
        retries = self.max_retries if method == "GET" else 0
        invalid_retries = _INVALID_BODY_RETRIES
        attempt = 0
        while True:
            try:
                return self._attempt(method, url, params, body, failure)
            except _RateLimitHint as hint:
                wait = hint.seconds if hint.seconds is not None else self._backoff_cap(attempt)
                if wait > self.max_wait or attempt >= retries:
                    self._log_give_up(method, path, attempt, "rate limited (429)")
                    raise RateLimited(wait, api_message=hint.api_message) from None
                if hint.seconds is None:
                    wait = random.uniform(0, wait)
                reason = "rate limited (429)"
            except Unreachable as exc:
                if attempt >= retries or not exc.retryable:
                    self._log_give_up(method, path, attempt, exc.message)
                    raise
                wait, reason = self._jittered(attempt), exc.message
            except UpstreamError as exc:
                if attempt >= retries or not retry_5xx:
                    self._log_give_up(method, path, attempt, exc.message)
                    raise
                wait, reason = self._jittered(attempt), exc.message
            except InvalidResponse as exc:
                if attempt >= retries or not exc.transient or invalid_retries <= 0:
                    self._log_give_up(method, path, attempt, exc.message)
                    raise
                invalid_retries -= 1
                wait, reason = self._jittered(attempt), exc.message
            attempt += 1
            logger.info(
                "Firecrawl %s %s: %s; retry %d of %d in %.1f s",
                method,
                path,
                reason,
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
        return float(min(self.max_wait, self.backoff_base * 2**attempt))

    def _jittered(self, attempt: int) -> float:
        # Full jitter: clients polling the same team do not retry in lockstep.
        return random.uniform(0, self._backoff_cap(attempt))

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, int] | None,
        body: dict[str, Any] | None,
        failure: str,
    ) -> dict[str, Any]:
        if self._on_request is not None:
            shown = (
                url if not params else f"{url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
            )
            self._on_request(method, shown)
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                json=body,
                headers=self._headers,
                timeout=self.timeout,
                # The API never redirects; a redirect means a wrong URL, and following it could
                # carry the key to another host.
                allow_redirects=False,
                stream=True,
            )
            # The body in one read: requests' .content reads it in 10 KB chunks, a Python loop
            # that costs the sync more CPU than parsing the page.
            with response:
                content = response.raw.read(decode_content=True)
        except _BAD_URL_ERRORS:
            raise Unreachable(
                f"The Firecrawl API URL {self._display_url} is not usable", retryable=False
            ) from None
        except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
            raise Unreachable(
                f"Firecrawl at {self._display_url} did not answer in time (timed out)"
            ) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError):
            raise Unreachable(
                f"The connection to Firecrawl at {self._display_url} dropped mid-response"
            ) from None
        except _TRANSPORT_ERRORS as exc:
            raise Unreachable(
                f"Could not reach Firecrawl at {self._display_url} ({_transport_reason(exc)})"
            ) from None
        return self._interpret(response, content, failure)

    def _interpret(
        self, response: requests.Response, content: bytes, failure: str
    ) -> dict[str, Any]:
        status = response.status_code
        payload, problem = _decode(content, response.headers.get("Content-Type", ""))
        api_message = self._scrub(_api_message(payload))
        if 200 <= status < 300:
            if problem is not None:
                raise InvalidResponse(problem, status_code=status, transient=True)
            if not isinstance(payload, dict):
                raise InvalidResponse(
                    "Firecrawl answered with JSON that is not an object", status_code=status
                )
            if payload.get("success") is False:
                job_status = _str_or_none(payload.get("status"))
                detail = api_message or (f'status "{job_status}"' if job_status else None)
                raise InvalidResponse(
                    f"{failure}: {detail}" if detail else failure,
                    status_code=status,
                    api_message=api_message,
                    job_status=job_status,
                )
            return payload
        self._raise_for_status(response, status, api_message)

    def _raise_for_status(
        self, response: requests.Response, status: int, api_message: str | None
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
            expired = api_message is not None and "expired" in api_message.lower()
            raise NotFound(
                "Job expired upstream" if expired else "Job not found upstream", **common
            )
        if status == 400:
            raise BadRequest(f"Firecrawl rejected the request (400){detail}", **common)
        if status == 409:
            raise Conflict(f"Firecrawl refused the request (409){detail}", **common)
        if status == 429:
            raise _RateLimitHint(_retry_after(response, api_message), api_message)
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


def _decode(content: bytes, content_type: str) -> tuple[Any, str | None]:
    """Parse the body as JSON; on failure return why, phrased for the user."""
    if not content.strip():
        return None, "Firecrawl answered with an empty body"
    try:
        # Status pages keep each document's JSON text beside the parsed object (see jsontext).
        return jsontext.loads(content), None
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
    error = payload.get("error")
    if isinstance(error, str) and error:
        return error[:500]
    message = payload.get("message")
    return message[:500] if isinstance(message, str) and message else None


def _retry_after(response: requests.Response, api_message: str | None) -> float | None:
    header = response.headers.get("Retry-After", "").strip()
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, (when - datetime.now(UTC)).total_seconds())
    # Firecrawl sends no header, but says "please retry after 12s" in the error text.
    match = _RETRY_AFTER_TEXT.search(api_message or "")
    return float(match.group(1)) if match else None


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
