"""How bytes come off a Firecrawl connection: never more than a cap, never after a deadline.

requests' timeouts apply to each socket read, so a server that sends one byte every few seconds
holds a call for as long as it likes, headers included. Here every read of the socket (status
line, headers, body) is given only the time the whole call has left; the body is read in large
chunks, counted after decompression, and refused past a cap.

Only gzip is asked for, and it is inflated here rather than by urllib3: urllib3 2.8's decoder
bounds each read, but on a body of several gzip members (valid gzip, and a hostile server's
choice) it replays the members after a boundary that falls on a read boundary, forever, doubling
its buffer at every read: a 4 MB body exhausted memory before any cap could be counted.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions

# Large reads, joined once: requests' own 10 KB loop costs more CPU than parsing the page.
# No compressed chunk inflates to more than this at once either.
CHUNK_BYTES = 2**20
ACCEPT_ENCODING = "gzip"


class DeadlinePassed(Exception):
    """Internal: the call's time ran out between two chunks of a body."""


class TooLarge(Exception):
    """Internal: a body went past the cap."""


class UnaskedEncoding(Exception):
    """Internal: the body came in a Content-Encoding that was not asked for."""


class Deadline:
    """The moment a whole call (attempts, retries and waits) must be over by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def left(self) -> float:
        return self._at - time.monotonic()

    def passed(self) -> bool:
        # A socket timeout set to the time left may fire a hair early (the poll rounds to ms).
        return self.left() < 0.01


# The deadline and read timeout of the call in progress on this thread (each thread has its own
# context, and a client is used by one thread at a time).
_current: ContextVar[tuple[Deadline, float] | None] = ContextVar("firecrawl_call", default=None)


@contextmanager
def bounded_by(deadline: Deadline, read_timeout: float) -> Iterator[None]:
    """Make every socket read of responses opened inside this block respect `deadline`."""
    token = _current.set((deadline, read_timeout))
    try:
        yield
    finally:
        _current.reset(token)


class _DeadlineSocketReader(io.RawIOBase):
    """A response's socket reads, each allowed only the time its call has left."""

    def __init__(self, sock: socket.socket, deadline: Deadline, read_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._io = sock.makefile("rb", buffering=0)
        self._deadline = deadline
        self._read_timeout = read_timeout

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        left = self._deadline.left()
        if left <= 0:
            raise TimeoutError("the call's deadline passed")
        self._sock.settimeout(min(self._read_timeout, left))
        return self._io.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._io.close()
        super().close()


class _HTTPResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        call = _current.get()
        if call is not None:
            self.fp.close()
            self.fp = io.BufferedReader(_DeadlineSocketReader(sock, *call))


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _HTTPResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _HTTPResponse


class _HTTPConnectionPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {
    "http": _HTTPConnectionPool,
    "https": _HTTPSConnectionPool,
}


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.ProxyManager:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has connection classes of its own
            manager.pool_classes_by_scheme = _POOLS
        return manager


def new_session() -> requests.Session:
    session = requests.Session()
    adapter = _Adapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def read_body(raw: urllib3.BaseHTTPResponse, *, limit: int, deadline: Deadline) -> bytes:
    """The body, inflated if gzipped, read in large chunks; TooLarge past `limit` bytes."""
    return b"".join(iter_body(raw, limit=limit, deadline=deadline))


def iter_body(raw: urllib3.BaseHTTPResponse, *, limit: int, deadline: Deadline) -> Iterator[bytes]:
    """The body in pieces as it arrives, inflated if gzipped (for a caller that parses as it
    reads); TooLarge past `limit` bytes, DeadlinePassed past the deadline."""
    encoding = raw.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise UnaskedEncoding(encoding)
    gunzip = _Gunzip() if encoding.endswith("gzip") else None
    size = 0
    while True:
        if deadline.passed():
            raise DeadlinePassed
        data = raw.read(CHUNK_BYTES, decode_content=False)
        for piece in gunzip.feed(data) if gunzip else (data,):
            size += len(piece)
            if size > limit:
                raise TooLarge
            yield piece
        if not data:
            return


class _Gunzip:
    """Inflates gzip of any number of members, never more than CHUNK_BYTES at once."""

    def __init__(self) -> None:
        self._member = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._member_started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The output of `data` in pieces (b"": the body has ended)."""
        try:
            if not data:
                if self._member_started and not self._member.eof:
                    raise zlib.error("the body ends inside a gzip member")
                yield self._member.flush()
            while data:
                self._member_started = True
                yield self._member.decompress(data, CHUNK_BYTES)
                if not self._member.eof:
                    data = self._member.unconsumed_tail
                    continue
                data = self._member.unused_data
                if not data.strip(b"\0"):
                    data = b""  # zero padding after the last member, which gunzip ignores
                self._member = zlib.decompressobj(zlib.MAX_WBITS | 16)
                self._member_started = False
        except zlib.error as exc:
            raise urllib3.exceptions.DecodeError(f"invalid gzip body ({exc})") from None
