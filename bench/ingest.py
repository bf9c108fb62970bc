"""Benchmark 1, one contender per process: caching a big batch from "tracked" to "all cached".

python -m bench.ingest floor URL JOB_ID   requests + json.loads of every page, discarded
python -m bench.ingest write URL JOB_ID   the write floor: the pages' documents (read first, not
                                          timed) stored by the bare driver, one commit per page
python -m bench.ingest overlap URL JOB_ID DB_URL   the best overlap two processes allow: one
                                          reads and parses each page, the other stores it
                                          (bare driver, as the write floor) meanwhile
python -m bench.ingest overlap-indexed URL JOB_ID DB_URL   the same, the writer also indexing
                                          for search as the app does (FTS5 / tsvector)
python -m bench.ingest overlap-threads URL JOB_ID DB_URL   overlap-indexed with the reader in a
                                          thread of the writer's process, as the sync's is
python -m bench.ingest sdk URL JOB_ID     firecrawl-py's get_batch_scrape_status (auto-paging)
python -m bench.ingest track URL JOB_ID   (set-up, not timed) a user, a key and the job row
python -m bench.ingest sync JOB_PK        jobs.sync.sync_job until the job is fully cached
python -m bench.ingest sequential JOB_PK  the same with reading ahead off (one page at a time)
python -m bench.ingest unindexed JOB_PK   the same storing documents unindexed, then the catch-up
                                          indexer (the design before indexing as cached)
python -m bench.ingest size               the database's size on disk, in bytes
python -m bench.ingest index JOB_PK [N]   jobs.search.index_documents (the scheduler's catch-up),
                                          in N processes at once (N workers sharing the batches)

The sync modes also time "all cached" to "last document searchable": what is left unindexed when
the last page is stored, indexed by the catch-up indexer as the same worker would next.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from bench.common import SIM_KEY, emit, setup_django


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def floor(url: str, job_id: str) -> dict[str, Any]:
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {SIM_KEY}"}
    started = time.perf_counter()
    skip, pages, documents, wire = 0, 0, 0, 0
    while True:
        response = session.get(
            f"{url}/v1/batch/scrape/{job_id}", params={"skip": skip}, headers=headers, timeout=60
        )
        response.raise_for_status()
        wire += len(response.content)
        payload = json.loads(response.content)
        pages += 1
        data = payload.get("data") or []
        documents += len(data)
        skip += len(data)
        if not data or not payload.get("next"):
            break
        del payload, data, response
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": pages, "documents": documents, "wire_bytes": wire}


def write(url: str, job_id: str, database_url: str) -> dict[str, Any]:
    """The least a durable cache can do: each page's documents into a two-column table, through
    the bare driver (sqlite3 executemany / psycopg binary COPY), committing page by page, with
    the app's own durability settings (SQLite: WAL, synchronous=NORMAL; PostgreSQL: default)."""
    import requests

    from firecrawl_api import jsonscan

    session = requests.Session()
    headers = {"Authorization": f"Bearer {SIM_KEY}"}
    pages: list[list[str]] = []
    skip = 0
    while True:
        response = session.get(
            f"{url}/v1/batch/scrape/{job_id}", params={"skip": skip}, headers=headers, timeout=60
        )
        payload = jsonscan.loads(response.content)
        pages.append(payload["data"].texts)
        skip += len(payload["data"])
        if not payload["data"] or not payload.get("next"):
            break
    if database_url.startswith("sqlite"):
        seconds = _write_sqlite(database_url.removeprefix("sqlite:///"), pages)
    else:
        seconds = _write_postgres(database_url, pages)
    return {"seconds": seconds, "pages": len(pages), "documents": sum(map(len, pages))}


def overlap(
    url: str, job_id: str, database_url: str, indexed: bool = False, threads: bool = False
) -> dict[str, Any]:
    """Reading in one process and writing in another, pages handed over through a pipe: what a
    reader process (instead of the sync's reader thread) could reach at best, on this machine.
    `threads`: the reader is a thread of the writer's process instead, as the sync's reader is,
    so the two share one GIL; set against the process bound, it measures what the GIL costs.

    `indexed`: the writer also keeps a full-text index of the documents as the app does, so the
    bound includes what searchable-as-cached costs: SQLite, an FTS5 table of the same tokenizer
    and prefixes fed by an insert trigger that reads the markdown from the JSON in C; PostgreSQL,
    a GIN-indexed tsvector set per page from the documents' distinct words, which the reader
    process cuts (the app's own `document_words`) while the writer stores the page before."""
    import multiprocessing
    import queue
    import threading

    words = indexed and not database_url.startswith("sqlite")
    reader: Any
    pages: Any
    if threads:
        pages = queue.Queue(maxsize=2)
        started = time.perf_counter()
        reader = threading.Thread(target=_read_pages, args=(url, job_id, pages, words))
    else:
        context = multiprocessing.get_context("spawn")
        pages = context.Queue(maxsize=2)
        started = time.perf_counter()
        reader = context.Process(target=_read_pages, args=(url, job_id, pages, words))
    reader.start()
    if database_url.startswith("sqlite"):
        count = _write_sqlite_from(database_url.removeprefix("sqlite:///"), pages, indexed)
    else:
        count = _write_postgres_from(database_url, pages, indexed)
    seconds = time.perf_counter() - started
    reader.join()
    return {"seconds": seconds, "documents": count}


