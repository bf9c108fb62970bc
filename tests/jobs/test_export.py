"""jobs.export: safe file names, and the zip, JSONL and CSV built from the cache."""

import csv
import io
import json
import re
import zipfile
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs import export
from jobs.models import Document, Job
from keys.models import ApiKey
from tests.conftest import make_documents, make_failed_urls, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e22"
SAFE_NAME = re.compile(r"^\d+-[a-z0-9]+(-[a-z0-9]+)*\.(md|html)$")


@given(
    st.integers(min_value=0, max_value=10**9), st.text(), st.text(), st.sampled_from(["md", "html"])
)
def test_document_file_names_are_safe_on_every_os(
    position: int, title: str, url: str, extension: str
) -> None:
    name = export.document_filename(position, title, url, extension)
    assert SAFE_NAME.match(name), name
    assert len(name) <= 12 + 1 + export.SLUG_MAX + 5
    assert "/" not in name and "\\" not in name and ".." not in name
    stem = name.split("-", 1)[1].rsplit(".", 1)[0]
    assert stem not in export.WINDOWS_RESERVED


@given(st.text())
def test_slugs_are_never_empty_dots_or_device_names(text: str) -> None:
    slug = export.slugify_name(text)
    assert slug and slug not in {".", ".."} and slug not in export.WINDOWS_RESERVED
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    assert len(slug) <= export.SLUG_MAX


@pytest.mark.parametrize(
    ("title", "url", "expected"),
    [
        ("Héllo Wörld!", "", "3-hello-world.md"),
        ("", "https://a.test/docs/Getting%20Started/", "3-docs-getting-20started.md"),
        ("", "https://a.test/", "3-a-test.md"),
        ("", "", "3-document.md"),
        ("CON", "", "3-con-document.md"),
        ("../../../etc/passwd", "", "3-etc-passwd.md"),
        ("日本語のページ", "https://a.test/jp", "3-document.md"),
    ],
)
def test_document_names_read_well(title: str, url: str, expected: str) -> None:
    assert export.document_filename(3, title, url, "md") == expected


def test_a_job_zip_is_named_after_its_label_or_id(key: ApiKey) -> None:
    job = make_job(key, JOB_ID, label="Q3 pricing / crawl")
    assert export.job_filename(job, "zip") == "q3-pricing-crawl.zip"
    job.label = ""
    assert export.job_filename(job, "zip") == f"{JOB_ID}.zip"
    job.label = "nul"
    assert export.job_filename(job, "zip") == "nul-job.zip"


def test_csv_cells_that_look_like_formulas_stay_text() -> None:
    assert export.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert export.csv_cell("+1") == "'+1"
    assert export.csv_cell("@SUM") == "'@SUM"
    assert export.csv_cell("-2") == "'-2"
    assert export.csv_cell("plain") == "plain"
    # What spreadsheets skip before they look: spaces, zero-width spaces, a BOM; and the
    # fullwidth signs some read as their ASCII twins.
    for sneaky in (" =1+1", "\u200b=cmd", "\ufeff@SUM(A1)", "\uff1d1+1", "\u00a0 -2"):
        assert export.csv_cell(sneaky) == "'" + sneaky
    assert export.csv_cell(" plain") == " plain" and export.csv_cell("") == ""
    assert export.csv_cell(404) == 404


def read_zip(job: Job, documents: Any = None, filters: Any = None) -> zipfile.ZipFile:
    documents = documents if documents is not None else Document.objects.filter(job=job)
    data = b"".join(export.zip_stream(job, documents, filters))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return archive


@pytest.fixture
def job(key: ApiKey) -> Job:
    job = make_job(
        key,
        JOB_ID,
        label="Export",
        status=Job.Status.COMPLETED,
        total=4,
        completed=4,
        credits_used=4,
        fully_cached=True,
        sync_state=Job.SyncState.SETTLED,
    )
    make_documents(job, 3)
    make_failed_urls(
        job,
        "https://a.test/fail",
        code="SCRAPE_FAILED",
        error="boom",
        robots_blocked=("https://a.test/private",),
    )
    return job


