"""Benchmark 6's contenders in a child process: every document of a job, read by a script.

    python -m bench.api walk JOB_PK [full|summary]   through the JSON API's cursor pages
    python -m bench.api jsonl JOB_PK                 through the browser's JSONL download

Both go through the real views with the Django test client (the walk with a token, the
download with a session) and parse what they read, as a pipeline would: each page with
json.loads, each JSONL line with json.loads. The result says how many documents were read.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.common import emit, setup_django

PER_PAGE = 100


def walk(job_pk: int, fields: str = "full") -> dict[str, Any]:
    setup_django()
    from django.test import Client

    from accounts.models import ApiToken
    from jobs.models import Job

    job = Job.objects.select_related("owner").get(pk=job_pk)
    _row, token = ApiToken.objects.create_token(
        owner=job.owner, name=f"bench {time.time()}", scope=ApiToken.Scope.READ
    )
    client = Client(headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    url: str | None = f"/api/v1/jobs/{job_pk}/documents?fields={fields}&per_page={PER_PAGE}"
    documents = pages = received = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        # Streamed, as a page of documents is: what an HTTP client reads, whole.
        body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
        received += len(body)
        page = json.loads(body)
        documents += len(page["results"])
        pages += 1
        url = page["next"]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "documents": documents, "pages": pages, "bytes": received}


def jsonl(job_pk: int) -> dict[str, Any]:
    setup_django()
    from django.test import Client

    from jobs.models import Job

    job = Job.objects.select_related("owner").get(pk=job_pk)
    client = Client()
    client.force_login(job.owner)
    started = time.perf_counter()
    response = client.get(f"/jobs/{job_pk}/download.jsonl")
    assert response.status_code == 200, response.status_code
    documents = received = 0
    rest = b""
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        received += len(chunk)
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            json.loads(line)
            documents += 1
    response.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "documents": documents, "bytes": received}


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[0] == "walk":
        emit(walk(int(argv[1]), *argv[2:]))
    else:
        emit(jsonl(int(argv[1])))
