"""/api/v1/jobs/{id}/documents: a job's cached documents as cursor pages (the document browser's
search, filters and sort), and one document whole."""

import json
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
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
    request: Any,
    job_id: int = JobId,
    position: int = Path(..., ge=0, le=MAX_POSITION, description="The document's position."),
) -> StreamingHttpResponse:
    job = get_job_for_user(request, job_id)
    validated(NoParameters(request.GET))
    document = get_object_or_404(Document.objects.only("pk"), job=job, position=position)
    return json_stream(documents_json([document.pk], full=True))
