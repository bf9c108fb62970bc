"""Helpers of the sync's tests: what the simulator served, and figures shown in every CI log."""

import json
import threading
from collections import Counter
from typing import Any

import pytest

from fakecrawl import FakeFirecrawl


class ServedLog:
    """Wraps the simulator to count the documents each status response carried."""

    def __init__(self, sim: FakeFirecrawl) -> None:
        self.sim = sim
        self.served: list[tuple[int, int]] = []  # (skip, documents in the page)
        self.requested: list[int] = []  # the skip of each status request, as it arrives
        self._handle = sim.handle
        self._lock = threading.Lock()

    def __call__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        status_read = method == "GET" and "/errors" not in target
        skip = int(target.partition("skip=")[2].partition("&")[0] or 0)
        if status_read:
            with self._lock:
                self.requested.append(skip)
        response = self._handle(method, target, headers, body)
        if status_read and response.status == 200:
            with self._lock:
                self.served.append((skip, len(json.loads(response.body)["data"])))
        return response

    def asked_from(self, skip: int) -> int:
        """How many status requests so far asked for the page at `skip` or beyond."""
        with self._lock:
            return sum(1 for asked in self.requested if asked >= skip)

    def positions(self) -> Counter[int]:
        """How many times each document position went over the wire in a 200."""
        counts: Counter[int] = Counter()
        for skip, size in self.served:
            counts.update(range(skip, skip + size))
        return counts


def report(request: pytest.FixtureRequest, text: str) -> None:
    """Print past pytest's capture, so the figures are in the log even when the test passes."""
    capture: Any = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\n{text}", flush=True)
