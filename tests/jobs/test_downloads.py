"""The download views: zip, JSONL and CSV, streamed with flat memory, only to the job's owner."""

import csv
import io
import json
import tracemalloc
import zipfile

import pytest
from django.test import Client

from jobs import export
from jobs.models import Document, Job
from keys.models import ApiKey
from tests.conftest import make_documents, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e33"


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, JOB_ID, label="Big batch", status=Job.Status.COMPLETED)


def body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_download_zip_streams_a_zip_named_after_the_job(alice_client: Client, job: Job) -> None:
    make_documents(job, 3)
    response = alice_client.get(f"/jobs/{job.pk}/download.zip")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="big-batch.zip"'
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert "manifest.json" in archive.namelist()
    assert len(archive.read("documents.jsonl").splitlines()) == 3


def test_the_zip_from_the_browser_honours_its_filters(alice_client: Client, job: Job) -> None:
    make_documents(job, 5)
    Document.objects.filter(job=job, position__in=[1, 3]).update(status_code=404, error="Gone")
    response = alice_client.get(f"/jobs/{job.pk}/download.zip?status=4xx&sort=url&page=2")
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    manifest = json.loads(archive.read("manifest.json"))
    assert [e["position"] for e in manifest["documents"]] == [1, 3]
    assert manifest["filters"] == {"status": "4xx"}
    assert "matching the filters" in manifest["note"]
    # Not the whole job's name: the file says it holds a selection.
    disposition = 'attachment; filename="big-batch-filtered-status-4xx.zip"'
    assert response["Content-Disposition"] == disposition


def test_a_download_with_a_bad_filter_is_a_400(alice_client: Client, job: Job) -> None:
    assert alice_client.get(f"/jobs/{job.pk}/download.zip?status=9xx").status_code == 400
    assert alice_client.get(f"/jobs/{job.pk}/download.csv?error=2").status_code == 400


def test_download_jsonl_and_csv(alice_client: Client, job: Job) -> None:
    make_documents(job, 2)
    jsonl = alice_client.get(f"/jobs/{job.pk}/download.jsonl")
    assert jsonl["Content-Disposition"] == 'attachment; filename="big-batch.jsonl"'
    assert [json.loads(line)["metadata"]["title"] for line in body(jsonl).splitlines()] == [
        "Page 0",
        "Page 1",
    ]
    csv_response = alice_client.get(f"/jobs/{job.pk}/download.csv")
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    lines = body(csv_response).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("position,url,source_url,title,status_code")
    assert len(lines) == 3


@pytest.mark.parametrize(
    "name", ["download.zip", "download.jsonl", "download.csv", "download.xlsx"]
)
def test_it_rejects_other_users_downloads(bob_client: Client, job: Job, name: str) -> None:
    make_documents(job, 1)
    assert bob_client.get(f"/jobs/{job.pk}/{name}").status_code == 404


def test_the_zip_streams_with_flat_memory_on_a_large_job(alice_client: Client, job: Job) -> None:
    """2,000 documents of ~100 KB (about 200 MB with markdown and html): peak memory stays small."""
    count, chunk = 2_000, 200
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 860  # ~50 KB
    total = 0
    for start in range(0, count, chunk):
        docs = []
        for position in range(start, start + chunk):
            raw = json.dumps(
                {
                    "markdown": f"# Page {position}\n\n{paragraph}",
                    "html": f"<h1>Page {position}</h1><p>{paragraph}</p>",
                    "metadata": {"title": f"Page {position}", "url": f"https://a.test/{position}"},
                }
            )
            total += len(raw)
            docs.append(
                Document(
                    job=job, position=position, title=f"Page {position}", size=len(raw), raw=raw
                )
            )
        Document.objects.bulk_create(docs)
        del docs

    response = alice_client.get(f"/jobs/{job.pk}/download.zip")
    tracemalloc.start()
    pieces = []
    try:
        for piece in response.streaming_content:  # type: ignore[attr-defined]
            pieces.append(len(piece))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nzip of {total / 1e6:.0f} MB cached: peak Python memory {peak / 1e6:.1f} MB")
    assert total > 190_000_000
    # Sent as it is written, a piece per batch of documents read (4 MB) at least, never held
    # whole (how soon the first byte comes is measured by `make bench`).
    assert len(pieces) > total / export.ZIP_BYTES_PER_BATCH and max(pieces) < total / 100
    assert peak < total / 5


def test_the_csv_holds_the_columns_the_user_chose(alice_client: Client, job: Job) -> None:
    make_documents(job, 2)
    # Any order in the query string; the table's order in the file.
    response = alice_client.get(
        f"/jobs/{job.pk}/download.csv?columns=markdown&columns=title&columns=position"
    )
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows == [
        ["position", "title", "markdown"],
        ["0", "Page 0", "# Page 0\n\nSome text about page 0."],
        ["1", "Page 1", "# Page 1\n\nSome text about page 1."],
    ]


def test_an_unknown_column_is_a_400(alice_client: Client, job: Job) -> None:
    response = alice_client.get(f"/jobs/{job.pk}/download.csv?columns=raw")
    assert response.status_code == 400
    assert "Columns (columns)" in response.text


def test_download_xlsx_opens_with_a_row_per_document(alice_client: Client, job: Job) -> None:
    from openpyxl import load_workbook

    make_documents(job, 3)
    Document.objects.filter(job=job, position=1).update(status_code=404, error="Gone")
    response = alice_client.get(f"/jobs/{job.pk}/download.xlsx?status=4xx&columns=markdown")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="big-batch-filtered-status-4xx.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True)["Documents"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows == [["markdown"], ["# Page 1\n\nSome text about page 1."]]


def test_the_documents_page_offers_the_column_choice(alice_client: Client, job: Job) -> None:
    make_documents(job, 1)
    html = alice_client.get(f"/jobs/{job.pk}/documents/?q=page&status=2xx").text
    assert 'name="columns" value="markdown">' in html  # opt-in: not checked
    assert 'name="columns" value="title" checked>' in html
    assert '<input type="hidden" name="q" value="page">' in html
    assert f'formaction="/jobs/{job.pk}/download.xlsx"' in html


def _peak_xlsx_memory(job: Job, rows: int) -> int:
    Document.objects.filter(job=job).delete()
    Document.objects.bulk_create(
        Document(job=job, position=n, title=f"Title {n}", url=f"https://a.test/{n}", raw="{}")
        for n in range(rows)
    )
    tracemalloc.start()
    try:
        for _ in export.xlsx_stream(Document.objects.filter(job=job)):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_xlsx_is_written_with_flat_memory(job: Job) -> None:
    # Both past what the zip keeps in flight (a few MB of XML): flat from there on.
    small, large = _peak_xlsx_memory(job, 10_000), _peak_xlsx_memory(job, 40_000)
    print(
        f"\nxlsx peak Python memory: {small / 1e6:.1f} MB (10,000 rows), "
        f"{large / 1e6:.1f} MB (40,000)"
    )
    assert large < 1.5 * small
