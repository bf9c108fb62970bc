"""Webhooks of the Firecrawl simulator, sent as the server's code sends them.

Read from the 2026 server (apps/api/src/services/webhook/, the batch-scrape controllers,
services/worker/scrape-worker.ts and crawl-logic.ts):
- Where to: the start request's `webhook` (a URL, or `{url, headers, metadata, events}`), else the
  server-wide `SELF_HOSTED_WEBHOOK_URL` with `{{JOB_ID}}` replaced. The server-wide URL only ever
  receives `page` events: `started` and `completed` are sent only when the start request carried
  a webhook of its own (the call sites check `req.body.webhook` / `job.data.webhook`).
- What: `POST` of `{success, type, id, webhookId, data, error?, metadata}` (JSON.stringify: no
  spaces, `error` left out when absent, `metadata` `{}` by default), `type` `batch_scrape.*` or
  `crawl.*`: `started` (data `[]`), `page` per URL (data `[document]`, or for a failed URL
  `success:false`, `error` and `data:[{metadata:{sourceURL}}]`, cancelled URLs included),
  `completed` (data `[]`, also after a cancel). There is no `failed` event for these jobs.
  `webhookId` is a fresh UUID per delivery. `events` filters by short or full name; `[]` sends all.
- How: headers `Content-Type: application/json`, then the webhook's own headers, then
  `X-Firecrawl-Signature: sha256=<hex HMAC-SHA256 of the body>` when there is a secret (hosted:
  the team's; self-hosted: SELF_HOSTED_WEBHOOK_HMAC_SECRET); a 10 s timeout; any answer but 2xx
  is a failure; no retry; in the background (the job never waits for the receiver). A literal
  private or loopback address is skipped, and a host name that resolves to one is cut off at
  connect, unless ALLOW_LOCAL_WEBHOOKS is on.

Here, each job's deliveries go out one after another, in the order the events happened (the real
server fires them independently, so a receiver may see them in any order); jobs are spread over
a few delivery threads. Every attempt is recorded (`WebhookDelivery`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit

EVENTS = ("completed", "failed", "page", "started")
# What undici's fetch adds to every request (Node's own fetch says "node" instead of "undici").
FETCH_HEADERS = {
    "accept": "*/*",
    "accept-language": "*",
    "sec-fetch-mode": "cors",
    "user-agent": "undici",
    "accept-encoding": "gzip, deflate",
}
DELIVERY_THREADS = 4


@dataclass(frozen=True)
class WebhookConfig:
    """A start request's `webhook` once the server parsed it (defaults filled in)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    events: tuple[str, ...] = EVENTS

    @classmethod
    def parse(cls, value: Any) -> WebhookConfig:
        """A `webhook` value the validation accepted: a URL string or the object."""
        if isinstance(value, str):
            value = {"url": value}
        return cls(
            url=str(value["url"]).strip(),
            headers=dict(value.get("headers") or {}),
            metadata=dict(value.get("metadata") or {}),
            events=tuple(value.get("events", EVENTS)),
        )

    def wants(self, event_type: str, mode: str) -> bool:
        """webhookEventMatchesFilter: the full name, or what follows the first dot."""
        if not self.events:
            return mode == "2026"  # an empty list: everything (2026), nothing (2025)
        suffix = event_type.split(".", 1)[1]
        return event_type in self.events or suffix in self.events


def event_type(job_kind: str, event: str) -> str:
    """`crawl.page`, `batch_scrape.started`...: the job's kind names the event."""
    return f"{'crawl' if job_kind == 'crawl' else 'batch_scrape'}.{event}"


