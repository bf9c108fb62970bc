"""A malicious Firecrawl stand-in: a real HTTP server whose answers attack the client.

Bodies that inflate to gigabytes, never end, or trickle in a byte at a time, and JSON whose
values no real server would send. Each reply is registered for one path (usually a job's status
path); every large body is generated as it is sent, so the server never holds more than a chunk.

Run as `python -m tests.hostile URL JOB_ID` it is the child process of the memory tests: it
reads one status page with a default client under a hard address-space ceiling, and prints what
happened (and, for whoever reads it, its peak memory).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import resource
import subprocess
import sys
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self

Reply = Callable[[BaseHTTPRequestHandler], None]

MIB = 2**20
_ZEROS = bytes(MIB)


class HostileFirecrawl:
    """Serves the registered reply for each path; any other path gets Express's HTML 404."""

    def __init__(self) -> None:
        self._replies: dict[str, Reply] = {}
        self.hits: list[tuple[str, str, dict[str, str]]] = []
        replies, hits = self._replies, self.hits

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                hits.append((self.command, self.path, dict(self.headers.items())))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                reply = replies.get(self.path.partition("?")[0])
                # The client hangs up, as it should on a hostile body.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    (reply or _express_not_found)(self)
                self.close_connection = True

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply(self, path: str, reply: Reply) -> None:
        self._replies[path] = reply

    def job(self, reply: Reply, *, kind: str = "batch/scrape", version: str = "v1") -> str:
        """A new job id whose status path answers with `reply`."""
        job_id = str(uuid.uuid4())
        self.reply(f"/{version}/{kind}/{job_id}", reply)
        return job_id


# ---------------------------------------------------------------------------------------------
# Replies


def json_reply(
    body: bytes | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Reply:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(content)))
        # Every connection serves one request: said, so the client never reuses a closing one.
        handler.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(content)

    return reply


def in_turn(*replies: Reply) -> Reply:
    """Each request gets the next reply; the last one answers every request after that."""
    served = 0
    lock = threading.Lock()

    def reply(handler: BaseHTTPRequestHandler) -> None:
        nonlocal served
        with lock:
            current = replies[min(served, len(replies) - 1)]
            served += 1
        current(handler)

    return reply


def gzip_bomb(inflated: int = 4 * 1024 * MIB) -> Reply:
    """About 1 KB of gzip per MiB of zeros: 4 GiB inflated from a ~4 MB body.

    A gzip body may hold several members one after another (every decoder reads them all), so
    the body is one member, a MiB of zeros with its own CRC, sent again and again: valid from
    the first byte to the last, and never more than one member in memory.
    """
    member = gzip.compress(_ZEROS, 9, mtime=0)
    count = inflated // MIB

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", str(len(member) * count))
        handler.end_headers()
        for _ in range(count):
            handler.wfile.write(member)

    return reply


