"""Every download answers at once: its first bytes are sent before the job's documents are read
(or, for JSONL, after the first batch of them; for the zip, after the two its threads deflate
first), whatever their number. How soon, in seconds, is measured by `make bench`
(docs/PERFORMANCE.md); here it is shown on the database reads."""

import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jobs.models import Document, Job
from keys.models import ApiKey
from tests.conftest import make_documents, make_job


@pytest.fixture
def job(key: ApiKey) -> Job:
    job = make_job(key, str(uuid.uuid4()), status="completed", label="Many")
    make_documents(job, 1_200)
    return job


def document_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if "jobs_document" in q["sql"] and "LIMIT 1" not in q["sql"]]


@pytest.mark.parametrize("format", ["xlsx", "csv"])
def test_the_first_bytes_leave_before_any_document_is_read(
    alice_client: Client, job: Job, format: str
) -> None:
    response = alice_client.get(f"/jobs/{job.pk}/download.{format}")
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]

    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)

    assert first
    assert document_reads(queries) == []
    assert len(b"".join([first, *chunks])) > 40_000  # and the rest follows


def test_the_first_jsonl_lines_leave_after_one_batch(alice_client: Client, job: Job) -> None:
    response = alice_client.get(f"/jobs/{job.pk}/download.jsonl")
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]

    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)

    assert first.count(b"\n") < 1_200
    assert len(document_reads(queries)) <= 2


def test_the_first_zip_entries_leave_after_two_batches(alice_client: Client, job: Job) -> None:
    # The zip reads each batch of documents once, for its files and its documents.jsonl lines,
    # and sends a batch's files once the threads have deflated it, one batch behind the reading.
    response = alice_client.get(f"/jobs/{job.pk}/download.zip")
    chunks = iter(response.streaming_content)  # type: ignore[attr-defined]

    with CaptureQueriesContext(connection) as queries:
        first = next(chunks)

    assert first.startswith(b"PK\x03\x04") and b"markdown/0-" in first
    assert len(document_reads(queries)) <= 4  # two batches of 200: their sizes, then their rows
    assert len(b"".join([first, *chunks])) > 40_000  # and the rest follows


@pytest.mark.parametrize("format", ["xlsx", "csv", "jsonl", "zip"])
def test_a_big_download_keeps_sending_while_its_documents_are_read(
    alice_client: Client, key: ApiKey, format: str
) -> None:
    # Big enough for several byte-bounded batches of documents and several zip pieces.
    job = make_job(key, str(uuid.uuid4()), status="completed", label="Big")
    raw = json.dumps({"markdown": "word " * 50, "metadata": {"title": "Page"}})
    Document.objects.bulk_create(
        Document(job=job, position=n, title=f"Page {n}", url=f"https://x.test/{n}", raw=raw)
        for n in range(8_000)
    )
    reads = 0

    def count(execute: Any, sql: str, *args: Any) -> Any:
        nonlocal reads
        reads += "jobs_document" in sql and "LIMIT 1" not in sql
        return execute(sql, *args)

    response = alice_client.get(f"/jobs/{job.pk}/download.{format}")
    reads_at_chunk = []
    with connection.execute_wrapper(count):
        for chunk in response.streaming_content:  # type: ignore[attr-defined]
            if chunk:
                reads_at_chunk.append(reads)

    # Bytes left while reading went on: some chunk came before the last read of a document.
    assert len(reads_at_chunk) > 2
    assert min(reads_at_chunk[1:]) < reads
