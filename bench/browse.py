"""Benchmarks 2 and 5 in a child process: server time and SQL queries of the browsing pages.

    python -m bench.browse documents N RUNS   the documents page of a job of N documents
    python -m bench.browse dashboard N RUNS   the jobs list of a user with N tracked jobs

Rows are bulk-created straight into the scratch database (no sync), then each page is requested
RUNS times with the Django test client in this process; the median is reported, with the number
of SQL queries of one request.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

from bench.common import emit, median, setup_django

TOPICS = 100  # a search for one topic word matches 1 % of the documents
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def _raw(position: int) -> dict[str, Any]:
    title = f"{WORDS[position % 8].capitalize()} {WORDS[position // 8 % 8]} page {position}"
    topic = f"topic{position % TOPICS}"
    body = " ".join(WORDS[(position + i) % 8] for i in range(300))  # ~2 KB of markdown
    status = 404 if position % 33 == 0 else 200
    metadata = {
        "title": title,
        "sourceURL": f"https://example.test/{topic}/page/{position}",
        "url": f"https://example.test/{topic}/page/{position}",
        "statusCode": status,
        "scrapeId": str(uuid.UUID(int=position + 1)),
        "language": "en",
    }
    if status == 404:
        metadata["error"] = "Not Found"
    return {"markdown": f"# {title}\n\n{topic} {body}", "metadata": metadata}


def populate_documents(n: int) -> tuple[Any, Any]:
    from django.contrib.auth.models import User
    from django.db import transaction

    from jobs.models import Document, Job
    from jobs.search import index_documents

    user = User.objects.create_user("browser")
    job = Job.objects.create(
        owner=user,
        api_url="https://api.firecrawl.dev",
        api_version="v1",
        remote_id=uuid.uuid4(),
        status=Job.Status.COMPLETED,
        fully_cached=True,
        errors_fetched_at="2026-11-28T12:00:00Z",
    )
    batch: list[Document] = []
    for position in range(n):
        data = _raw(position)
        raw = json.dumps(data, separators=(",", ":"))
        meta = data["metadata"]
        batch.append(
            Document(
                job=job,
                position=position,
                scrape_id=meta["scrapeId"],
                source_url=meta["sourceURL"],
                url=meta["url"],
                title=meta["title"],
                status_code=meta["statusCode"],
                error=meta.get("error", ""),
                size=len(raw),
                raw=raw,
            )
        )
        if len(batch) == 2000 or position == n - 1:
            with transaction.atomic():
                Document.objects.bulk_create(batch, batch_size=500)
            batch = []
    index_documents(job.pk)  # as the task after a sync does
    Job.objects.filter(pk=job.pk).update(documents_cached=n, next_skip=n, completed=n, total=n)
    settle_statistics()
    return user, job


def settle_statistics() -> None:
    """On PostgreSQL, what autovacuum does to a table at rest: planner statistics and the
    visibility map (index-only scans). SQLite gets nothing: the app never runs ANALYZE there."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE jobs_document")
            cursor.execute("VACUUM ANALYZE jobs_job")


def populate_jobs(n: int) -> Any:
    from django.contrib.auth.models import User

    from jobs.models import ApiKey, Job

    user = User.objects.create_user("many-jobs")
    key = ApiKey.objects.create(owner=user, name="Main", key="fc-" + "0" * 30 + "beef")
    statuses = [Job.Status.COMPLETED, Job.Status.SCRAPING, Job.Status.CANCELLED]
    Job.objects.bulk_create(
        [
            Job(
                owner=user,
                api_key=key,
                api_url=key.api_url,
                api_version=key.api_version,
                remote_id=uuid.UUID(int=i + 1),
                label=f"Batch {i}" if i % 2 else "",
                status=statuses[i % 3],
                completed=i * 10,
                total=i * 10 + 5,
                documents_cached=i * 10,
                credits_used=i * 10,
            )
            for i in range(n)
        ],
        batch_size=500,
    )
    settle_statistics()
    return user


def measure(client: Any, url: str, runs: int, headers: dict[str, str]) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
    # Read now: the next request's request_started signal clears the connection's query log.
    query_count = len(queries)
    assert response.status_code == 200, (url, response.status_code)
    body = response.content
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url, headers=headers)
        times.append(time.perf_counter() - started)
    return {"ms": 1000 * median(times), "queries": query_count, "bytes": len(body)}


def documents(n: int, runs: int) -> dict[str, Any]:
    setup_django()
    from django.test import Client

    started = time.perf_counter()
    user, job = populate_documents(n)
    populate_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    per_page = 50
    last = max(1, -(-n // per_page))
    base = f"/jobs/{job.pk}/documents/"
    cases = {
        "page 1": f"{base}",
        "middle page": f"{base}?page={max(1, last // 2)}",
        "last page": f"{base}?page={last}",
        "search": f"{base}?q=topic42",
        "filter (4xx)": f"{base}?status=4xx",
        "sorted by title, last page": f"{base}?sort=title&page={last}",
    }
    results = {name: measure(client, url, runs, {}) for name, url in cases.items()}
    # What the browser fetches when the user pages with htmx: the partial only.
    results["page 1 (htmx partial)"] = measure(client, base, runs, {"HX-Request": "true"})
    return {"n": n, "populate_seconds": populate_seconds, "cases": results}


def dashboard(n: int, runs: int) -> dict[str, Any]:
    setup_django()
    from django.test import Client

    user = populate_jobs(n)
    client = Client()
    client.force_login(user)
    last = max(1, -(-n // 50))
    cases = {
        "jobs list, page 1": "/",
        "jobs list, last page": f"/?page={last}",
        "jobs list, filtered": "/?status=scraping",
    }
    return {"n": n, "cases": {name: measure(client, url, runs, {}) for name, url in cases.items()}}


def main(argv: list[str]) -> None:
    mode, n, runs = argv[0], int(argv[1]), int(argv[2])
    if mode == "documents":
        emit(documents(n, runs))
    elif mode == "dashboard":
        emit(dashboard(n, runs))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