def test_the_zip_holds_every_entry_checked_against_the_cache(job: Job) -> None:
    Document.objects.filter(job=job, position=1).update(
        raw=json.dumps({"metadata": {"title": "No content"}}), title="../../Windows/CON"
    )
    archive = read_zip(job)
    names = archive.namelist()
    # The documents' files, then documents.jsonl (written from the same reading), manifest last.
    assert names.index("documents.jsonl") == len([n for n in names if n.endswith((".md", ".html"))])
    assert names[-1] == "manifest.json"
    assert len(names) == len(set(names))
    assert sorted(n for n in names if n.startswith("markdown/")) == [
        "markdown/0-page-0.md",
        "markdown/2-page-2.md",
    ]
    assert sorted(n for n in names if n.startswith("html/")) == [
        "html/0-page-0.html",
        "html/2-page-2.html",
    ]
    for name in names:
        leaf = name.split("/")[-1]
        assert ".." not in name and "\\" not in name and leaf and not name.startswith("/")

    lines = archive.read("documents.jsonl").decode().splitlines()
    stored = Document.objects.filter(job=job).order_by("position")
    assert lines == [document.raw for document in stored]
    assert [json.loads(line) for line in lines] == [json.loads(document.raw) for document in stored]

    page0 = json.loads(stored[0].raw)
    assert archive.read("markdown/0-page-0.md").decode() == page0["markdown"]
    assert archive.read("html/0-page-0.html").decode() == page0["html"]

    errors = json.loads(archive.read("errors.json"))
    assert [(e["url"], e["robotsBlocked"]) for e in errors] == [
        ("https://a.test/fail", False),
        ("https://a.test/private", True),
    ]

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["complete"] is True
    assert manifest["job"]["id"] == JOB_ID and manifest["job"]["apiUrl"] == job.api_url
    assert manifest["job"]["status"] == "completed" and manifest["job"]["creditsUsed"] == 4
    assert manifest["counts"]["inZip"] == 3 and manifest["counts"]["failed"] == 1
    assert manifest["counts"]["robotsBlocked"] == 1 and manifest["counts"]["upstreamTotal"] == 4
    entries = manifest["documents"]
    assert [e["position"] for e in entries] == [0, 1, 2]
    assert entries[0] == {
        "position": 0,
        "url": "https://example.test/page/0",
        "sourceURL": "https://example.test/page/0",
        "title": "Page 0",
        "statusCode": 200,
        "error": None,
        "markdown": "markdown/0-page-0.md",
        "html": "html/0-page-0.html",
    }
    assert entries[1]["markdown"] is None and entries[1]["html"] is None
    for entry in entries:
        for key in ("markdown", "html"):
            assert entry[key] is None or entry[key] in names


def test_a_running_job_zip_says_it_is_incomplete(job: Job) -> None:
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SCRAPING, fully_cached=False, total=10)
    job.refresh_from_db()
    manifest = json.loads(read_zip(job).read("manifest.json"))
    assert manifest["complete"] is False
    assert "still scraping" in manifest["note"] and "3 documents cached so far" in manifest["note"]


def test_documents_cached_during_the_download_are_not_half_listed(job: Job) -> None:
    stream = export.zip_stream(job, Document.objects.filter(job=job))
    first = next(stream)
    make_documents(job, 2, start=3)  # the sync adds more while the zip is being read
    data = first + b"".join(stream)
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    listed = {e["position"] for e in manifest["documents"]}
    in_jsonl = {
        json.loads(line)["metadata"]["title"]
        for line in archive.read("documents.jsonl").splitlines()
    }
    assert len(listed) == len(in_jsonl) == manifest["counts"]["inZip"]


def test_the_jsonl_round_trips_every_document(job: Job) -> None:
    data = b"".join(export.jsonl_stream(Document.objects.filter(job=job)))
    lines = data.decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        json.loads(d.raw) for d in Document.objects.filter(job=job).order_by("position")
    ]


def test_the_csv_has_the_filterable_columns_and_defuses_formulas(job: Job) -> None:
    Document.objects.filter(job=job, position=0).update(
        title="=cmd|' /C calc'!A0",
        raw=json.dumps({"metadata": {"language": "fr", "contentType": "text/html"}}),
    )
    text = "".join(export.csv_stream(Document.objects.filter(job=job)))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == export.CSV_COLUMNS
    assert rows[1][3] == "'=cmd|' /C calc'!A0"
    assert rows[1][8:10] == ["fr", "text/html"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]


def test_batches_are_bounded_by_bytes_as_well_as_rows(job: Job, monkeypatch: Any) -> None:
    monkeypatch.setattr(export, "BYTES_PER_BATCH", 1)
    positions = [
        d.position for d in export.iter_documents(Document.objects.filter(job=job), ["position"])
    ]
    assert positions == [0, 1, 2]


def test_a_pretty_printed_document_is_one_jsonl_line_with_the_same_data() -> None:
    document = {"markdown": "line one\nline two", "metadata": {"title": "é \ud800 half"}}
    raw = json.dumps(document, indent=2)  # as an upstream that pretty-prints would send it
    line = export.jsonl_line(raw)
    assert line.count("\n") == 1 and line.endswith("\n")
    assert json.loads(line) == document
    line.encode()  # a lone surrogate stays an escape, so the line is valid UTF-8


# The zip writer ---------------------------------------------------------------------------


