"""Faults the simulator can inject into its next matching responses, shaped like the real thing.

`sim.inject(Fault.rate_limit(), count=2)` makes the next two requests answer 429 as Firecrawl does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One kind of misbehaviour; build it with the class methods."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def rate_limit(cls, retry_after: int | None = None, wait_text: int | None = 12) -> Fault:
        """429 with Firecrawl's text; a Retry-After header only when `retry_after` is given."""
        return cls("rate_limit", {"retry_after": retry_after, "wait_text": wait_text})

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """500: Firecrawl's UNKNOWN_ERROR JSON; 502/503/504: a proxy's HTML or text page."""
        return cls("server_error", {"status": status})

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait `seconds` of real time, then answer normally."""
        return cls("slow", {"seconds": seconds})

    @classmethod
    def drop(cls) -> Fault:
        """Send the headers and part of the body, then close the connection."""
        return cls("drop")

    @classmethod
    def invalid_json(cls) -> Fault:
        """200 with the normal body cut in half (a consistent Content-Length)."""
        return cls("invalid_json")

    @classmethod
    def html_error_page(cls, status: int = 200) -> Fault:
        """An HTML page (text/html) instead of JSON, as a captive portal or proxy sends."""
        return cls("html_error_page", {"status": status})

    @classmethod
    def success_false(cls) -> Fault:
        """200 with `success:false` and `status:"failed"`, like a failed kickoff."""
        return cls("success_false")

    @classmethod
    def foreign_next(cls, host: str = "http://evil.invalid:9") -> Fault:
        """The normal page, but `next` names a foreign host (with the correct skip)."""
        return cls("foreign_next", {"host": host.rstrip("/")})

    @classmethod
    def not_found(cls) -> Fault:
        """404 Job not found, as in the first seconds after a job was created."""
        return cls("not_found")


@dataclass
class QueuedFault:
    fault: Fault
    remaining: int
    job_id: str | None
    path_contains: str | None
    method: str | None = None

    def matches(self, target: str, method: str = "GET") -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.job_id is not None and self.job_id not in target:
            return False
        return self.path_contains is None or self.path_contains in target


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None  # drop the connection after this many body bytes


JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def exception_id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def unknown_error_body(rng: random.Random) -> bytes:
    """Self-hosted servers' 500 body (skip=-5, credit-usage without billing)."""
    return (
        '{"success":false,"code":"UNKNOWN_ERROR","error":"An error occurred. Please check your '
        f'logs for more details. Error ID: {exception_id(rng)}"}}'
    ).encode()


def rate_limit_response(fault: Fault, resets_at: str) -> Response:
    text = (
        "Rate limit exceeded. Consumed (req/min): 501, Remaining (req/min): 0. Upgrade your plan "
        "at https://firecrawl.dev/pricing for increased rate limits"
    )
    wait = fault.params.get("wait_text")
    if wait is not None:
        text += f" or please retry after {wait}s, resets at {resets_at}"
    body = ('{"success":false,"error":"' + text + '"}').encode()
    headers = {}
    if fault.params.get("retry_after") is not None:
        headers["Retry-After"] = str(fault.params["retry_after"])
    return Response(429, body, JSON, headers)


def server_error_response(fault: Fault, rng: random.Random) -> Response:
    status = int(fault.params.get("status", 500))
    if status == 500:
        body = (
            '{"success":false,"code":"UNKNOWN_ERROR","error":"An unexpected error occurred. Please '
            f'contact help@firecrawl.com for help. Your exception ID is {exception_id(rng)}"}}'
        ).encode()
        return Response(500, body, JSON)
    if status == 502:
        page = (
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return Response(502, page.encode(), HTML)
    reason = {503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Error")
    return Response(status, f"{reason}\n".encode(), "text/plain; charset=utf-8")


def html_page_response(fault: Fault) -> Response:
    status = int(fault.params.get("status", 200))
    page = (
        "<!DOCTYPE html>\n<html><head><title>Something went wrong</title></head>\n<body>"
        "<h1>Something went wrong</h1><p>The upstream service is temporarily unavailable. "
        "Please try again in a few minutes.</p></body></html>\n"
    )
    return Response(status, page.encode(), HTML)


SUCCESS_FALSE_BODY = (
    b'{"success":false,"status":"failed","error":"Batch scrape job failed to start. '
    b'Please try again later."}'
)
