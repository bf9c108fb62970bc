"""Downloads of a job's cache (zip, JSONL, CSV, xlsx) and of its failed URLs, all streamed.

Served as sync iterators, which stream under WSGI (gunicorn, runserver); under ASGI Django
would buffer them whole, so downloads must be routed to a WSGI server there.
"""

from collections.abc import Iterator

from django.http import Http404, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs import export
from jobs.forms.downloads import DownloadQuery
from jobs.models import Job
from jobs.views.common import get_job_for_user

CONTENT_TYPES = {
    "zip": "application/zip",
    "jsonl": "application/jsonl",
    # str chunks: StreamingHttpResponse encodes them in the content type's charset.
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def _stream(
    chunks: Iterator[bytes] | Iterator[str], content_type: str, filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Proxies (nginx) would otherwise buffer the whole file before sending the first byte.
    response["X-Accel-Buffering"] = "no"
    return response


def download(request: AuthenticatedRequest, pk: int, format: str) -> HttpResponseBase:
    job = get_job_for_user(request, pk)
    query = DownloadQuery(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text(), job=job)
    return export_response(job, format, query)


def export_response(job: Job, format: str, query: DownloadQuery) -> StreamingHttpResponse:
    """The job's documents as `format`, streamed: the browser's downloads and the API's
    exports are this one response, byte for byte. `query` has been validated."""
    form, options = query.documents, query.options
    documents = form.filter(job.documents.all())
    chunks: Iterator[bytes] | Iterator[str]
    if format == "zip":
        chunks = export.zip_stream(job, documents, form.active_filters)
    elif format == "jsonl":
        chunks = export.jsonl_stream(documents)
    elif format == "csv":
        chunks = export.csv_stream(documents, options.chosen_columns)
    elif format == "xlsx":
        chunks = export.xlsx_stream(documents, options.chosen_columns)
    else:
        raise Http404("No such download format")
    filename = export.job_filename(job, format, form.active_filters)
    return _stream(chunks, CONTENT_TYPES[format], filename)


def download_failed(request: AuthenticatedRequest, pk: int, format: str) -> HttpResponseBase:
    job = get_job_for_user(request, pk)
    chunks: Iterator[bytes] | Iterator[str]
    if format == "csv":
        chunks = export.failed_csv_stream(job)
    elif format == "json":
        chunks = export.failed_json_stream(job)
    else:
        raise Http404("No such download format")
    return _stream(chunks, CONTENT_TYPES[format], export.job_filename(job, f"failed.{format}"))
