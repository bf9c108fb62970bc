"""Plumbing shared by the benchmarks: scratch databases, child processes, the simulator process.

Every measured thing runs in a fresh interpreter, and its peak RSS is read from the kernel's
rusage of that one child (os.wait4), so scenarios never share a high-water mark.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
RESULT_PREFIX = "BENCH-RESULT "
SIM_KEY = "fc-bench00000000000000000000000000b3c4"
DEFAULT_PG = "postgres://postgres@127.0.0.1:55432/postgres"

_SECRETS: dict[str, str] = {}


def secrets_env() -> dict[str, str]:
    """Generated once per harness run: DEBUG=false needs real secrets."""
    if not _SECRETS:
        from cryptography.fernet import Fernet

        _SECRETS["SECRET_KEY"] = secrets.token_urlsafe(50)
        _SECRETS["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    return dict(_SECRETS)


def child_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(secrets_env())
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        DATABASE_URL=database_url,
        FIRECRAWL_RATE_LIMIT_PER_MINUTE="1000000",
        FIRECRAWL_API_URLS="*",
        LOG_LEVEL="WARNING",
        SECURE_COOKIES="false",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


# Scratch databases ------------------------------------------------------------------------------


@dataclass
class ScratchDb:
    vendor: str  # "sqlite" or "postgresql"
    url: str
    name: str
    admin_url: str = ""

    def drop(self) -> None:
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)
        else:
            _pg_execute(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _pg_execute(admin_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.encode())  # identifiers we generated, never input


def scratch_db(vendor: str, workdir: Path, label: str) -> ScratchDb:
    if vendor == "sqlite":
        path = workdir / f"{label}.sqlite3"
        return ScratchDb("sqlite", f"sqlite:///{path}", str(path))
    admin = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    _pg_execute(admin, f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    return ScratchDb("postgresql", f"{base}/{name}", name, admin)


def scratch_db_from_template(template: ScratchDb, label: str) -> ScratchDb:
    """A PostgreSQL copy of a migrated database (CREATE DATABASE … TEMPLATE): no migrate."""
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    _pg_execute(template.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template.name}"')
    base, _, _ = template.admin_url.rpartition("/")
    return ScratchDb("postgresql", f"{base}/{name}", name, template.admin_url)


def postgres_available() -> str | None:
    """The server version, or None when no PostgreSQL answers at BENCH_POSTGRES_URL."""
    try:
        import psycopg

        admin = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG)
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute(
                "SELECT current_setting('server_version'), current_setting('fsync'), "
                "current_setting('synchronous_commit')"
            ).fetchone()
        # Durability settings change write times the most, so the report names them.
        return f"{row[0]}; fsync={row[1]}, synchronous_commit={row[2]}" if row else None
    except Exception:
        return None


# Child processes --------------------------------------------------------------------------------


@dataclass
class ChildRun:
    result: dict[str, Any]
    max_rss_mb: float
    wall: float
    stderr: str = ""


class ChildFailed(RuntimeError):
    pass


def run_child(
    module: str, args: Sequence[str], env: dict[str, str], timeout: float = 900
) -> ChildRun:
    """Run `python -m bench.<module> args…` and return its result line and its own peak RSS."""
    started = time.perf_counter()
    errfile = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed below, after wait4)
    proc = subprocess.Popen(
        [PY, "-m", f"bench.{module}", *args],
        stdout=subprocess.PIPE,
        stderr=errfile,
        env=env,
        cwd=REPO,
        text=True,
    )
    assert proc.stdout is not None
    timer = _kill_after(proc.pid, timeout)
    try:
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    errfile.seek(0)
    stderr = errfile.read()
    errfile.close()
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise ChildFailed(
            f"bench.{module} {' '.join(args)} exited {proc.returncode}:\n{stderr[-4000:]}"
        )
    result = json.loads(lines[-1][len(RESULT_PREFIX) :])
    # ru_maxrss is in KiB on Linux.
    return ChildRun(result, usage.ru_maxrss / 1024, wall, stderr)


def _kill_after(pid: int, seconds: float) -> Any:
    import threading

    def kill() -> None:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    return timer


def emit(result: dict[str, Any]) -> None:
    """What a child hands back to the harness (one line on stdout)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=REPO,
        check=True,
    )


# The simulator, in its own process --------------------------------------------------------------


@dataclass
class SimProcess:
    proc: subprocess.Popen[str]
    url: str
    jobs: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)

    def command(self, line: str) -> dict[str, Any]:
        stdin: IO[str] | None = self.proc.stdin
        stdout: IO[str] | None = self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(line + "\n")
        stdin.flush()
        return dict(json.loads(stdout.readline()))

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def simulator(
    jobs: list[dict[str, Any]],
    *,
    warm: bool = True,
    screenshot_bytes: int = 20_000,
    options: Sequence[str] = (),
) -> Iterator[SimProcess]:
    """Start bench.simserver with these jobs (create_batch keyword arguments plus a `name`) and
    these command-line options."""
    args = [PY, "-m", "bench.simserver", "--jobs", json.dumps(jobs), *options]
    args += ["--screenshot-bytes", str(screenshot_bytes)]
    if warm:
        args.append("--warm")
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        text=True,
    )
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    sim = SimProcess(proc, ready["url"], ready["jobs"], ready)
    try:
        yield sim
    finally:
        sim.stop()


# Small helpers --------------------------------------------------------------------------------


def gunicorn(port: int, workers: int) -> list[str]:
    """The README's production web server (firecrawl_dash/gunicorn.py) with `workers` processes,
    on 127.0.0.1:`port`."""
    return [
        PY, "-m", "gunicorn", "-c", "python:firecrawl_dash.gunicorn", "firecrawl_dash.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning",
        "--no-control-socket",
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def mb(n_bytes: float) -> float:
    return n_bytes / 2**20
