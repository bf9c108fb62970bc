"""The document browser: a job's cached documents page by page, and one document in detail.

Scraped content is hostile. It is always escaped, or rendered through jobs.safe_markdown's sanitizer
inside an `hx-disable` container; its HTML runs only in the preview, a sandboxed iframe whose
response carries its own CSP with no script, no same-origin and no network.
"""

from typing import Any

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.utils.http import content_disposition_header
from django.views.decorators.csp import csp_override

from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs.export import document_filename
from jobs.forms.documents import DocumentQueryForm
from jobs.models import Document, Job, Screenshot
from jobs.pagination import PageOutOfRange
from jobs.safe_markdown import render_markdown
from jobs.search import snippets, unindexed_count
from jobs.views.common import IMAGE_CSP, get_job_for_user, kept_screenshot_response

TABS = {"markdown": "Markdown", "source": "Source", "html": "HTML"}
PREVIEW_CSP: dict[str, Any] = {
    "default-src": [CSP.NONE],
    "img-src": ["data:"],
    "style-src": [CSP.UNSAFE_INLINE],
    "frame-ancestors": [CSP.SELF],
    "sandbox": True,
}


def document_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = DocumentQueryForm(request.GET)
    if not form.is_valid():
        return invalid_query(request, form.error_text(), job=job)
    paginator = form.paginator(job)
    number = form.page_number
    try:
        page = paginator.page_or_out_of_range(number)
    except PageOutOfRange as exc:
        return invalid_query(request, exc.message, status=404, job=job)
    # Documents are indexed shortly after they are cached: say so rather than miss them silently.
    unindexed = unindexed_count(job.pk) if form.cleaned_data.get("q") else 0
    if text := form.cleaned_data.get("q"):
        # Where the words matched, for the rows of this page only (one query).
        found = snippets(page.object_list, text)
        for document in page.object_list:
            document.snippet = found.get(document.pk, "")
    context = {
        "job": job,
        "form": form,
        "query": request.GET.urlencode(),
        "page": page,
        "paginator": paginator,
        "page_links": paginator.page_links(number),
        "searched": max(0, job.documents_cached - unindexed),
        "unindexed": unindexed,
        "nav": "jobs",
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "jobs/documents.html#results", context)
    else:
        response = render(request, "jobs/documents.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _get_document(job: Job, position: int) -> Document:
    return get_object_or_404(Document, job=job, position=position)


def document_detail(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    tab = request.GET.get("tab", "markdown")
    if tab not in TABS or len(request.GET.getlist("tab")) > 1:
        return invalid_query(request, "Tab (tab): choose markdown, source or html.", job=job)
    # The browser's filters come along, so previous/next stay within what the list showed.
    selection = request.GET.copy()
    selection.pop("tab", None)
    form = DocumentQueryForm(selection)
    if not form.is_valid():
        return invalid_query(request, form.error_text(), job=job)
    document = _get_document(job, position)
    content = document.content
    markdown = content.markdown or ""
    neighbours = form.filter(job.documents.all()).values_list("position", flat=True)
    screenshots = list(Screenshot.objects.filter(job=job, position=position).order_by("shot"))
    context: dict[str, Any] = {
        "job": job,
        "document": document,
        "tab": tab,
        "tabs": TABS,
        "metadata": list(content.metadata.items()),
        "links": content.links,
        "screenshots": screenshots,
        "kept_screenshots": [shot for shot in screenshots if shot.state == Screenshot.State.KEPT],
        # Only for documents cached before screenshots were kept (they have no rows): once a
        # copy is kept, the page never points at Firecrawl's.
        "screenshot": "" if screenshots else _http_url(content.screenshot),
        "markdown": markdown,
        "rendered": render_markdown(markdown) if tab == "markdown" else "",
        "html": content.content_html or "",
        "filtered": form.is_filtered,
        "query": selection.urlencode(),
        "previous": neighbours.filter(position__lt=position).order_by("-position").first(),
        "next": neighbours.filter(position__gt=position).order_by("position").first(),
        "nav": "jobs",
    }
    return render(request, "jobs/document_detail.html", context)


def _http_url(value: Any) -> str:
    """Only an http(s) URL becomes a link: a `javascript:` one from upstream stays out."""
    if isinstance(value, str) and value.lower().startswith(("https://", "http://")):
        return value
    return ""


@csp_override(PREVIEW_CSP)
def document_preview(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    """The scraped HTML as a page, only ever shown in a sandboxed iframe of our own page."""
    job = get_job_for_user(request, pk)
    content = _get_document(job, position).content
    html = content.content_html
    if not html:
        raise Http404("This document has no HTML.")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # Same-origin framing only (our document page); nothing leaks where a click would go.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Referrer-Policy"] = "no-referrer"
    return response


def document_markdown(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    document = _get_document(job, position)
    markdown = document.content.markdown
    if markdown is None:
        raise Http404("This document has no markdown.")
    response = HttpResponse(markdown, content_type="text/markdown; charset=utf-8")
    filename = document_filename(document.position, document.title, document.url, "md")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@csp_override(IMAGE_CSP)
def document_screenshot(
    request: AuthenticatedRequest, pk: int, position: int, shot: int
) -> FileResponse:
    """A kept screenshot: only to its job's owner (anyone else gets a 404)."""
    return kept_screenshot_response(get_job_for_user(request, pk), position, shot)