def endless_gzip() -> Reply:
    """One gzip member of zeros that never ends: the same deflate block, chunk after chunk.

    After a full flush the compressor starts afresh, so compressing the next MiB of zeros gives
    the same bytes again.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    first = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(_ZEROS) + compressor.flush(zlib.Z_FULL_FLUSH)

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(first), first))
        while True:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))

    return reply


def gzip_members(body: bytes, member_size: int, encoding: str = "gzip") -> Reply:
    """`body` gzipped as one member per `member_size` bytes, one after another (valid gzip)."""
    content = b"".join(
        gzip.compress(body[start : start + member_size], mtime=0)
        for start in range(0, len(body), member_size)
    )
    return json_reply(content, headers={"Content-Encoding": encoding})


def plain_flood(size: int = 600 * MIB) -> Reply:
    """A plain body of `size` bytes, announced by Content-Length and sent 1 MiB at a time."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        chunk = b"x" * MIB
        for _ in range(size // MIB):
            handler.wfile.write(chunk)
        handler.wfile.write(b"x" * (size % MIB))

    return reply


def endless_chunks() -> Reply:
    """A chunked body with no last chunk: it ends when the client hangs up."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"%x\r\n%s\r\n" % (MIB, b"[" * MIB)
        while True:
            handler.wfile.write(chunk)

    return reply


def drip_body(interval: float, body: bytes) -> Reply:
    """Headers at once, then the (valid) body one byte every `interval` seconds."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        for byte in body:
            time.sleep(interval)
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()

    return reply


def drip_headers(interval: float, length: int, body: bytes) -> Reply:
    """The status line, then a header `length` bytes long, one byte every `interval` seconds."""

    def reply(handler: BaseHTTPRequestHandler) -> None:
        out = handler.wfile
        out.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        out.write(b"Content-Length: %d\r\nX-Drip: " % len(body))
        out.flush()
        for _ in range(length):
            time.sleep(interval)
            out.write(b"a")
            out.flush()
        out.write(b"\r\n\r\n" + body)

    return reply


def _express_not_found(handler: BaseHTTPRequestHandler) -> None:
    page = f"<!DOCTYPE html>\n<html><body><pre>Cannot {handler.command} {handler.path}</pre>"
    content = page.encode()
    handler.send_response(404)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(content)))
    handler.end_headers()
    handler.wfile.write(content)


# ---------------------------------------------------------------------------------------------
# Bodies


def status_body(**fields: Any) -> dict[str, Any]:
    """A plausible completed status page with one document; `fields` replace or add keys."""
    document = {
        "markdown": "# Hello",
        "metadata": {"sourceURL": "https://a.example/", "statusCode": 200, "scrapeId": "s-1"},
    }
    body: dict[str, Any] = {
        "success": True,
        "status": "completed",
        "completed": 1,
        "total": 1,
        "creditsUsed": 1,
        "expiresAt": "2026-11-29T12:52:33.000Z",
        "data": [document],
    }
    body.update(fields)
    return body


def large_page(size: int = 5 * MIB, documents: int = 50) -> bytes:
    """A normal status page of about `size` bytes of UTF-8, shared by `documents` documents."""
    each = size // documents - 100
    data = [
        {
            "markdown": (f"Page {i}: lorem ipsum dolor sit amet. " * (each // 30))[: each - 8]
            + " café ☕",
            "metadata": {"sourceURL": f"https://a.example/{i}", "statusCode": 200},
        }
        for i in range(documents)
    ]
    body = status_body(completed=documents, total=documents, data=data)
    return json.dumps(body, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------------------------
# Reading in a child process, alone, under a memory ceiling


@dataclass(frozen=True)
class ChildRead:
    outcome: str  # the exception class's name, or "parsed"
    message: str
    documents: int
    baseline_mb: float  # peak resident memory after imports, before the call
    peak_mb: float  # peak resident memory of the whole child
    seconds: float


# A body read past its cap would take the machine's memory with it: the child gets a ceiling.
CHILD_ADDRESS_SPACE = 1024 * MIB


def read_in_child(url: str, job_id: str, timeout: float = 60) -> ChildRead:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-m", "tests.hostile", url, job_id],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"the child failed: {result.stderr[-2000:]}")
    return ChildRead(**json.loads(result.stdout.splitlines()[-1]))


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_main(url: str, job_id: str) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))
    import firecrawl_api
    from firecrawl_api.client import FirecrawlClient

    client = FirecrawlClient(url, "fc-hostile-test", max_retries=0, deadline=30)
    baseline = _peak_mb()
    started = time.monotonic()
    outcome, message, documents = "parsed", "", 0
    try:
        documents = len(client.job_status(job_id, kind="batch").documents)
    except firecrawl_api.FirecrawlError as exc:
        outcome, message = type(exc).__name__, exc.message
    except MemoryError:
        outcome = "MemoryError"
    seconds = time.monotonic() - started
    read = ChildRead(outcome, message, documents, baseline, _peak_mb(), seconds)
    print(json.dumps(read.__dict__))


if __name__ == "__main__":
    _child_main(sys.argv[1], sys.argv[2])