def _read_pages(url: str, job_id: str, pages: Any, words: bool = False) -> None:
    import requests

    from firecrawl_api import jsonscan

    cut: Any = None  # the app's word cutter, when the writer indexes PostgreSQL's way
    if words:
        setup_django()
        from jobs.models.search_index import INDEXED_CHARS, document_words

        cut = document_words

    session = requests.Session()
    headers = {"Authorization": f"Bearer {SIM_KEY}"}
    skip = 0
    while True:
        response = session.get(
            f"{url}/v1/batch/scrape/{job_id}", params={"skip": skip}, headers=headers, timeout=60
        )
        payload = jsonscan.loads(response.content)
        texts = payload["data"].texts
        if cut is None:
            pages.put((texts, None))
        else:
            docs = [json.loads(text) for text in texts]
            pages.put((texts, [cut(_indexed_texts(doc, INDEXED_CHARS)) for doc in docs]))
        skip += len(texts)
        if not texts or not payload.get("next"):
            break
    pages.put(None)


def _indexed_texts(doc: dict[str, Any], chars: int) -> list[str]:
    # What the app indexes (jobs.models.search_index.indexed_words): title, URLs, markdown's start.
    meta = doc.get("metadata") or {}
    texts = [meta.get("title"), meta.get("url"), meta.get("sourceURL")]
    return [str(text) for text in texts if text] + [(doc.get("markdown") or "")[:chars]]


# The app's FTS5 configuration (jobs/migrations/0009), on the bare table: the markdown's first
# 100,000 characters, title and URL, read from the JSON by the insert trigger.
_SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE cached_fts USING fts5(title, url, body, content='', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER cached_fts_insert AFTER INSERT ON cached BEGIN "
    "INSERT INTO cached_fts(rowid, title, url, body) VALUES (new.position, "
    "json_extract(new.raw, '$.metadata.title'), json_extract(new.raw, '$.metadata.url'), "
    "substr(json_extract(new.raw, '$.markdown'), 1, 100000)); END",
]


def _write_sqlite_from(path: str, pages: Any, indexed: bool = False) -> int:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE cached (position INTEGER PRIMARY KEY, raw TEXT NOT NULL)")
    for statement in _SQLITE_INDEX if indexed else []:
        conn.execute(statement)
    position = 0
    while (page := pages.get()) is not None:
        texts, _ = page
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO cached VALUES (?, ?)", enumerate(texts, start=position))
        conn.execute("COMMIT")
        position += len(texts)
    conn.close()
    return position


