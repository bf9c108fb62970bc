"""Downloads of a job's cache (zip, JSONL, CSV, xlsx), built as streams with flat memory.

Documents are read in keyset batches (`position > last`) bounded by bytes as well as rows, so a
500 MB job never has more than a few MB of it in memory, and the first bytes leave before the
last document is read. The zip is written by jobs.zipwriter, deflating in two threads beside
the view's; one reading of the documents feeds both their markdown/ and html/ files and
documents.jsonl, and its manifest comes last, when every entry is known.

No download is ever cut short silently. Every text written is display-safe (firecrawl_api.text),
so no document can fail an encoder. The zip records a document it could not write, or a read that
failed, in its manifest and in ERRORS.txt, and always ends as a valid archive; the other
formats cannot report inside the file, so a failure there ends the stream with the exception,
which the server turns into a broken transfer the browser shows as failed.
"""

import csv
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.core.files.storage import storages
from django.db import DatabaseError, connection
from django.db.models import BinaryField, Func, Q, QuerySet
from django.utils import timezone

from firecrawl_api.text import clean_text
from firecrawl_api.wire import ScrapedDocument
from jobs.models import SUMMARY_FIELDS, Document, FailedUrl, Job, Screenshot
from jobs.models.failed_urls import iter_failed_urls
from jobs.spreadsheet import workbook_stream
from jobs.zipwriter import ZipStream

logger = logging.getLogger(__name__)

ROWS_PER_BATCH = 200
# Raw text loaded at once: a batch stops early when its documents add up to more than this.
BYTES_PER_BATCH = 8 * 1024 * 1024
# The zip holds two batches in flight (one read, one deflating in the threads): half as big.
ZIP_BYTES_PER_BATCH = 4 * 1024 * 1024
SLUG_MAX = 60
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in "123456789"
}
# The metadata columns of CSV and xlsx, by default; `markdown` (the page's content) is opt-in.
CSV_COLUMNS = [
    "position", "url", "source_url", "title", "status_code", "error", "warning", "size",
    "language", "content_type", "scrape_id",
]  # fmt: skip
EXPORT_COLUMNS = [*CSV_COLUMNS, "markdown"]
# Columns read from `raw` (the whole document JSON), which is loaded only when one is asked for.
_CONTENT_COLUMNS = {"language", "content_type", "markdown"}
# Excel holds at most this many characters in a cell.
XLSX_CELL_MAX = 32_767


# File names ---------------------------------------------------------------------------------


