"""Downloads of a job's cache: a zip, JSONL and CSV, all streamed (see jobs.export).

Served as sync iterators, which stream under WSGI (gunicorn, runserver); under ASGI Django
would buffer them whole, so downloads must be routed to a WSGI server there.
"""

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from jobs import export
from jobs.forms_documents import DocumentQueryForm
from jobs.models import Document
from jobs.views.common import AuthenticatedRequest, get_job_for_user
from jobs.views.documents import bad_request


def _stream(
    chunks: Iterator[bytes | str], content_type: str, filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chunks, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Proxies (nginx) would otherwise buffer the whole file before sending the first byte.
    response["X-Accel-Buffering"] = "no"
    return response


def download_zip(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    job = get_job_for_user(request, pk)
    # The browser's filters, when the link came from there: a download holds what it shows.
    form = DocumentQueryForm(request.GET)
    if not form.is_valid():
        return bad_request(request, job, form.error_text())
    documents = form.filter(Document.objects.filter(job=job))
    chunks = export.zip_stream(job, documents, form.active_filters)
    return _stream(chunks, "application/zip", export.job_filename(job, "zip"))


def download_jsonl(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    job = get_job_for_user(request, pk)
    form = DocumentQueryForm(request.GET)
    if not form.is_valid():
        return bad_request(request, job, form.error_text())
    documents = form.filter(Document.objects.filter(job=job))
    chunks = export.jsonl_stream(documents)
    return _stream(chunks, "application/jsonl", export.job_filename(job, "jsonl"))


def download_csv(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    job = get_job_for_user(request, pk)
    form = DocumentQueryForm(request.GET)
    if not form.is_valid():
        return bad_request(request, job, form.error_text())
    documents = form.filter(Document.objects.filter(job=job))
    # str chunks: StreamingHttpResponse encodes them in the content type's charset.
    chunks = export.csv_stream(documents)
    return _stream(chunks, "text/csv; charset=utf-8", export.job_filename(job, "csv"))
