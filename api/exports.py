"""A job's downloads through the API: its documents as zip, JSONL, CSV or xlsx, streamed by the
browser's own download code (byte for byte the same file), and its failed URLs as pages."""

from collections.abc import Callable
from typing import Any

from django.db.models import F
from django.http import StreamingHttpResponse
from ninja import Router

from api.auth import read
from api.cursor import next_url, page_url, read_page
from api.errors import ApiError, error_responses
from api.forms import FailedUrlQuery
from api.jobs import JobId
from api.params import query_parameters, validated
from api.schemas import FailedUrlPage
from jobs.forms.documents import DocumentQueryForm
from jobs.forms.downloads import DownloadQuery, ExportForm
from jobs.models import FailedUrl
from jobs.views.common import get_job_for_user
from jobs.views.downloads import CONTENT_TYPES, export_response

router = Router(tags=["Downloads"])

FORMATS = {
    "zip": "The zip of the Download zip link: documents.jsonl, markdown/, html/, errors.json "
    "and manifest.json (which says whether the cache is complete).",
    "jsonl": "Every document as Firecrawl sent it, one JSON object a line.",
    "csv": "One row a document: the columns chosen (default: the metadata columns).",
    "xlsx": "The CSV's rows as an Excel workbook.",
}
# The filters the browser's download links carry; sort and paging do not change a download.
UNADVERTISED = ("sort", "per_page", "page")


def _export_operation(format: str) -> Callable[..., StreamingHttpResponse]:
    def export(request: Any, job_id: int = JobId) -> StreamingHttpResponse:
        job = get_job_for_user(request, job_id)
        query = DownloadQuery(request.GET)
        if not query.is_valid():
            raise ApiError(400, query.error_text())
        return export_response(job, format, query)

    export.__name__ = f"export_{format}"
    return export


for _format, _description in FORMATS.items():
    _parameters = query_parameters(DocumentQueryForm, hidden=UNADVERTISED)
    if _format in ("csv", "xlsx"):
        _parameters += query_parameters(ExportForm)
    _media_type = CONTENT_TYPES[_format].split(";")[0]
    router.get(
        f"/jobs/{{int:job_id}}/export.{_format}",
        response={200: None, **error_responses(404)},
        auth=read,
        operation_id=f"export_{_format}",
        url_name=f"export_{_format}",
        summary=f"Download the job's documents as {_format}",
        description=f"{_description} Filtered as in the document browser when given filters.",
        openapi_extra={
            "parameters": _parameters,
            "responses": {
                200: {
                    "description": "The file, streamed.",
                    "content": {_media_type: {"schema": {"type": "string", "format": "binary"}}},
                }
            },
        },
    )(_export_operation(_format))


@router.get(
    "/jobs/{int:job_id}/failed-urls",
    response={200: FailedUrlPage, **error_responses(404)},
    auth=read,
    operation_id="list_failed_urls",
    url_name="failed_urls",
    summary="The URLs Firecrawl could not scrape (and those robots.txt blocked)",
    description="In the order Firecrawl reported them; more may come while the job runs "
    "(see `resume`).",
    openapi_extra={"parameters": query_parameters(FailedUrlQuery)},
)
def list_failed_urls(request: Any, job_id: int = JobId) -> dict[str, Any]:
    job = get_job_for_user(request, job_id)
    query = validated(FailedUrlQuery(request.GET))
    page = read_page(
        FailedUrl.objects.filter(job=job),
        [F("id").asc()],
        cursor=query.cursor_text,
        name=f"failed:{job.pk}",
        size=query.page_size,
    )
    found = FailedUrl.objects.in_bulk(page.ids)
    results = [found[pk] for pk in page.ids if pk in found]
    resume = page_url(request, page.resume)
    return {"results": results, "next": next_url(request, page), "resume": resume}
