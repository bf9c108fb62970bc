"""Real processes for the tests: workers and web servers running against the test database."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

from fakecrawl import FakeFirecrawl
from jobs.models import Job

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The test database, as a DATABASE_URL a child process can use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FIRECRAWL_API_URLS": "*",
        "FIRECRAWL_POLL_INTERVAL": "1",
        "FIRECRAWL_SETTLE_SECONDS": "0",
        "DEBUG": "true",
        **extra,
    }


def start_worker(
    log: Path,
    *,
    lease_seconds: int = 2,
    interval: float = 0.1,
    patched: bool = False,
    **env: str,
) -> subprocess.Popen[bytes]:
    """`manage.py run_worker`, as `make run` starts it; a short lease so kills recover fast.
    `patched`: through tests/patched_manage.py, whose test-only patches `env` names.

    A lease this short is below the worker's deadline, which the system check refuses in
    production (jobs.checks): the tests' workers skip the checks, on purpose.
    """
    manage = ["-m", "tests.patched_manage"] if patched else ["manage.py"]
    command = [*manage, "run_worker", "--schedule-every", "0.2", "--interval", str(interval)]
    command.append("--skip-checks")
    return subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=child_env(FIRECRAWL_SYNC_LEASE_SECONDS=str(lease_seconds), **env),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def assert_cache_exact(job: Job, sim: FakeFirecrawl) -> None:
    """Every document upstream has, once, at its upstream position, in upstream's order."""
    job.refresh_from_db()
    expected = [d["metadata"]["scrapeId"] for d in sim.job(str(job.remote_id)).documents]
    cached = list(job.documents.order_by("position").values_list("position", "scrape_id"))
    assert [position for position, _ in cached] == list(range(len(expected)))
    assert [scrape_id for _, scrape_id in cached] == expected
    assert job.documents_cached == len(expected)


def assert_cache_is_a_prefix(job: Job, sim: FakeFirecrawl, when: str = "") -> None:
    """What a sync cut short leaves: the first documents upstream has, each once, at its upstream
    position, and the job's counters saying exactly how many."""
    job.refresh_from_db()
    upstream = [d["metadata"]["scrapeId"] for d in sim.job(str(job.remote_id)).documents]
    cached = list(job.documents.order_by("position").values_list("position", "scrape_id"))
    assert [position for position, _ in cached] == list(range(len(cached))), when
    assert [scrape_id for _, scrape_id in cached] == upstream[: len(cached)], when
    assert job.documents_cached == job.next_skip == len(cached), (
        f"{when}: {len(cached)} documents stored; the job counts {job.documents_cached} and "
        f"would read on from {job.next_skip}"
    )
