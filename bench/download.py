"""Benchmark 3's contender in a child process: the job's zip through the real view.

    python -m bench.download JOB_PK OUT_PATH [PROFILE_PATH]

Requests /jobs/<pk>/download.zip with the Django test client as the job's owner and writes the
streamed body to OUT_PATH (a real client writes it somewhere too), timing the first byte and
the whole download.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from bench.common import emit, setup_django


def download(job_pk: int, out_path: str, profile: str = "") -> dict[str, Any]:
    setup_django()
    from django.test import Client

    from jobs.models import Job

    job = Job.objects.select_related("owner").get(pk=job_pk)
    client = Client()
    client.force_login(job.owner)
    profiler: Any = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    response = client.get(f"/jobs/{job_pk}/download.zip")
    assert response.status_code == 200, response.status_code
    first_byte = None
    written = 0
    with open(out_path, "wb") as out:
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            if chunk and first_byte is None:
                first_byte = time.perf_counter() - started
            written += len(chunk)
            out.write(chunk)
    response.close()
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    return {"seconds": seconds, "first_byte_seconds": first_byte, "zip_bytes": written}


if __name__ == "__main__":
    argv = sys.argv[1:]
    emit(download(int(argv[0]), argv[1], argv[2] if len(argv) > 2 else ""))
