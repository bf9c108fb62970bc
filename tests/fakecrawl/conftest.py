"""Fixtures of the simulator tests: a sim clock, a simulator serving Alice and Bob, Alice's view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakecrawl import FakeFirecrawl, ManualClock
from tests.fakecrawl.support import ALICE, BOB, Api


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=0, clock=clock) as simulator:
        simulator.add_key(ALICE, team="alice")
        simulator.add_key(BOB, team="bob")
        yield simulator


@pytest.fixture
def api(sim: FakeFirecrawl) -> Api:
    return Api(sim)