def test_info_zip_finds_the_zip_whole(job: Job, tmp_path: Any) -> None:
    import shutil
    import subprocess

    if not shutil.which("unzip"):
        pytest.skip("Info-ZIP's unzip is not installed")
    path = tmp_path / "job.zip"
    path.write_bytes(b"".join(export.zip_stream(job, Document.objects.filter(job=job))))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No errors detected" in result.stdout


def test_sizes_and_offsets_past_four_gigabytes_get_zip64_records(
    job: Job, monkeypatch: Any, tmp_path: Any
) -> None:
    import shutil
    import subprocess

    from jobs import zipwriter

    # Every size and offset past 100 bytes is written as if it were past 4 GB.
    monkeypatch.setattr(zipwriter, "_ZIP64_LIMIT", 100)
    data = b"".join(export.zip_stream(job, Document.objects.filter(job=job)))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert len(archive.read("documents.jsonl").splitlines()) == 3
    assert any(info.file_size > 100 and info.header_offset > 100 for info in archive.infolist())
    assert b"PK\x06\x06" in data[-200:]  # the ZIP64 end of central directory
    if shutil.which("unzip"):
        path = tmp_path / "zip64.zip"
        path.write_bytes(data)
        result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


# Never silently truncated -------------------------------------------------------------------


def test_a_document_that_cannot_be_written_is_listed_not_dropped(
    job: Job, monkeypatch: Any
) -> None:
    stem = export.document_stem

    def failing_stem(position: int, title: str, url: str) -> str:
        if position == 1 and title == "Page 1":  # while writing markdown/ and html/
            raise ValueError("cannot name this one")
        return stem(position, title, url)

    monkeypatch.setattr(export, "document_stem", failing_stem)
    archive = read_zip(job)  # a valid archive (read_zip tests every entry)
    names = archive.namelist()
    assert "markdown/0-page-0.md" in names and "markdown/2-page-2.md" in names
    assert not any(name.startswith(("markdown/1-", "html/1-")) for name in names)
    errors = archive.read("ERRORS.txt").decode()
    assert "position 1" in errors and "cannot name this one" in errors
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["incomplete"] is True
    assert manifest["notWritten"] == [{"position": 1, "error": "ValueError: cannot name this one"}]
    listed = {entry["position"]: entry for entry in manifest["documents"]}
    assert listed[1]["notWritten"] and listed[1]["markdown"] is None
    assert len(archive.read("documents.jsonl").splitlines()) == 3


def test_a_read_that_fails_midway_still_ends_in_a_valid_zip_that_says_so(
    job: Job, monkeypatch: Any
) -> None:
    from django.db import DatabaseError

    batches = export.iter_raw_batches

    def failing_after_one(documents: Any, *, with_names: bool = False, **options: Any) -> Any:
        for number, batch in enumerate(batches(documents, with_names=with_names, **options)):
            if with_names and number == 1:
                raise DatabaseError("the connection was lost")
            yield batch

    monkeypatch.setattr(export, "ROWS_PER_BATCH", 1)
    monkeypatch.setattr(export, "iter_raw_batches", failing_after_one)
    archive = read_zip(job)
    assert [n for n in archive.namelist() if n.startswith("markdown/")] == ["markdown/0-page-0.md"]
    assert "the connection was lost" in archive.read("ERRORS.txt").decode()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["incomplete"] is True and "connection was lost" in manifest["stopped"][0]


def test_a_whole_zip_says_it_is_whole(job: Job) -> None:
    archive = read_zip(job)
    assert "ERRORS.txt" not in archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["incomplete"] is False and manifest["notWritten"] == []


def test_the_table_exports_end_with_the_error_rather_than_silently(
    job: Job, monkeypatch: Any
) -> None:
    from django.db import DatabaseError

    def failing(documents: Any, fields: Any) -> Any:
        yield from []
        raise DatabaseError("the connection was lost")

    monkeypatch.setattr(export, "iter_documents", failing)
    for stream in (export.csv_stream, export.xlsx_stream, export.jsonl_stream):
        with pytest.raises(DatabaseError):
            b"".join(
                c if isinstance(c, bytes) else c.encode()
                for c in stream(Document.objects.filter(job=job))
            )


# Hostile text in every export ----------------------------------------------------------------

HOSTILE_RAW = json.dumps(
    {
        "markdown": "half \ud800 of a pair, a NUL \u0000 and a \u0001 control",
        "html": "<p>\udfff</p>",
        "metadata": {"title": "T \ud83d", "language": "e\u0000n", "contentType": "\ud800"},
    }
)


@pytest.fixture
def hostile(job: Job) -> Job:
    Document.objects.filter(job=job, position=1).update(raw=HOSTILE_RAW, title="T \ufffd")
    return job