def slugify_name(text: str, fallback: str = "document", max_length: int = SLUG_MAX) -> str:
    """[a-z0-9-] only, no leading/trailing dash, bounded, never empty nor a Windows device name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    if not slug:
        slug = fallback
    if slug in WINDOWS_RESERVED:
        slug = f"{slug}-{fallback}"
    return slug


def document_stem(position: int, title: str, url: str) -> str:
    """`<position>-<slug>`: the position makes it unique, the slug makes it recognisable."""
    source = title.strip()
    if not source and url:
        parts = urlsplit(url)
        source = parts.path.strip("/").replace("/", " ") or parts.netloc
    return f"{int(position)}-{slugify_name(source)}"


def document_filename(position: int, title: str, url: str, extension: str) -> str:
    return f"{document_stem(position, title, url)}.{extension}"


def job_filename(job: Job, extension: str, filters: dict[str, Any] | None = None) -> str:
    """`<label or job id>.<extension>`; a download that follows the document browser's filters
    says so, and which (`…-filtered-status-errors.zip`), so it never passes for the whole job."""
    stem = slugify_name(job.label, fallback="job") if job.label else str(job.remote_id)
    if filters:
        chosen = " ".join(f"{name} {value}" for name, value in sorted(filters.items()))
        stem += "-filtered-" + slugify_name(chosen, fallback="selection", max_length=60)
    return f"{stem}.{extension}"


# Reading the cache --------------------------------------------------------------------------


def iter_documents(documents: QuerySet[Document], fields: Iterable[str]) -> Iterator[Document]:
    """Every document of `documents` in position order, a bounded batch at a time.

    Keyset batches instead of .iterator(): PostgreSQL's cursor outside a transaction would
    materialise the whole result first, and a batch is also bounded by the bytes it loads.
    """
    fields = list(fields)
    for batch in _batches(documents, BYTES_PER_BATCH):
        yield from list(batch.only(*fields))


def _batches(documents: QuerySet[Document], max_bytes: int) -> Iterator[QuerySet[Document]]:
    """`documents` in position order, cut into querysets of at most ROWS_PER_BATCH rows and
    `max_bytes` of raw text (a single larger document comes alone)."""
    last = -1
    while True:
        heads = list(
            documents.filter(position__gt=last)
            .order_by("position")
            .values_list("position", "size")[:ROWS_PER_BATCH]
        )
        if not heads:
            return
        upto, loaded = heads[0][0], 0
        for position, size in heads:
            if loaded and loaded + size > max_bytes:
                break
            upto, loaded = position, loaded + size
        yield documents.filter(position__gt=last, position__lte=upto).order_by("position")
        last = upto


def jsonl_line(raw: str) -> str:
    # raw is JSON as received, compact in practice; JSON never needs a newline, so only text an
    # upstream pretty-printed has one. ASCII escapes keep a lone "\ud800" escape encodable.
    if "\n" in raw or "\r" in raw:
        raw = _reserialized(raw)
    return raw + "\n"


def jsonl_bytes(raw: str) -> bytes:
    """One document's JSONL line, as UTF-8 whatever the stored text holds."""
    return document_json(raw) + b"\n"


def document_json(raw: str) -> bytes:
    """One document's JSON as UTF-8 on one line, whatever the stored text holds: its JSONL
    line without the newline (the API's documents hold these same bytes)."""
    try:
        return jsonl_line(raw)[:-1].encode()
    except UnicodeEncodeError:
        # A literal lone surrogate (never in text the sync parsed, but stored text is not
        # trusted here): the same data with ASCII escapes, which any UTF-8 reader takes.
        return _reserialized(raw).encode()


def _reserialized(raw: str) -> str:
    try:
        return json.dumps(json.loads(raw), separators=(",", ":"))
    except ValueError:
        # Not JSON at all: kept as a JSON string rather than dropped.
        return json.dumps(raw)


# JSONL, CSV and xlsx ------------------------------------------------------------------------


def jsonl_stream(documents: QuerySet[Document]) -> Iterator[bytes]:
    for document in iter_documents(documents, ["position", "size", "raw"]):
        yield jsonl_bytes(document.raw)


class _Echo:
    """A file-like object that hands back what is written (Django's streaming-CSV pattern)."""

    def write(self, value: str) -> str:
        return value


# What a spreadsheet may read as the start of a formula, once it has skipped what it ignores.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Leading characters spreadsheets drop before looking: spaces, zero-width spaces, a BOM.
IGNORED_LEADING = " \u00a0\u200b\u200c\u200d\u2060\ufeff"


def csv_cell(value: Any) -> Any:
    """A cell that no spreadsheet runs: one that would start a formula becomes text."""
    if isinstance(value, str):
        value = clean_text(value)
        if value.lstrip(IGNORED_LEADING)[:1] in FORMULA_STARTS:
            return "'" + value
    return value


def export_rows(documents: QuerySet[Document], columns: list[str]) -> Iterator[list[Any]]:
    """The chosen columns of every document, in position order, one list per document.

    Text comes from the stored columns and the typed read of `raw` (Document.content): all of
    it display-safe, so no cell can fail an encoder.
    """
    fields = [*SUMMARY_FIELDS, "scrape_id"]
    if _CONTENT_COLUMNS.intersection(columns):
        fields.append("raw")
    for document in iter_documents(documents, fields):
        yield [_column(document, column) for column in columns]