def _write_postgres_from(url: str, pages: Any, indexed: bool = False) -> int:
    import psycopg

    position = 0
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE cached (position integer PRIMARY KEY, raw text COMPRESSION lz4 NOT NULL, "
            "search tsvector)"
        )
        if indexed:
            conn.execute("CREATE INDEX cached_search ON cached USING gin (search)")
        while (page := pages.get()) is not None:
            texts, words = page
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy("COPY cached (position, raw) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.set_types(["integer", "text"])
                    for row in enumerate(texts, start=position):
                        copy.write_row(row)
                if words is not None:
                    # The app's statement (jobs.models.search_index._SET_VECTORS_AT).
                    cursor.execute(
                        "UPDATE cached SET search = to_tsvector('simple', batch.words) "
                        "FROM unnest(%s::integer[], %s::text[]) AS batch(position, words) "
                        "WHERE cached.position = batch.position",
                        [list(range(position, position + len(texts))), words],
                    )
            position += len(texts)
    return position


def _write_sqlite(path: str, pages: list[list[str]]) -> float:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE cached (position INTEGER PRIMARY KEY, raw TEXT NOT NULL)")
    started = time.perf_counter()
    position = 0
    for texts in pages:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO cached VALUES (?, ?)", enumerate(texts, start=position))
        conn.execute("COMMIT")
        position += len(texts)
    seconds = time.perf_counter() - started
    conn.close()
    return seconds


def _write_postgres(url: str, pages: list[list[str]]) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE cached (position integer PRIMARY KEY, raw text COMPRESSION lz4 NOT NULL)"
        )
        started = time.perf_counter()
        position = 0
        for texts in pages:
            with (
                conn.transaction(),
                conn.cursor() as cursor,
                cursor.copy("COPY cached FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.set_types(["integer", "text"])
                for row in enumerate(texts, start=position):
                    copy.write_row(row)
            position += len(texts)
        return time.perf_counter() - started


def sdk(url: str, job_id: str) -> dict[str, Any]:
    from firecrawl import Firecrawl  # type: ignore[import-untyped,unused-ignore]

    client = Firecrawl(api_key=SIM_KEY, api_url=url)
    started = time.perf_counter()
    job = client.get_batch_scrape_status(job_id)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "documents": len(job.data or []), "status": job.status}


def track(url: str, job_id: str) -> dict[str, Any]:
    setup_django()
    from django.contrib.auth.models import User

    from jobs.models import Job
    from keys.models import ApiKey

    user = User.objects.create_user("bench")
    key = ApiKey.objects.create(owner=user, name="Bench", key=SIM_KEY, api_url=url)
    job = Job.objects.create(
        owner=user, api_key=key, api_url=url, api_version=key.api_version, remote_id=job_id
    )
    return {"job_pk": job.pk, "user_pk": user.pk}


def sync(
    job_pk: int, profile: str = "", *, sequential: bool = False, unindexed: bool = False
) -> dict[str, Any]:
    setup_django()
    from django.db import connection

    from jobs.models import Job, search_index
    from jobs.prefetch import PageReader
    from jobs.search import index_documents, unindexed_count
    from jobs.sync import sync_job

    if sequential:
        # The design's alternative, for comparison: read page k+1 only after storing page k.
        PageReader.start = lambda self, skip: None  # type: ignore[method-assign]
    if unindexed:
        # The previous design, for comparison: pages stored unindexed, a task indexing after.
        search_index.mark_for_index = lambda documents: None
        search_index.index_inserted = lambda *args: None
        search_index.cuts_words = lambda: False  # nor does the page reader cut words

    connection.ensure_connection()
    base_rss = _rss_mb()
    profiler: Any = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    runs, pages = 0, 0
    job = Job.objects.get(pk=job_pk)
    while not (job.fully_cached and job.is_terminal) and runs < 1000:
        result = sync_job(job_pk)
        runs += 1
        pages += result.pages
        if result.error:
            raise RuntimeError(result.error)
        job.refresh_from_db()
    seconds = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    # All cached: how long until the last document is searchable, with this one worker.
    cached_at = time.perf_counter()
    left = unindexed_count(job_pk)
    if left:
        index_documents(job_pk)
    return {
        "seconds": seconds,
        "runs": runs,
        "pages": pages,
        "documents": job.documents_cached,
        "base_rss_mb": base_rss,
        "unindexed": left,
        "searchable_lag": time.perf_counter() - cached_at,
    }


def index(job_pk: int, workers: int = 1) -> dict[str, Any]:
    if workers > 1:
        return _index_in_parallel(job_pk, workers)
    setup_django()
    from django.db import connection

    from jobs.search import index_documents

    connection.ensure_connection()
    started = time.perf_counter()
    documents = index_documents(job_pk)
    return {"seconds": time.perf_counter() - started, "documents": documents}


def _index_in_parallel(job_pk: int, workers: int) -> dict[str, Any]:
    """N indexers at once, as N task workers would run them; timed from the moment all are
    ready (Django set up, connected) to the last one done."""
    import os
    import subprocess

    go = f"/tmp/bench-index-go-{os.getpid()}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.ingest", "index-after", str(job_pk), go],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    started = time.perf_counter()
    open(go, "w").close()
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        results.append(json.loads(out.splitlines()[-1].removeprefix("BENCH-RESULT ")))
    os.unlink(go)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "documents": sum(r["documents"] for r in results)}


def _index_after(job_pk: int, go: str) -> dict[str, Any]:
    import os

    setup_django()
    from django.db import connection

    from jobs.search import index_documents

    connection.ensure_connection()
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    return {"documents": index_documents(job_pk)}


def size() -> dict[str, Any]:
    setup_django()
    import os

    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return {"bytes": cursor.fetchone()[0]}
    name = str(connection.settings_dict["NAME"])
    files = [name + suffix for suffix in ("", "-wal")]
    return {"bytes": sum(os.path.getsize(f) for f in files if os.path.exists(f))}


def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "floor":
        emit(floor(argv[1], argv[2]))
    elif mode == "write":
        emit(write(argv[1], argv[2], argv[3]))
    elif mode == "overlap":
        emit(overlap(argv[1], argv[2], argv[3]))
    elif mode == "overlap-indexed":
        emit(overlap(argv[1], argv[2], argv[3], indexed=True))
    elif mode == "overlap-threads":
        emit(overlap(argv[1], argv[2], argv[3], indexed=True, threads=True))
    elif mode == "sdk":
        emit(sdk(argv[1], argv[2]))
    elif mode == "track":
        emit(track(argv[1], argv[2]))
    elif mode == "sync":
        emit(sync(int(argv[1]), argv[2] if len(argv) > 2 else ""))
    elif mode == "sequential":
        emit(sync(int(argv[1]), sequential=True))
    elif mode == "unindexed":
        emit(sync(int(argv[1]), unindexed=True))
    elif mode == "index":
        emit(index(int(argv[1]), int(argv[2]) if len(argv) > 2 else 1))
    elif mode == "size":
        emit(size())
    elif mode == "index-after":
        emit(_index_after(int(argv[1]), argv[2]))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
