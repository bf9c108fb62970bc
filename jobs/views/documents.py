"""The document browser (placeholder until the browser lands)."""

from django.http import Http404, HttpRequest, HttpResponse


def document_list(request: HttpRequest, pk: int) -> HttpResponse:
    raise Http404


def document_detail(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    raise Http404


def document_preview(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    raise Http404


def document_markdown(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    raise Http404