def _column(document: Document, column: str) -> Any:
    if column == "status_code":
        return document.status_code if document.status_code is not None else ""
    if column == "markdown":
        return document.content.markdown or ""
    if column in ("language", "content_type"):
        key = "language" if column == "language" else "contentType"
        return document.content.metadata.get(key, "")
    return getattr(document, column)


def csv_stream(documents: QuerySet[Document], columns: list[str] | None = None) -> Iterator[str]:
    columns = columns or CSV_COLUMNS
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel reads UTF-8 titles correctly
    yield writer.writerow(columns)
    for row in export_rows(documents, columns):
        yield writer.writerow([csv_cell(cell) for cell in row])


def xlsx_stream(documents: QuerySet[Document], columns: list[str] | None = None) -> Iterator[bytes]:
    """The documents as an Excel workbook, one row each, streamed as the rows are read: its first
    bytes leave at once whatever the number of rows, and memory stays flat (jobs.spreadsheet).
    Text is text: never a formula, a link or a number because of how it looks."""
    columns = columns or CSV_COLUMNS
    rows = (
        [value if isinstance(value, int) else xlsx_text(value) if value else None for value in row]
        for row in export_rows(documents, columns)
    )
    return workbook_stream("Documents", columns, rows)


def xlsx_text(value: str) -> str:
    """Text a cell holds: XML-safe, and never cut silently at Excel's cell limit."""
    value = _XML_UNSAFE.sub("\ufffd", clean_text(value))
    if len(value) <= XLSX_CELL_MAX:
        return value
    note = f" … [cut at {XLSX_CELL_MAX:,} of {len(value):,} characters: the zip has it all]"
    return value[: XLSX_CELL_MAX - len(note)] + note


# Control characters XML 1.0 cannot carry (tab, newline and carriage return it can).
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Zip ----------------------------------------------------------------------------------------


def _timestamp(value: Any) -> str | None:
    return value.isoformat() if value else None


def job_summary(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.remote_id),
        "label": job.label,
        "kind": job.kind,
        "apiUrl": job.api_url,
        "apiVersion": job.api_version,
        "status": job.status,
        "completed": job.completed,
        "total": job.total,
        "creditsUsed": job.credits_used,
        "createdAt": _timestamp(job.remote_created_at),
        "completedAt": _timestamp(job.remote_completed_at),
        "expiresAt": _timestamp(job.expires_at),
        "duration": job.duration,
        "trackedAt": _timestamp(job.created_at),
        "lastPolledAt": _timestamp(job.last_polled_at),
    }


def zip_stream(
    job: Job, documents: QuerySet[Document], filters: dict[str, Any] | None = None
) -> Iterator[bytes]:
    """The job's zip: markdown/ and html/, documents.jsonl, screenshots/, errors.json, then
    manifest.json (and ERRORS.txt when something could not be written). Always a complete,
    valid archive."""
    archive = ZipStream()
    try:
        yield from _zip_entries(archive, job, documents, filters)
    except GeneratorExit:
        archive.abandon()  # the client went away: stop the thread, write nothing more
        raise
    except BaseException:
        archive.abandon()
        raise
    yield from archive.close()


class _Problems:
    """What the zip could not hold, for its manifest and ERRORS.txt."""

    def __init__(self) -> None:
        self.documents: dict[int, str] = {}
        self.screenshots: dict[tuple[int, int], str] = {}
        self.stopped: list[str] = []

    def document(self, position: int, exc: Exception) -> None:
        logger.exception("Document %s could not be written to the zip", position)
        self.documents[position] = f"{type(exc).__name__}: {exc}"[:500]

    def screenshot(self, shot: Screenshot, exc: Exception) -> None:
        logger.exception("Screenshot %s could not be written to the zip", shot.pk)
        self.screenshots[shot.position, shot.shot] = f"{type(exc).__name__}: {exc}"[:500]

    def stop(self, what: str, exc: Exception) -> None:
        logger.exception("The zip stopped %s", what)
        self.stopped.append(f"{what}: {type(exc).__name__}: {exc}"[:1000])

    def __bool__(self) -> bool:
        return bool(self.documents or self.screenshots or self.stopped)

    def text(self) -> str:
        lines = ["This zip is incomplete: some of the job's documents could not be written.", ""]
        lines += [f"- {line}" for line in self.stopped]
        lines += [f"- document at position {p}: {e}" for p, e in sorted(self.documents.items())]
        lines += [
            f"- screenshot {shot} of the document at position {p}: {e}"
            for (p, shot), e in sorted(self.screenshots.items())
        ]
        lines += ["", "Everything else in the zip is whole; manifest.json lists what it holds."]
        return "\n".join(lines) + "\n"


