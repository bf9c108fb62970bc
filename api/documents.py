"""/api/v1/jobs/{id}/documents: a job's cached documents as cursor pages (the document browser's
search, filters and sort), one document whole, and its kept screenshots."""

import json
from collections.abc import Iterator
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.csp import csp_override
from ninja import Path, Router

from api.auth import read
from api.cursor import next_url, page_url, read_page
from api.errors import error_responses
from api.forms import DocumentPageQuery
from api.jobs import JobId
from api.params import query_parameters, validated
from api.schemas import MAX_POSITION, DocumentOut, DocumentPage, ScreenshotList
from firecrawl_dash.forms import NoParameters
from jobs.export import BYTES_PER_BATCH, document_json
from jobs.models import SUMMARY_FIELDS, Document, Screenshot
from jobs.views.common import IMAGE_CSP, get_job_for_user, kept_screenshot_response

router = Router(tags=["Documents"])
Position = Path(..., ge=0, le=MAX_POSITION, description="The document's position.")
Shot = Path(..., ge=0, le=2**15 - 1, description="The screenshot's number (0: the document's own).")

# What a summary holds: a row of the browser, and Firecrawl's scrape id.
SUMMARY = (*SUMMARY_FIELDS, "scrape_id")


def documents_json(ids: list[int], *, full: bool) -> Iterator[bytes]:
    """These documents as JSON objects, in this order, comma-separated: each one's summary and,
    when `full`, the document exactly as Firecrawl sent it: the bytes of its line in the JSONL
    download, its stored text neither parsed nor dumped again (it is most of a job's bytes).
    Read as text: PostgreSQL sends text faster than the same bytes as bytea."""
    fields = [*SUMMARY, "raw"] if full else SUMMARY
    rows = Document.objects.filter(pk__in=ids).values_list("pk", *fields)
    found = {row[0]: row[1:] for row in rows}
    for index, pk in enumerate(pk for pk in ids if pk in found):
        values = found.pop(pk)
        head = json.dumps(dict(zip(SUMMARY, values, strict=False))).encode()
        if full:
            head = b"".join((head[:-1], b', "document": ', document_json(values[-1]), b"}"))
        # One chunk a document: a server writes each as it comes.
        yield b", " + head if index else head


def json_stream(parts: Iterator[bytes]) -> StreamingHttpResponse:
    """A JSON answer sent as it is written: the server never holds a page in one piece."""
    return StreamingHttpResponse(parts, content_type="application/json")


@router.get(
    "/jobs/{int:job_id}/documents",
    response={200: DocumentPage, **error_responses(404)},
    auth=read,
    operation_id="list_documents",
    url_name="documents",
    summary="A job's cached documents, a page at a time",
    description="Filters, search and sort as in the document browser. Pages follow each "
    "other by cursor: every document is returned once, however many are cached during the "
    "walk. A page holds at most `per_page` documents, and with fields=full at most 8 MB of "
    "them (a larger document comes alone). Documents without a status code sort after all "
    "others.",
    openapi_extra={"parameters": query_parameters(DocumentPageQuery)},
)
def list_documents(request: Any, job_id: int = JobId) -> StreamingHttpResponse:
    job = get_job_for_user(request, job_id)
    query = validated(DocumentPageQuery(request.GET))
    page = read_page(
        query.filter(job.documents.all()),
        query.ordering(),
        cursor=query.cursor_text,
        name=f"documents:{job.pk}:{query.sort_key}",
        size=query.page_size,
        weight="size" if query.full else None,
        max_weight=BYTES_PER_BATCH,
    )
    links = {"next": next_url(request, page), "resume": page_url(request, page.resume)}

    def parts() -> Iterator[bytes]:
        yield b'{"results": ['
        yield from documents_json(page.ids, full=query.full)
        yield b"], " + json.dumps(links)[1:].encode()

    return json_stream(parts())


@router.get(
    "/jobs/{int:job_id}/documents/{int:position}",
    response={200: DocumentOut, **error_responses(404)},
    auth=read,
    operation_id="get_document",
    summary="One document, whole (its summary and the document as Firecrawl sent it)",
)
def get_document(
    request: Any, job_id: int = JobId, position: int = Position
) -> StreamingHttpResponse:
    job = get_job_for_user(request, job_id)
    validated(NoParameters(request.GET))
    document = get_object_or_404(Document.objects.only("pk"), job=job, position=position)
    return json_stream(documents_json([document.pk], full=True))


@router.get(
    "/jobs/{int:job_id}/documents/{int:position}/screenshots",
    response={200: ScreenshotList, **error_responses(404)},
    auth=read,
    operation_id="list_screenshots",
    summary="A document's screenshots: kept, pending or failed, with where to download each",
    description="Firecrawl deletes its screenshots with the job; the dashboard keeps a copy of "
    "each in its own storage. A document has at most 21 rows (20 screenshots, and one that says "
    "how many more it had).",
)
def list_screenshots(request: Any, job_id: int = JobId, position: int = Position) -> dict[str, Any]:
    job = get_job_for_user(request, job_id)
    validated(NoParameters(request.GET))
    get_object_or_404(Document.objects.only("pk"), job=job, position=position)
    shots = Screenshot.objects.filter(job=job, position=position).order_by("shot")
    results = [
        {
            "shot": shot.shot,
            "state": shot.state,
            "reason": shot.reason,
            "content_type": shot.content_type,
            "size": shot.size,
            "url": request.build_absolute_uri(
                reverse("api:document_screenshot", args=[job.pk, position, shot.shot])
            )
            if shot.state == Screenshot.State.KEPT
            else None,
        }
        for shot in shots
    ]
    return {"results": results}


@router.get(
    "/jobs/{int:job_id}/documents/{int:position}/screenshots/{int:shot}",
    response={**error_responses(404)},
    auth=read,
    operation_id="get_screenshot",
    url_name="document_screenshot",
    summary="A kept screenshot, from the dashboard's storage",
    openapi_extra={
        "responses": {
            200: {
                "description": "The image (PNG, JPEG or WebP, as its first bytes say).",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("image/png", "image/jpeg", "image/webp")
                },
            }
        }
    },
)
@csp_override(IMAGE_CSP)
def get_screenshot(
    request: Any, job_id: int = JobId, position: int = Position, shot: int = Shot
) -> FileResponse:
    job = get_job_for_user(request, job_id)
    validated(NoParameters(request.GET))
    return kept_screenshot_response(job, position, shot)
