"""The simulator's HTTP listeners: a threaded HTTP/1.1 server that hands each request to a
function and writes back the `Response` it gets, whole, streamed, trickled or cut short."""

from __future__ import annotations

import random
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakecrawl import faults
from fakecrawl.faults import JSON, Response

# (method, target, headers, body) -> Response
Handler = Callable[[str, str, dict[str, str], bytes], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    allow_reuse_address = True
    handle: Handler

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a read timeout in a test) is normal here, not worth a traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = 120  # close idle keep-alive connections eventually

    def setup(self) -> None:
        super().setup()
        # Without this, a header write then a body write can stall 40 ms on delayed ACKs.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(head=True)

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

    def _serve(self, head: bool = False) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        method = "GET" if head else self.command
        try:
            response = self.server.handle(method, self.path, dict(self.headers), body)
        except Exception:
            traceback.print_exc()
            response = Response(500, faults.unknown_error_body(random.Random()), JSON)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        chunked = response.chunks is not None and response.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            size = response.length if response.chunks is not None else len(response.body)
            self.send_header("Content-Length", str(size))
        self.send_header("Access-Control-Allow-Origin", "*")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head:
            if response.chunks is not None:
                self.close_connection = True  # the body was never generated
            return
        pieces: Iterable[bytes] = (
            response.chunks if response.chunks is not None else [response.body]
        )
        if response.truncate_to is not None:
            self.wfile.write(response.body[: response.truncate_to])
            self.wfile.flush()
            self.close_connection = True
            return
        if response.trickle is not None:
            pieces = _trickled(pieces, *response.trickle)
        for piece in pieces:
            if not piece:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.wfile.write(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")


def _trickled(pieces: Iterable[bytes], seconds: float, count: int) -> Iterator[bytes]:
    """The same bytes, in `count` parts, each after its share of `seconds` (real time)."""
    data = b"".join(pieces)
    step = max(1, -(-len(data) // count))
    for start in range(0, len(data), step):
        time.sleep(seconds / count)
        yield data[start : start + step]


class Listener:
    """One HTTP server in a daemon thread, answering through `handle`."""

    def __init__(self, handle: Handler, host: str, port: int, name: str) -> None:
        self._server = _Server((host, port), _RequestHandler)
        self._server.handle = handle
        self.port: int = self._server.server_address[1]
        # stop() waits for the loop's current poll: 10 ms keeps a test's teardown short, for
        # 0.3% of a core while the simulator idles (50 ms cost every test 50 ms).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
