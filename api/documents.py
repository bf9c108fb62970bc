"""/api/v1/jobs/{id}/documents: a job's cached documents as cursor pages (the document browser's
search, filters and sort), and one document whole."""

import json
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Path, Router

from api.auth import read
from api.cursor import next_url, page_url, read_page
from api.errors import error_responses
from api.forms import DocumentPageQuery
from api.jobs import JobId
from api.params import query_parameters, validated
from api.schemas import MAX_POSITION, DocumentOut, DocumentPage
from firecrawl_dash.forms import NoParameters
from jobs.export import BYTES_PER_BATCH, document_json
from jobs.models import SUMMARY_FIELDS, Document
from jobs.views.common import get_job_for_user

router = Router(tags=["Documents"])

# What a summary holds: a row of the browser, and Firecrawl's scrape id.
SUMMARY = (*SUMMARY_FIELDS, "scrape_id")


def summary(document: Document) -> dict[str, Any]:
    return {name: getattr(document, name) for name in SUMMARY}


def document_bytes(document: Document, *, full: bool) -> bytes:
    """A document's summary as JSON and, when `full`, the document exactly as Firecrawl sent it:
    the stored JSON's bytes as the JSONL download has them, not a parse and a dump of it (most
    of a job's bytes are there)."""
    head = json.dumps(summary(document)).encode()
    if not full:
        return head
    return head[:-1] + b', "document": ' + document_json(document.raw) + b"}"


def json_response(body: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


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
def list_documents(request: Any, job_id: int = JobId) -> Any:
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
    fields = [*SUMMARY, "raw"] if query.full else SUMMARY
    found = Document.objects.only(*fields).in_bulk(page.ids)
    rows = [found[pk] for pk in page.ids if pk in found]
    links = {"next": next_url(request, page), "resume": page_url(request, page.resume)}
    results = b", ".join(document_bytes(row, full=query.full) for row in rows)
    return json_response(b'{"results": [' + results + b"], " + json.dumps(links)[1:].encode())


@router.get(
    "/jobs/{int:job_id}/documents/{int:position}",
    response={200: DocumentOut, **error_responses(404)},
    auth=read,
    operation_id="get_document",
    summary="One document, whole (its summary and the document as Firecrawl sent it)",
)
def get_document(
    request: Any,
    job_id: int = JobId,
    position: int = Path(..., ge=0, le=MAX_POSITION, description="The document's position."),
) -> HttpResponse:
    job = get_job_for_user(request, job_id)
    validated(NoParameters(request.GET))
    documents = Document.objects.only(*SUMMARY, "raw")
    document = get_object_or_404(documents, job=job, position=position)
    return json_response(document_bytes(document, full=True))
