"""Benchmarks 2 and 5 in a child process: server time and SQL queries of the browsing pages.

    python -m bench.browse documents SMALL LARGE RUNS   documents pages of two jobs of that size
    python -m bench.browse dashboard SMALL LARGE RUNS   jobs lists of two users with that many jobs

Rows are bulk-created straight into one scratch database (no sync): the small and the large case
side by side. Every page of both is then requested RUNS times with the Django test client in this
process, interleaved (one request of each per round, the order reversed every other round), so
the drift of a shared machine hits both sizes alike; the median is reported, with the SQL queries
of one request and the number of rows the page shows.
"""

from __future__ import annotations

import json
import re
import sys
import time
import uuid
from typing import Any

from bench.common import emit, median, setup_django

# A search for one topic word and the 4xx filter each select 10 % of a job: at 1,000 documents
# that is still 100 matches, so the compared pages show a full page of 50 rows at both sizes.
TOPICS = 10
ERROR_EVERY = 10
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
# ~2 KB of markdown; a body depends only on position % 8, so the eight are made once.
BODIES = [" ".join(WORDS[(start + i) % 8] for i in range(300)) for start in range(8)]
PER_PAGE = 50
DOCUMENT_ROW = re.compile(rb'<td class="num pos">')
JOB_ROW = re.compile(rb'<span class="status status-')


def _raw(position: int, topic_word: str) -> dict[str, Any]:
    title = f"{WORDS[position % 8].capitalize()} {WORDS[position // 8 % 8]} page {position}"
    topic = f"{topic_word}{position % TOPICS}"
    body = BODIES[position % 8]
    status = 404 if position % ERROR_EVERY == 3 else 200
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


def populate_documents(user: Any, n: int, topic_word: str, *, index: bool = True) -> Any:
    """A cached job of n documents. Each job has its own topic words: the full-text index is
    shared by all jobs, and a word common to both would make the small job's search pay for the
    large job's matches (measuring the other job, not this one's size)."""
    from django.db import transaction

    from jobs.models import Document, Job
    from jobs.search import index_documents

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
        data = _raw(position, topic_word)
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
    if index:
        index_documents(job.pk)  # as the task after a sync does
    Job.objects.filter(pk=job.pk).update(documents_cached=n, next_skip=n, completed=n, total=n)
    return job


def settle_statistics() -> None:
    """On PostgreSQL, what autovacuum does to a table at rest: planner statistics and the
    visibility map (index-only scans). SQLite gets nothing: the app never runs ANALYZE there."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE jobs_document")
            cursor.execute("VACUUM ANALYZE jobs_job")


def populate_jobs(username: str, n: int) -> Any:
    from django.contrib.auth.models import User

    from jobs.models import Job
    from keys.models import ApiKey

    user = User.objects.create_user(username)
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
    return user


# One request to time: (client, url, headers, the pattern of one shown row).
Request = tuple[Any, str, dict[str, str], re.Pattern[bytes]]


def measure(requests: dict[tuple[str, str], Request], runs: int) -> dict[str, dict[str, Any]]:
    """Median time of each request, all of them interleaved; keyed by size, then case."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results: dict[str, dict[str, Any]] = {}
    for (size, name), (client, url, headers, row) in requests.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, headers=headers)  # also the warm-up
        # Read now: the next request's request_started signal clears the connection's query log.
        assert response.status_code == 200, (url, response.status_code)
        results.setdefault(size, {})[name] = {
            "queries": len(queries),
            "rows": len(row.findall(response.content)),
            "bytes": len(response.content),
        }
    keys = list(requests)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    for round_number in range(runs):
        for key in keys if round_number % 2 == 0 else reversed(keys):
            client, url, headers, _ = requests[key]
            started = time.perf_counter()
            client.get(url, headers=headers)
            times[key].append(time.perf_counter() - started)
    for (size, name), values in times.items():
        results[size][name]["ms"] = 1000 * median(values)
    return results


def documents(small: int, large: int, runs: int) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User
    from django.test import Client

    started = time.perf_counter()
    user = User.objects.create_user("browser")
    jobs = {
        "small": (small, populate_documents(user, small, "minor")),
        "large": (large, populate_documents(user, large, "major")),
    }
    settle_statistics()
    populate_seconds = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    requests: dict[tuple[str, str], Request] = {}
    for size, (n, job) in jobs.items():
        last = max(1, -(-n // PER_PAGE))
        base = f"/jobs/{job.pk}/documents/"
        cases = {
            "page 1": f"{base}",
            "middle page": f"{base}?page={max(1, last // 2)}",
            "last page": f"{base}?page={last}",
            "search": f"{base}?q={'minor' if size == 'small' else 'major'}4",
            "filter (4xx)": f"{base}?status=4xx",
        }
        # Each sort: its first, middle and last page (a stored key and an index walked from
        # the nearer end, docs/PERFORMANCE.md).
        for sort in ("title", "url", "status"):
            cases[f"sorted by {sort}, page 1"] = f"{base}?sort={sort}"
            cases[f"sorted by {sort}, middle page"] = f"{base}?sort={sort}&page={max(1, last // 2)}"
            cases[f"sorted by {sort}, last page"] = f"{base}?sort={sort}&page={last}"
        for name, url in cases.items():
            requests[size, name] = (client, url, {}, DOCUMENT_ROW)
        # What the browser fetches when the user pages with htmx: the partial only.
        requests[size, "page 1 (htmx partial)"] = (
            client,
            base,
            {"HX-Request": "true"},
            DOCUMENT_ROW,
        )
    results = measure(requests, runs)
    return {
        "populate_seconds": populate_seconds,
        **{size: {"n": n, "cases": results[size]} for size, (n, _) in jobs.items()},
    }


def dashboard(small: int, large: int, runs: int) -> dict[str, Any]:
    setup_django()
    from django.test import Client

    sizes = {"small": small, "large": large}
    requests: dict[tuple[str, str], Request] = {}
    for size, n in sizes.items():
        client = Client()
        client.force_login(populate_jobs(f"{size}-user", n))
        last = max(1, -(-n // PER_PAGE))
        cases = {
            "jobs list, page 1": "/",
            "jobs list, last page": f"/?page={last}",
            "jobs list, filtered": "/?status=scraping",
        }
        for name, url in cases.items():
            requests[size, name] = (client, url, {}, JOB_ROW)
    settle_statistics()
    results = measure(requests, runs)
    return {size: {"n": n, "cases": results[size]} for size, n in sizes.items()}


def main(argv: list[str]) -> None:
    mode, small, large, runs = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    if mode == "documents":
        emit(documents(small, large, runs))
    elif mode == "dashboard":
        emit(dashboard(small, large, runs))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
