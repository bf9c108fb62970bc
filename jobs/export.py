"""Downloads of a job's cache (zip, JSONL, CSV), built as streams with flat memory.

Documents are read in keyset batches (`position > last`) bounded by bytes as well as rows, so a
500 MB job never has more than a few MB of it in memory, and the first bytes leave before the
last document is read. The zip is written with the standard library on an unseekable sink
(entries carry data descriptors); its manifest comes last, when every entry is known.
"""

import csv
import json
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from django.db.models import QuerySet
from django.utils import timezone

from jobs.failures import iter_failed_urls
from jobs.models import SUMMARY_FIELDS, Document, FailedUrl, Job

ROWS_PER_BATCH = 200
# Raw text loaded at once: a batch stops early when its documents add up to more than this.
BYTES_PER_BATCH = 8 * 1024 * 1024
# Deflate level 1: nearly the ratio of level 6 on HTML and markdown, at ~1.6x the speed.
COMPRESS_LEVEL = 1
SLUG_MAX = 60
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in "123456789"
}
CSV_COLUMNS = [
    "position", "url", "source_url", "title", "status_code", "error", "warning", "size",
    "language", "content_type", "scrape_id",
]  # fmt: skip


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


def job_filename(job: Job, extension: str) -> str:
    stem = slugify_name(job.label, fallback="job") if job.label else str(job.remote_id)
    return f"{stem}.{extension}"


# Reading the cache --------------------------------------------------------------------------


def iter_documents(documents: QuerySet[Document], fields: Iterable[str]) -> Iterator[Document]:
    """Every document of `documents` in position order, a bounded batch at a time.

    Keyset batches instead of .iterator(): PostgreSQL's cursor outside a transaction would
    materialise the whole result first, and a batch is also bounded by the bytes it loads.
    """
    fields = list(fields)
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
            if loaded and loaded + size > BYTES_PER_BATCH:
                break
            upto, loaded = position, loaded + size
        batch = documents.filter(position__gt=last, position__lte=upto).order_by("position")
        yield from list(batch.only(*fields))
        last = upto


def jsonl_line(raw: str) -> str:
    # raw is JSON as received, compact in practice; JSON never needs a newline, so only text an
    # upstream pretty-printed has one. ASCII escapes keep a lone "\ud800" escape encodable.
    if "\n" in raw or "\r" in raw:
        raw = json.dumps(json.loads(raw), separators=(",", ":"))
    return raw + "\n"


# JSONL and CSV ------------------------------------------------------------------------------