def _zip_entries(
    archive: ZipStream, job: Job, documents: QuerySet[Document], filters: dict[str, Any] | None
) -> Iterator[bytes]:
    generated_at = timezone.now()
    problems = _Problems()
    # The sync only appends, at higher positions: fixing the last position now makes every
    # reading below (the documents', the screenshots', the manifest's) see the same documents,
    # however many arrive during the download.
    last = documents.order_by("-position").values_list("position", flat=True).first()
    documents = documents.filter(position__lte=-1 if last is None else last)
    # What the documents' reading saw, one byte per position (1: in documents.jsonl, 2: has
    # markdown, 4: has html, 8: failed), so the manifest lists exactly those documents even
    # while the sync adds more.
    seen = bytearray()

    def mark(position: int, flags: int) -> None:
        if position >= len(seen):
            seen.extend(bytes(position + 1 - len(seen)))
        seen[position] |= flags

    def document_batches() -> Iterator[tuple[list[tuple[str, bytes]], bytes]]:
        """Each batch's markdown and HTML files, and its lines of documents.jsonl: one read of
        the documents feeds both."""
        try:
            for batch in iter_raw_batches(documents, with_names=True, as_bytes=True):
                files: list[tuple[str, bytes]] = []
                lines = []
                for position, raw, title, url in batch:
                    try:  # one document must not end the zip
                        text = bytes(raw).decode()
                        # The line is the stored UTF-8 as it is, not the text encoded again;
                        # a line break means a pretty-printed upstream.
                        if b"\n" in raw or b"\r" in raw:
                            lines.append(jsonl_bytes(text))
                        else:
                            lines += (raw, b"\n")
                        mark(position, 1)
                        files += _content_files(position, text, title, url, mark)
                    except Exception as exc:
                        problems.document(position, exc)
                        mark(position, 8)
                yield files, b"".join(lines)
        except DatabaseError as exc:
            problems.stop("reading documents for documents.jsonl, markdown/ and html/", exc)

    yield from archive.add_files_beside("documents.jsonl", document_batches())

    def screenshot_batches() -> Iterator[list[tuple[str, bytes]]]:
        storage = storages["default"]
        files: list[tuple[str, bytes]] = []
        size = 0
        try:
            for shot in iter_screenshots(job, len(seen) - 1, kept_only=True):
                if not seen[shot.position] & 1:
                    continue  # a document the filters left out
                try:
                    with storage.open(shot.name, "rb") as image:
                        data = image.read()
                except Exception as exc:  # a missing file must not end the zip
                    problems.screenshot(shot, exc)
                    continue
                files.append((f"screenshots/{shot.filename}", data))
                size += len(data)
                if size >= ZIP_BYTES_PER_BATCH:
                    yield files
                    files, size = [], 0
        except DatabaseError as exc:
            problems.stop("reading screenshots for screenshots/", exc)
        yield files

    yield from archive.add_files(screenshot_batches())

    failed = [b"["]
    try:
        for index, item in enumerate(iter_failed_urls(job)):
            failed.append(
                (("\n" if index == 0 else ",\n") + json.dumps(failed_record(item))).encode()
            )
    except DatabaseError as exc:
        problems.stop("reading the failed URLs for errors.json", exc)
    failed.append(b"\n]\n")
    yield from archive.stream("errors.json", iter(failed))

    manifest = _manifest_chunks(job, documents, filters, generated_at, seen, problems)
    yield from archive.stream("manifest.json", manifest)
    if problems:
        yield from archive.add_files([[("ERRORS.txt", problems.text().encode())]])