def test_the_zip_survives_unpaired_surrogates_and_nul(hostile: Job) -> None:
    archive = read_zip(hostile)
    markdown = archive.read("markdown/1-t.md").decode()
    assert "half \ufffd of a pair, a NUL \ufffd" in markdown
    assert archive.read("html/1-t.html").decode() == "<p>\ufffd</p>"
    assert json.loads(archive.read("documents.jsonl").splitlines()[1]) == json.loads(HOSTILE_RAW)


def test_the_jsonl_survives_a_stored_text_no_encoder_takes() -> None:
    # Never written by the sync, whose text is always parsed JSON; read back whole anyway.
    line = export.jsonl_bytes('{"markdown": "lone \ud800 char"}')
    assert json.loads(line) == {"markdown": "lone \ud800 char"}
    assert export.jsonl_bytes("not json \ud800") == b'"not json \\ud800"\n'


def test_the_csv_survives_unpaired_surrogates_and_nul(hostile: Job) -> None:
    columns = ["position", "title", "language", "content_type", "markdown"]
    text = "".join(export.csv_stream(Document.objects.filter(job=hostile), columns))
    text.encode("utf-8")  # what the response does with it
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[2][2:4] == ["e\ufffdn", "\ufffd"]
    assert rows[2][4].startswith("half \ufffd of a pair, a NUL \ufffd")


def test_the_xlsx_survives_unpaired_surrogates_nul_and_control_characters(hostile: Job) -> None:
    from openpyxl import load_workbook

    columns = ["position", "title", "language", "markdown"]
    data = b"".join(export.xlsx_stream(Document.objects.filter(job=hostile), columns))
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Documents"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[2][:3] == [1, "T \ufffd", "e\ufffdn"]
    assert rows[2][3] == "half \ufffd of a pair, a NUL \ufffd and a \ufffd control"


# CSV columns and xlsx --------------------------------------------------------------------------


def test_the_csv_holds_the_chosen_columns_content_included(job: Job) -> None:
    columns = ["position", "title", "markdown"]
    text = "".join(export.csv_stream(Document.objects.filter(job=job), columns))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == columns
    assert rows[1] == ["0", "Page 0", "# Page 0\n\nSome text about page 0."]
    assert len(rows) == 4


def test_the_xlsx_holds_a_row_per_document_in_the_chosen_columns(job: Job) -> None:
    from openpyxl import load_workbook

    Document.objects.filter(job=job, position=2).update(title="=HYPERLINK(1)", status_code=None)
    data = b"".join(export.xlsx_stream(Document.objects.filter(job=job)))
    sheet = load_workbook(io.BytesIO(data), read_only=True)["Documents"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == export.CSV_COLUMNS
    assert [row[0] for row in rows[1:]] == [0, 1, 2]
    assert rows[1][1:5] == [
        "https://example.test/page/0",
        "https://example.test/page/0",
        "Page 0",
        200,
    ]
    # A title that looks like a formula stays text; a missing status code is an empty cell.
    assert rows[3][3] == "=HYPERLINK(1)" and rows[3][4] is None


def test_a_cell_longer_than_excel_allows_says_it_was_cut() -> None:
    text = export.xlsx_text("x" * 40_000)
    assert len(text) == export.XLSX_CELL_MAX
    assert text.endswith("[cut at 32,767 of 40,000 characters: the zip has it all]")
    assert export.xlsx_text("short") == "short"


def test_the_zip_keeps_its_central_directory_on_disk_not_in_memory() -> None:
    """A job of 100,000 documents has 200,000 entries: their directory must not be memory."""
    import tracemalloc

    from jobs.zipwriter import ZipStream

    names = [
        f"markdown/{n}-{'a-fairly-long-slug-for-a-document-title' * 2}.md" for n in range(60_000)
    ]
    archive = ZipStream()
    tracemalloc.start()
    try:
        size = 0
        for start in range(0, len(names), 2_000):
            batch = [(name, b"x") for name in names[start : start + 2_000]]
            size += sum(len(chunk) for chunk in archive.add_files([batch]))
        size += sum(len(chunk) for chunk in archive.close())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    directory = 60_000 * (46 + len(names[-1]))
    print(f"\n60,000 entries: central directory {directory / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB")
    assert peak < directory / 3


def test_a_filtered_download_is_named_after_its_filters(key: ApiKey) -> None:
    job = make_job(key, JOB_ID, label="Blog archive")
    assert export.job_filename(job, "zip", {}) == "blog-archive.zip"
    filtered = export.job_filename(job, "zip", {"status": "errors", "q": "Pricing page"})
    assert filtered == "blog-archive-filtered-q-pricing-page-status-errors.zip"
