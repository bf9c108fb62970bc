"""Helpers of the simulator tests: Alice's HTTP view of it, the recorded real responses, and a
real HTTP receiver for its webhooks."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY, BOB_KEY

API_DIR = Path(__file__).resolve().parent / "captures"
SPEC_V2 = API_DIR / "firecrawl-docs" / "api-reference" / "v2-openapi.json"

# The keys the shared `sim` serves (tests/conftest.py).
ALICE = ALICE_KEY
BOB = BOB_KEY


def capture_paths(pattern: str, generation: str = "2026") -> list[Path]:
    """Capture files of one server generation whose names match the glob, in order."""
    return sorted((API_DIR / f"captures-selfhosted-{generation}-08").glob(f"{pattern}.json"))


def record(name: str, generation: str = "2026") -> dict[str, Any]:
    """A whole capture (request, status, headers, body_raw), by file-name prefix."""
    (path,) = capture_paths(f"{name}*", generation)
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def capture(name: str, generation: str = "2026") -> tuple[int, Any]:
    """(status, parsed body) of a capture, by file-name prefix."""
    recorded = record(name, generation)
    return recorded["status"], json.loads(recorded["body_raw"])


def shape(value: Any) -> Any:
    """Key order and JSON types, without the values."""
    if isinstance(value, dict):
        return [(key, shape(item)) for key, item in value.items()]
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def head(body: dict[str, Any]) -> dict[str, Any]:
    """A status body without its documents."""
    return {key: value for key, value in body.items() if key != "data"}


class Api:
    """Alice's view of the simulator over HTTP."""

    def __init__(self, sim: FakeFirecrawl, key: str = ALICE) -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.sim.url + path, timeout=10, **kwargs)

    def delete(self, path: str) -> requests.Response:
        return self.session.delete(self.sim.url + path, timeout=10)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.sim.url + path, timeout=10, **kwargs)

    def json(self, path: str) -> Any:
        """The JSON body of a GET that must answer 200."""
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def start(self, path: str, payload: Any, **kwargs: Any) -> str:
        """POST a job that must start; returns its id."""
        response = self.post(path, json=payload, **kwargs)
        assert response.status_code == 200, response.text
        job_id: str = response.json()["id"]
        return job_id

    def status(self, job_id: str, query: str = "", version: int = 2) -> dict[str, Any]:
        body: dict[str, Any] = self.json(f"/v{version}/batch/scrape/{job_id}{query}")
        return body

    def crawl(self, job_id: str, query: str = "", version: int = 2) -> dict[str, Any]:
        body: dict[str, Any] = self.json(f"/v{version}/crawl/{job_id}{query}")
        return body

    def errors(self, job_id: str, version: int = 2) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.json(f"/v{version}/crawl/{job_id}/errors")["errors"]
        return entries

    def follow(self, job_id: str, max_pages: int = 50) -> list[dict[str, Any]]:
        """Every page, following `next` until it is absent or a page brings nothing."""
        pages = [self.status(job_id)]
        while "next" in pages[-1] and pages[-1]["data"] and len(pages) < max_pages:
            query = pages[-1]["next"].split("?", 1)[1]
            pages.append(self.status(job_id, "?" + query))
        return pages


@dataclass(frozen=True)
class Received:
    """One POST a Receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """A real local HTTP server that records what is POSTed to it (webhook deliveries).

    status: what it answers. hold: while not set, it keeps each request waiting before
    answering (a slow receiver, released by the test, never by a timer). trickle: it answers a
    byte every 50 ms, so that no single read waits long but the whole answer takes seconds.
    """

    def __init__(
        self, status: int = 200, hold: threading.Event | None = None, trickle: bool = False
    ) -> None:
        self.status = status
        self.hold = hold
        self.trickle = trickle
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._arrived:
                    receiver.received.append(Received(self.path, dict(self.headers), body))
                    receiver._arrived.notify_all()
                if receiver.hold is not None:
                    receiver.hold.wait(timeout=60)
                if receiver.trickle:
                    answer = f"HTTP/1.1 {receiver.status} OK\r\nContent-Length: 0\r\n\r\n"
                    for byte in answer.encode():
                        time.sleep(0.05)
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The first `count` requests, once they arrived (AssertionError after `timeout`)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, timeout)
            assert arrived, f"{len(self.received)} of {count} webhooks arrived"
            return self.received[:count]

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