class Utf8(Func):
    """A text column's UTF-8 bytes, read without decoding them into text first."""

    output_field = BinaryField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS BLOB)")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="convert_to(%(expressions)s, 'UTF8')")


def iter_screenshots(job: Job, last: int, *, kept_only: bool = False) -> Iterator[Screenshot]:
    """The job's screenshots of documents at positions up to `last`, in (position, shot) order,
    a keyset batch at a time."""
    rows = Screenshot.objects.filter(job=job, position__lte=last).order_by("position", "shot")
    if kept_only:
        rows = rows.kept()
    after = Q()
    while batch := list(rows.filter(after)[:ROWS_PER_BATCH]):
        yield from batch
        tail = batch[-1]
        after = Q(position__gt=tail.position) | Q(position=tail.position, shot__gt=tail.shot)


def screenshot_record(shot: Screenshot, not_written: str | None = None) -> dict[str, Any]:
    """A screenshot in the manifest: its file in the zip, or why there is none."""
    record: dict[str, Any] = {"shot": shot.shot, "state": shot.state}
    if shot.state == Screenshot.State.KEPT and not_written is None:
        record.update(
            file=f"screenshots/{shot.filename}", contentType=shot.content_type, size=shot.size
        )
    elif not_written is not None:
        record.update(file=None, notWritten=not_written)
    else:
        record["reason"] = shot.reason
    return record


def iter_raw_batches(
    documents: QuerySet[Document], *, with_names: bool = False, as_bytes: bool = False
) -> Iterator[Any]:
    """(position, raw[, title, url]) of every document in position order, in byte-bounded
    batches of plain tuples (no model instances: the zip reads every byte of the job); `raw`
    as its UTF-8 bytes when `as_bytes` (on SQLite and PostgreSQL)."""
    fields: list[Any] = ["position", "raw", "title", "url"] if with_names else ["position", "raw"]
    if as_bytes and connection.vendor in ("sqlite", "postgresql"):
        fields[1] = Utf8("raw")
    for batch in _batches(documents, ZIP_BYTES_PER_BATCH):
        rows = list(batch.values_list(*fields))
        if as_bytes and rows and isinstance(rows[0][1], str):
            rows = [(position, raw.encode(), *rest) for position, raw, *rest in rows]
        yield rows


def _content_files(
    position: int, raw: str, title: str, url: str, mark: Any
) -> list[tuple[str, bytes]]:
    # The document is parsed once, here; its markdown and HTML are display-safe text.
    content = ScrapedDocument.from_text(raw)
    stem = document_stem(position, title, url)
    files = []
    if markdown := content.markdown:
        files.append((f"markdown/{stem}.md", markdown.encode()))
        mark(position, 2)
    if html := content.content_html:
        files.append((f"html/{stem}.html", html.encode()))
        mark(position, 4)
    return files


