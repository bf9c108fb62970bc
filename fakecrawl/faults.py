"""Faults the simulator can inject into its next matching responses, shaped like the real thing.

`sim.inject(Fault.rate_limit(), count=2)` makes the next two requests answer 429 as Firecrawl does;
`count=None` keeps a fault until `clear_faults()`, `api_key=` aims it at one key (a hostile
upstream for one user), `on="storage"` at the screenshot storage host. Besides the misbehaviours
of one response there are floods that make a listing or `/errors` huge (`listing_flood`,
`active_flood`, `error_flood`) and the hostile storage answers (`not_an_image`, `oversize_image`,
`redirect`); `slow` and `trickle` work on either host.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Where a fault applies: the API listener, or the screenshot storage listener.
API = "api"
STORAGE = "storage"
# Faults that only make sense on one route, so that an unaimed one waits for that route.
ROUTE_OF_KIND = {
    "listing_flood": ("/team/activity",),
    "active_flood": ("/crawl/active", "/crawl/ongoing"),
    "error_flood": ("/errors",),
}


@dataclass(frozen=True)
class Fault:
    """One kind of misbehaviour; build it with the class methods."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """The listener a fault aims at unless `inject(on=...)` says otherwise."""
        return STORAGE if self.kind in ("not_an_image", "oversize_image", "redirect") else API

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

    @classmethod
    def trickle(cls, seconds: float, pieces: int = 20) -> Fault:
        """The normal answer, its body sent in `pieces` spread over `seconds` of real time (a
        slow host that a per-read timeout never catches, only a whole-fetch deadline)."""
        return cls("trickle", {"seconds": seconds, "pieces": max(pieces, 1)})

    # Listings and failures far larger than a client should accept.

    @classmethod
    def listing_flood(
        cls, items: int = 1000, *, pages: int | None = None, target_chars: int | None = None
    ) -> Fault:
        """GET /v2/team/activity answers `items` made-up jobs per page whatever `limit` says,
        with a cursor to the next page: endlessly (`pages=None`) or for `pages` pages. The
        first item's `target` is `target_chars` long when given (a 15 MB target)."""
        return cls("listing_flood", {"items": items, "pages": pages, "target_chars": target_chars})

    @classmethod
    def active_flood(cls, crawls: int = 5000, *, url_chars: int | None = None) -> Fault:
        """GET /v{1,2}/crawl/active lists `crawls` made-up running crawls before the real ones;
        the first one's `url` is `url_chars` long when given."""
        return cls("active_flood", {"crawls": crawls, "url_chars": url_chars})

    @classmethod
    def error_flood(
        cls,
        entries: int = 200_000,
        *,
        fresh_ids: bool = False,
        error_chars: int | None = None,
        url_chars: int | None = None,
    ) -> Fault:
        """GET .../{id}/errors lists `entries` made-up failed URLs after the job's real ones,
        sent chunked as they are generated. fresh_ids: new ids on every read (a list that never
        settles). error_chars, url_chars: the first made-up entry's `error` and `url` that long
        (a 30 MB message, a 5 MB URL)."""
        params = {
            "entries": entries,
            "fresh_ids": fresh_ids,
            "error_chars": error_chars,
            "url_chars": url_chars,
        }
        return cls("error_flood", params)

    # The screenshot storage host (aimed at it by default: `inject(Fault.not_an_image(), ...)`).

    @classmethod
    def not_an_image(cls) -> Fault:
        """200 with `Content-Type: image/png` but an HTML page as the bytes."""
        return cls("not_an_image")

    @classmethod
    def oversize_image(cls, size: int = 64 * 1024 * 1024, *, declare_length: bool = True) -> Fault:
        """200 with a valid PNG of `size` bytes, streamed; without `Content-Length` (chunked)
        when declare_length is False, so only counting the bytes can stop it."""
        return cls("oversize_image", {"size": size, "declare_length": declare_length})

    @classmethod
    def redirect(cls, to: str | None = None, status: int = 302) -> Fault:
        """A redirect to the same path on another host: `to` (a base URL), by default the
        storage listener under another name (`localhost` for `127.0.0.1`), so following it
        would fetch a real image from a host that is not the one named in the document."""
        return cls("redirect", {"to": to, "status": status})


@dataclass
class QueuedFault:
    fault: Fault
    remaining: int | None  # None: until cleared
    job_id: str | None
    path_contains: str | None
    method: str | None = None
    api_key: str | None = None
    on: str = API

    def matches(
        self, target: str, method: str = "GET", api_key: str | None = None, on: str = API
    ) -> bool:
        if self.on != on:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.api_key is not None and self.api_key != api_key:
            return False
        if self.job_id is not None and self.job_id not in target:
            return False
        if self.path_contains is not None:
            return self.path_contains in target
        routes = ROUTE_OF_KIND.get(self.fault.kind)
        return routes is None or any(route in target for route in routes)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None  # drop the connection after this many body bytes
    # A body too large to hold: sent as generated, with Content-Length when `length` is known,
    # else chunked. `body` is then ignored.
    chunks: Iterable[bytes] | None = None
    length: int | None = None
    trickle: tuple[float, int] | None = None  # (seconds, pieces) to spread the body over


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
