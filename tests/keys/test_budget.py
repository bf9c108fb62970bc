"""One API key shared by many jobs and workers never exceeds its requests-per-minute budget.

The budget (FIRECRAWL_RATE_LIMIT_PER_MINUTE, default 200: well under the Free plan's 500) is a
counter per key and calendar minute in the database, taken with conditional UPDATEs, so it holds
across threads and processes alike. In any sliding 60 s at most twice the budget can go out
(the end of one minute and the start of the next): 400 at the default, still under 500.
"""

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from keys.budget import BudgetExhausted, RequestBudget
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job
from tests.processes import ROOT, start_worker
from tests.waiting import wait_until

BUDGET = 25


def test_the_default_budget_is_well_under_the_free_plan() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from firecrawl_dash import settings as s; "
         "print(s.FIRECRAWL_RATE_LIMIT_PER_MINUTE)"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
        env={k: v for k, v in os.environ.items() if k != "FIRECRAWL_RATE_LIMIT_PER_MINUTE"},
    )  # fmt: skip
    assert int(result.stdout) * 2 < 500  # even a minute boundary's burst stays under 500


def test_the_budget_resets_each_minute_and_says_when(key: ApiKey) -> None:
    budget = RequestBudget(key.pk, limit=3)
    minute = datetime(2026, 11, 28, 13, 0, 0, tzinfo=UTC)
    with mock.patch("keys.budget.timezone.now", return_value=minute + timedelta(seconds=45)):
        for _ in range(3):
            budget.spend()
        with pytest.raises(BudgetExhausted) as raised:
            budget.spend()
    assert raised.value.retry_after == 15
    assert "budget of 3 requests per minute is used up; resuming in 15 s" in raised.value.message
    with mock.patch("keys.budget.timezone.now", return_value=minute + timedelta(seconds=61)):
        budget.spend()
    key.refresh_from_db()
    assert key.budget_used == 1 and key.budget_window == minute + timedelta(minutes=1)


@pytest.mark.django_db(transaction=True)
def test_threads_racing_for_the_budget_get_exactly_the_budget(key: ApiKey) -> None:
    granted = Counter[str]()
    lock = threading.Lock()

    def spend() -> None:
        budget = RequestBudget(key.pk, limit=BUDGET)
        for _ in range(10):
            try:
                budget.spend()
                outcome = "granted"
            except BudgetExhausted:
                outcome = "refused"
            with lock:
                granted[outcome] += 1
        connection.close()

    threads = [threading.Thread(target=spend) for _ in range(8)]
    # One minute for the whole race, however long the threads take.
    minute = datetime(2026, 11, 28, 13, 0, 30, tzinfo=UTC)
    with mock.patch("keys.budget.timezone.now", return_value=minute):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert granted == {"granted": BUDGET, "refused": 80 - BUDGET}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_four_workers_send_exactly_one_minutes_budget_then_hold_every_job_back(
    key: ApiKey, sim: FakeFirecrawl, tmp_path: Path
) -> None:
    sent: list[str] = []
    handle = sim.handle

    def counted(method: str, target: str, headers: dict[str, str], body: bytes) -> Any:
        if headers.get("Authorization") == f"Bearer {KEY}":
            sent.append(target)
        return handle(method, target, headers, body)

    sim.handle = counted  # type: ignore[method-assign]
    jobs = [
        make_job(key, sim.create_batch(KEY, n=400, state="completed", doc_size=200))
        for _ in range(10)
    ]  # 10 jobs x 5 requests: twice what one minute's budget allows
    # The workers' budget sees one instant, the start of a minute: one window for the whole
    # test, however long it takes, with all of its 60 s still to go.
    frozen = timezone.now().replace(second=0, microsecond=0) + timedelta(hours=1)
    started = timezone.now()
    log = tmp_path / "workers.log"
    workers = [
        start_worker(log, interval=0.05, patched=True, TEST_BUDGET_CLOCK=frozen.isoformat(),
                     FIRECRAWL_RATE_LIMIT_PER_MINUTE=str(BUDGET))
        for _ in range(4)
    ]  # fmt: skip
    ours = Job.objects.filter(pk__in=[job.pk for job in jobs])
    held = ours.filter(last_error__startswith="Holding back")
    try:
        # Every job read to its end (settled) or held back: nothing is left to send. (A job can
        # be both fully cached and held: its failed-URL listing is one more request.)
        wait_until(
            lambda: (
                not ours.exclude(sync_state=Job.SyncState.SETTLED)
                .exclude(last_error__startswith="Holding back")
                .exists()
            ),
            "every job settled or held back",
        )
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(10)
    assert len(sent) == BUDGET, sent
    assert held.exists()
    # Held-back jobs wait for the next minute instead of hammering the database or Firecrawl.
    for job in held:
        assert job.last_error.endswith("is used up; resuming in 60 s")
        assert job.next_poll_at >= started + timedelta(seconds=60)
        assert job.consecutive_failures == 0  # our own pacing is not an upstream failure
    assert "Traceback" not in log.read_text(errors="replace")