def _manifest_chunks(
    job: Job,
    documents: QuerySet[Document],
    filters: dict[str, Any] | None,
    generated_at: Any,
    seen: bytearray,
    problems: _Problems,
) -> Iterator[bytes]:
    complete, note = job.completeness.complete, job.completeness.note
    shots = Screenshot.objects.counts(job)
    head = {
        "job": job_summary(job),
        "generatedAt": generated_at.isoformat(),
        "complete": complete,
        "note": note,
        "filters": filters or {},
        "counts": {
            "inZip": sum(1 for flags in seen if flags & 1),
            "cached": job.documents_cached,
            "upstreamCompleted": job.completed,
            "upstreamTotal": job.total,
            "failed": job.failed_count,
            "cancelled": job.cancelled_count,
            "robotsBlocked": job.robots_blocked_count,
        },
        # The job's screenshots (of every document, filtered or not): kept in this dashboard's
        # storage, still to be fetched, or failed (each document's list says why).
        "screenshots": {"kept": shots.kept, "pending": shots.pending, "failed": shots.failed},
    }
    if filters:
        head["note"] = (note + " " if note else "") + "Only documents matching the filters."
    yield json.dumps(head, indent=1)[:-2].encode() + b',\n "documents": ['
    first = True
    try:
        small = documents.filter(position__lte=len(seen) - 1)
        shots_of = _screenshots_by_position(job, len(seen) - 1)
        for document in iter_documents(small, SUMMARY_FIELDS):
            flags = seen[document.position]
            if not flags:
                continue
            # The names its files were given (only those written).
            stem = (
                document_stem(document.position, document.title, document.url) if flags & 6 else ""
            )
            record = {
                "position": document.position,
                "url": document.url,
                "sourceURL": document.source_url,
                "title": document.title,
                "statusCode": document.status_code,
                "error": document.error or None,
                "markdown": f"markdown/{stem}.md" if flags & 2 else None,
                "html": f"html/{stem}.html" if flags & 4 else None,
            }
            if document.position in problems.documents:
                record["notWritten"] = problems.documents[document.position]
            if shots := shots_of(document.position):
                record["screenshots"] = [
                    screenshot_record(shot, problems.screenshots.get((shot.position, shot.shot)))
                    for shot in shots
                ]
            yield (("\n  " if first else ",\n  ") + json.dumps(record)).encode()
            first = False
    except DatabaseError as exc:
        problems.stop("reading documents for manifest.json (its list is cut there)", exc)
    # Last, once everything else is known: the zip says itself whether it holds it all.
    tail = {
        "incomplete": bool(problems),
        "notWritten": [
            {"position": position, "error": error}
            for position, error in sorted(problems.documents.items())
        ],
        "stopped": problems.stopped,
    }
    yield b"\n ],\n" + json.dumps(tail, indent=1)[2:].encode() + b"\n"


def _screenshots_by_position(job: Job, last: int) -> Any:
    """A function giving the screenshots of each position, asked in increasing order: one pass
    over the job's screenshots beside the documents, never a query per document."""
    rows = iter_screenshots(job, last)
    ahead: list[Screenshot] = []

    def of(position: int) -> list[Screenshot]:
        while not ahead or ahead[-1].position <= position:
            row = next(rows, None)
            if row is None:
                break
            ahead.append(row)
        found = [shot for shot in ahead if shot.position == position]
        ahead[:] = [shot for shot in ahead if shot.position > position]
        return found

    return of


# Failed URLs ---------------------------------------------------------------------------------

FAILED_CSV_COLUMNS = ["url", "kind", "code", "error", "failed_at", "id"]


def failed_record(item: FailedUrl) -> dict[str, Any]:
    return {
        "url": item.url,
        "robotsBlocked": item.robots_blocked,
        "cancelled": item.cancelled,
        "code": item.code,
        "error": item.error,
        "id": item.remote_id,
        "timestamp": _timestamp(item.failed_at),
    }


def failed_csv_stream(job: Job) -> Iterator[str]:
    """The job's failed URLs (and robots-blocked ones), one row each, ready for a new batch."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(FAILED_CSV_COLUMNS)
    for item in iter_failed_urls(job):
        kind = "robots.txt blocked" if item.robots_blocked else "failed"
        if item.cancelled:
            kind = "cancelled"
        row = [
            item.url,
            kind,
            item.code,
            item.error,
            _timestamp(item.failed_at) or "",
            item.remote_id,
        ]
        yield writer.writerow([csv_cell(cell) for cell in row])


def failed_json_stream(job: Job) -> Iterator[bytes]:
    yield b"["
    for index, item in enumerate(iter_failed_urls(job)):
        yield (("\n" if index == 0 else ",\n") + json.dumps(failed_record(item))).encode()
    yield b"\n]\n"
