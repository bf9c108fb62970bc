"""Fixtures of the simulator tests: every simulator here runs on the test's manual clock (time
moves only when a test says so), and Alice's view of it over HTTP."""

from __future__ import annotations

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import Api


@pytest.fixture(autouse=True)
def frozen_time(clock: ManualClock) -> None:
    """Asking for `clock` puts the shared `sim` on it (tests/conftest.py)."""


@pytest.fixture
def api(sim: FakeFirecrawl) -> Api:
    return Api(sim)
