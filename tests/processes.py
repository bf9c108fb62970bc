"""Real processes for the tests: workers and web servers running against the test database."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl
from jobs.models import Job
from tests.waiting import wait_until

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class WebServer:
    """gunicorn as the README runs it in production (firecrawl_dash/gunicorn.py), two workers;
    `options` are added to its command line (and win over the settings module's)."""

    def __init__(self, log: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.options = options
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:firecrawl_dash.gunicorn",
                "firecrawl_dash.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--no-control-socket",
                *self.options,
            ],
            cwd=ROOT,
            env=child_env(),
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(self.answers, "gunicorn answered", process=self.process)

    def answers(self) -> bool:
        try:
            requests.get(f"{self.url}/accounts/login/", timeout=5)
        except requests.RequestException:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL the whole server: master and workers, as an OOM killer or a power cut would."""
        assert self.process is not None
        for pid in [*worker_pids(self.process.pid), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


def worker_pids(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                pids.append(int(entry.name))
    return pids


def session_for(user: Any) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    return session
