"""Downloads of cached results (placeholder until the export lands)."""

from django.http import Http404, HttpRequest, HttpResponse


def download_zip(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404


def download_jsonl(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404


def download_csv(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404