def payload(
    *,
    success: bool,
    type_: str,
    job_id: str,
    webhook_id: str,
    data: bytes,
    error: str | None,
    metadata: dict[str, str],
) -> bytes:
    """The body as JSON.stringify writes the server's payload object; `data` is already JSON."""

    def dump(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    parts = [
        b'{"success":',
        b"true" if success else b"false",
        b',"type":',
        dump(type_),
        b',"id":',
        dump(job_id),
        b',"webhookId":',
        dump(webhook_id),
        b',"data":',
        data,
    ]
    if error is not None:
        parts.extend([b',"error":', dump(error)])
    parts.extend([b',"metadata":', dump(metadata), b"}"])
    return b"".join(parts)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookDelivery:
    """One delivery attempt, as a test reads it from `sim.webhook_deliveries`.

    outcome: "delivered" (a 2xx), "failed" (another status, a timeout, a connection error),
    "refused" (a private or loopback receiver while local webhooks are not allowed) or "dropped"
    (never sent: the simulator's drop switch). status: the receiver's HTTP status, if any.
    fired_at: the sim time the event happened.
    """

    job_id: str
    type: str
    url: str
    headers: dict[str, str]
    body: bytes
    outcome: str
    status: int | None
    error: str | None
    fired_at: float

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Outgoing:
    job_id: str
    type: str
    url: str
    headers: dict[str, str]
    body: bytes
    fired_at: float
    dropped: bool


def _is_local(address: str) -> bool:
    """ipaddr.js's `range() !== "unicast"`: loopback, private, link-local and the like."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


class Dispatcher:
    """Sends queued deliveries in the background: one job's in order, jobs side by side."""

    def __init__(self, allow_local: Callable[[], bool], timeout: Callable[[], float]) -> None:
        self._allow_local = allow_local
        self._timeout = timeout
        self._cond = threading.Condition()
        self._lanes: list[deque[Outgoing]] = [deque() for _ in range(DELIVERY_THREADS)]
        self._threads: list[threading.Thread] = []
        self._unfinished = 0  # queued or being sent
        self._stopping = False
        self.records: list[WebhookDelivery] = []

    def submit(self, outgoing: Outgoing) -> None:
        lane = zlib.crc32(outgoing.job_id.encode()) % DELIVERY_THREADS
        with self._cond:
            if self._stopping:
                return
            if not self._threads:
                for n in range(DELIVERY_THREADS):
                    thread = threading.Thread(
                        target=self._run, args=(n,), name=f"fakecrawl-webhooks-{n}", daemon=True
                    )
                    self._threads.append(thread)
                    thread.start()
            self._lanes[lane].append(outgoing)
            self._unfinished += 1
            self._cond.notify_all()

    def deliveries(self) -> list[WebhookDelivery]:
        with self._cond:
            return list(self.records)

    def clear(self) -> None:
        with self._cond:
            self.records.clear()

    def wait_idle(self, timeout: float) -> bool:
        """Whether every queued delivery was attempted within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._unfinished:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=1)  # one still waiting on a receiver ends on its own timeout

    def _run(self, lane: int) -> None:
        while True:
            with self._cond:
                while not self._lanes[lane] and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                outgoing = self._lanes[lane].popleft()
            record = self._attempt(outgoing)
            with self._cond:
                self.records.append(record)
                self._unfinished -= 1
                self._cond.notify_all()

    def _attempt(self, out: Outgoing) -> WebhookDelivery:
        def done(outcome: str, status: int | None = None, error: str | None = None) -> Any:
            return WebhookDelivery(
                out.job_id, out.type, out.url, out.headers, out.body, outcome, status, error,
                out.fired_at,
            )  # fmt: skip

        if out.dropped:
            return done("dropped")
        parts = urlsplit(out.url)
        host = parts.hostname or ""
        allow_local = self._allow_local()
        if _is_local(host) and not allow_local:
            return done("refused", error="Aborting webhook call to private IP address")
        if parts.scheme not in ("http", "https") or not host:
            return done("failed", error="fetch failed: unsupported URL")
        timeout = self._timeout()
        connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        connection = connection_class(host, parts.port, timeout=timeout)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        # The server aborts the whole request after the timeout, however the bytes trickle in.
        expired = threading.Event()
        watchdog = threading.Timer(timeout, _abort, args=(connection, expired))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.connect()
            peer = connection.sock.getpeername()[0] if connection.sock else ""
            if _is_local(peer) and not allow_local:
                return done("refused", error="InsecureConnectionError")
            connection.request("POST", path, body=out.body, headers=out.headers)
            status = connection.getresponse().status  # fetch resolves on the headers
        except (OSError, HTTPException) as exc:
            timed_out = expired.is_set() or isinstance(exc, TimeoutError)
            return done("failed", error="The operation was aborted" if timed_out else repr(exc))
        finally:
            watchdog.cancel()
            connection.close()
        if not 200 <= status < 300:
            return done("failed", status, f"Unexpected response status: {status}")
        return done("delivered", status)


def _abort(connection: HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