def jsonl_stream(documents: QuerySet[Document]) -> Iterator[bytes]:
    for document in iter_documents(documents, ["position", "size", "raw"]):
        yield jsonl_line(document.raw).encode()


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
    if isinstance(value, str) and value.lstrip(IGNORED_LEADING)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_stream(documents: QuerySet[Document]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so Excel reads UTF-8 titles correctly
    yield writer.writerow(CSV_COLUMNS)
    fields = [*SUMMARY_FIELDS, "scrape_id", "raw"]
    for document in iter_documents(documents, fields):
        metadata = document.content.metadata
        row = [
            document.position,
            document.url,
            document.source_url,
            document.title,
            document.status_code if document.status_code is not None else "",
            document.error,
            document.warning,
            document.size,
            metadata.get("language", ""),
            metadata.get("contentType", ""),
            document.scrape_id,
        ]
        yield writer.writerow([csv_cell(cell) for cell in row])


# Zip ----------------------------------------------------------------------------------------


class _Sink:
    """An unseekable file: zipfile then streams, and we hand its bytes on as they come."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


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


def completeness_note(job: Job) -> tuple[bool, str]:
    """Whether the cache holds everything the job will ever have, and if not, why."""
    if job.is_complete:
        return True, ""
    if job.sync_state == Job.SyncState.EXPIRED:
        return False, (
            f"Results expired upstream: {job.documents_cached} of {job.total} documents "
            "were cached."
        )
    if job.is_terminal and job.cache_done and not job.pagination_stuck:
        return False, (
            f"Firecrawl had not settled the job's final numbers when this was downloaded: it "
            f"holds the {job.documents_cached} documents cached so far."
        )
    if not job.is_terminal:
        return False, (
            f"The job was still {job.status} when this was downloaded: it holds the "
            f"{job.documents_cached} documents cached so far."
        )
    if job.pagination_stuck:
        return False, "Firecrawl stopped paging before every document was read."
    return False, f"Cached {job.documents_cached} of {job.total} documents so far."


def zip_stream(
    job: Job, documents: QuerySet[Document], filters: dict[str, Any] | None = None
) -> Iterator[bytes]:
    """The job's zip: documents.jsonl, markdown/, html/, errors.json, then manifest.json."""
    sink = _Sink()
    # zipfile only needs write() and flush() to stream; its stubs ask for a full IO.
    archive = zipfile.ZipFile(  # type: ignore[call-overload]
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    )
    generated_at = timezone.now()
    # The sync only appends, at higher positions: fixing the last position now makes every
    # pass below read the same documents, however many arrive during the download.
    last = documents.order_by("-position").values_list("position", flat=True).first()
    documents = documents.filter(position__lte=-1 if last is None else last)
    # What pass one saw, one byte per position (1: in the zip, 2: has markdown, 4: has html),
    # so the manifest lists exactly those documents even while the sync adds more.
    seen = bytearray()

    with archive.open("documents.jsonl", "w", force_zip64=True) as entry:
        yield sink.take()
        for document in iter_documents(documents, ["position", "size", "raw"]):
            entry.write(jsonl_line(document.raw).encode())
            yield sink.take()

    fields = ["position", "size", "title", "url", "raw"]
    for document in iter_documents(documents, fields):
        content = document.content
        flags = 1
        stem = document_stem(document.position, document.title, document.url)
        markdown, html = content.markdown, content.content_html
        if markdown:
            archive.writestr(f"markdown/{stem}.md", markdown.encode())
            flags |= 2
        if html:
            archive.writestr(f"html/{stem}.html", html.encode())
            flags |= 4
        if document.position >= len(seen):
            seen.extend(bytes(document.position + 1 - len(seen)))
        seen[document.position] = flags
        yield sink.take()

    with archive.open("errors.json", "w") as entry:
        entry.write(b"[")
        for index, item in enumerate(iter_failed_urls(job)):
            entry.write(
                (("\n" if index == 0 else ",\n") + json.dumps(failed_record(item))).encode()
            )
            if index % ROWS_PER_BATCH == 0:
                yield sink.take()
        entry.write(b"\n]\n")
    yield sink.take()

    with archive.open("manifest.json", "w") as entry:
        complete, note = completeness_note(job)
        head = {
            "job": job_summary(job),
            "generatedAt": generated_at.isoformat(),
            "complete": complete,
            "note": note,
            "filters": filters or {},
            "counts": {
                "inZip": sum(1 for flags in seen if flags),
                "cached": job.documents_cached,
                "upstreamCompleted": job.completed,
                "upstreamTotal": job.total,
                "failed": job.failed_count,
                "robotsBlocked": job.robots_blocked_count,
            },
        }
        if filters:
            head["note"] = (note + " " if note else "") + "Only documents matching the filters."
        entry.write(json.dumps(head, indent=1)[:-2].encode() + b',\n "documents": [')
        first = True
        last_position = len(seen) - 1
        small = documents.filter(position__lte=last_position)
        for document in iter_documents(small, SUMMARY_FIELDS):
            flags = seen[document.position]
            if not flags:
                continue
            stem = document_stem(document.position, document.title, document.url)
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
            entry.write((("\n  " if first else ",\n  ") + json.dumps(record)).encode())
            first = False
            yield sink.take()
        entry.write(b"\n ]\n}\n")
    archive.close()
    yield sink.take()


# Failed URLs ---------------------------------------------------------------------------------

FAILED_CSV_COLUMNS = ["url", "kind", "code", "error", "failed_at", "id"]


def failed_record(item: FailedUrl) -> dict[str, Any]:
    return {
        "url": item.url,
        "robotsBlocked": item.robots_blocked,
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
