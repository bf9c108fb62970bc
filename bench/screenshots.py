"""Benchmark 6, one contender per process: caching a batch whose documents carry screenshots.

python -m bench.screenshots floor URL JOB_ID   requests.get of every screenshot of the job, one
                                          after the other, discarded (what the simulator's
                                          storage host and the loopback cost)
python -m bench.screenshots keep JOB_PK   jobs.sync.sync_job until every document is cached,
                                          then jobs.screenshots.fetch_due until every screenshot
                                          is kept, into the storage FILE_STORAGE names (timed
                                          apart); a job without screenshots only syncs
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.common import SIM_KEY, emit, setup_django


def floor(url: str, job_id: str) -> dict[str, Any]:
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {SIM_KEY}"}
    shots: list[str] = []
    skip = 0
    while True:
        page = session.get(
            f"{url}/v1/batch/scrape/{job_id}", params={"skip": skip}, headers=headers, timeout=60
        ).json()
        data = page.get("data") or []
        shots += [doc["screenshot"] for doc in data if "screenshot" in doc]
        skip += len(data)
        if not data or not page.get("next"):
            break
    storage = requests.Session()  # no key for the storage host
    started = time.perf_counter()
    size = sum(len(storage.get(shot, timeout=60).content) for shot in shots)
    return {"seconds": time.perf_counter() - started, "images": len(shots), "bytes": size}


def keep(job_pk: int) -> dict[str, Any]:
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.db.models import Sum

    from jobs import screenshots
    from jobs.models import Job, Screenshot
    from jobs.sync import sync_job

    connection.ensure_connection()
    started = time.perf_counter()
    job = Job.objects.get(pk=job_pk)
    while not (job.fully_cached and job.is_terminal):
        result = sync_job(job_pk)
        if result.error:
            raise RuntimeError(result.error)
        job.refresh_from_db()
    cached = time.perf_counter()
    assert job.api_key_id is not None
    while Screenshot.objects.due().filter(job=job).exists():
        screenshots.fetch_due(job.api_key_id, seconds=settings.FIRECRAWL_WORKER_DEADLINE)
    done = time.perf_counter()
    counts = Screenshot.objects.counts(job)
    stored = Screenshot.objects.filter(job=job).aggregate(total=Sum("size"))["total"] or 0
    return {
        "seconds": done - started,
        "sync_seconds": cached - started,
        "keep_seconds": done - cached,
        "documents": job.documents_cached,
        "kept": counts.kept,
        "not_kept": counts.pending + counts.failed,
        "stored_bytes": stored,
        "storage": settings.FILE_STORAGE,
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["keep"]:
        emit(keep(int(argv[1])))
    elif argv[:1] == ["floor"]:
        emit(floor(argv[1], argv[2]))
    else:
        raise SystemExit(f"unknown mode {argv[:1]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
