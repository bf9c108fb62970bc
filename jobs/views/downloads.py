"""Downloads of a job's cache (zip, JSONL, CSV, xlsx) and of its failed URLs, all streamed.

Served as sync iterators, which stream under WSGI (gunicorn, runserver); under ASGI Django
would buffer them whole, so downloads must be routed to a WSGI server there.
"""

from collections.abc import Iterator

from django.http import Http404, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from firecrawl_dash.forms import error_text
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs import export
from jobs.forms.documents import DocumentQueryForm
from jobs.forms.downloads import ExportForm
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
    # The browser's filters, when the link came from there: a download holds what it shows;
    # and, for a table, the columns chosen.
    selection = request.GET.copy()
    options = ExportForm({"columns": selection.pop("columns", [])})
    form = DocumentQueryForm(selection)
    if not form.is_valid():
        return invalid_query(request, form.error_text(), job=job)
    if not options.is_valid():
        return invalid_query(request, error_text(options), job=job)
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
