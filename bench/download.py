"""Benchmark 3's contenders in a child process: the job's downloads through the real view.

    python -m bench.download JOB_PK OUT_PATH [PROFILE_PATH]   the zip
    python -m bench.download threads N JOB_PK OUT_PATH         the zip deflated in N threads
                                                               beside the view (0: the view's
                                                               thread alone)
    python -m bench.download session JOB_PK                    (set-up) a session of its owner
    python -m bench.download http URL SESSION OUT_PATH         the zip at URL, through a server
    python -m bench.download populate N                        (set-up) a job of N documents
    python -m bench.download export JOB_PK FORMAT OUT_PATH [QUERY]   a CSV or xlsx download
    python -m bench.download unpack ZIP [DIR]                  its entries and bytes (and files)

Requests /jobs/<pk>/download.<format> with the Django test client as the job's owner and writes
the streamed body to OUT_PATH (a real client writes it somewhere too), timing the first byte
and the whole download.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench.common import emit, setup_django


def download(
    job_pk: int, out_path: str, profile: str = "", path: str = "download.zip"
) -> dict[str, Any]:
    setup_django()
    from django.test import Client

    from jobs import zipwriter
    from jobs.models import Job

    load = os.getloadavg()[0]

    job = Job.objects.select_related("owner").get(pk=job_pk)
    client = Client()
    client.force_login(job.owner)
    profiler: Any = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    response = client.get(f"/jobs/{job_pk}/{path}")
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
    return {
        "seconds": seconds,
        "first_byte_seconds": first_byte,
        "zip_bytes": written,
        "threads": zipwriter.THREADS,
        "load": load,
    }


def with_threads(threads: int, job_pk: int, out_path: str) -> dict[str, Any]:
    setup_django()
    from jobs import zipwriter

    zipwriter.THREADS = threads
    return download(job_pk, out_path)


def session(job_pk: int) -> dict[str, Any]:
    """A logged-in session of the job's owner, for a client outside Django."""
    setup_django()
    from django.test import Client

    from jobs.models import Job

    client = Client()
    client.force_login(Job.objects.get(pk=job_pk).owner)
    return {"session": client.cookies["sessionid"].value}


def http(url: str, session_id: str, out_path: str) -> dict[str, Any]:
    """The download as a browser gets it: over HTTP from a real server, written to a file."""
    import requests

    load = os.getloadavg()[0]
    with requests.Session() as client:
        client.cookies.set("sessionid", session_id)
        started = time.perf_counter()
        first_byte = None
        written = 0
        with client.get(url, stream=True, timeout=600) as response, open(out_path, "wb") as out:
            assert response.status_code == 200, response.status_code
            for chunk in response.iter_content(chunk_size=1024 * 1024):
                if chunk and first_byte is None:
                    first_byte = time.perf_counter() - started
                written += len(chunk)
                out.write(chunk)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "first_byte_seconds": first_byte, "zip_bytes": written,
            "load": load}  # fmt: skip


def populate(n: int) -> dict[str, Any]:
    """A cached job of n small documents (the browse benchmark's), not indexed for search."""
    setup_django()
    from django.contrib.auth.models import User

    from bench.browse import populate_documents

    user = User.objects.create_user(f"exporter{n}")
    job = populate_documents(user, n, "export", index=False)
    return {"job_pk": job.pk}


def unpack(path: str, tree: str = "") -> dict[str, Any]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        if tree:
            archive.extractall(tree)
        return {"entries": len(entries), "raw_bytes": sum(info.file_size for info in entries)}


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[0] == "unpack":
        emit(unpack(*argv[1:]))
    elif argv[0] == "threads":
        emit(with_threads(int(argv[1]), int(argv[2]), argv[3]))
    elif argv[0] == "session":
        emit(session(int(argv[1])))
    elif argv[0] == "http":
        emit(http(*argv[1:4]))
    elif argv[0] == "populate":
        emit(populate(int(argv[1])))
    elif argv[0] == "export":
        query = argv[4] if len(argv) > 4 else ""
        emit(download(int(argv[1]), argv[3], path=f"download.{argv[2]}{query}"))
    else:
        emit(download(int(argv[0]), argv[1], argv[2] if len(argv) > 2 else ""))
