"""The document browser: a job's cached documents page by page, and one document in detail.

Scraped content is hostile. It is always escaped, or rendered through jobs.render's sanitizer
inside an `hx-disable` container; its HTML runs only in the preview, a sandboxed iframe whose
response carries its own CSP with no script, no same-origin and no network.
"""

import json
import math
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.utils.http import content_disposition_header
from django.views.decorators.csp import csp_override

from jobs.export import document_filename
from jobs.forms_documents import DocumentQueryForm
from jobs.models import Document, Job
from jobs.render import render_markdown
from jobs.search import unindexed_count
from jobs.views.common import AuthenticatedRequest, get_job_for_user

# The only columns a list row shows: `raw` (up to megabytes per row) is never read for a list.
LIST_FIELDS = ("position", "title", "url", "source_url", "status_code", "error", "warning", "size")
TABS = {"markdown": "Markdown", "source": "Source", "html": "HTML"}
# A selection (search, filters) is counted exactly up to this many documents. Counting costs as
# much as the matches, and a search of a big job can match tens of thousands on every page
# view: past the cap the list says "more than 1,000" and pages on by fetching one row extra.
COUNT_CAP = 1_000
PREVIEW_CSP: dict[str, Any] = {
    "default-src": [CSP.NONE],
    "img-src": ["data:"],
    "style-src": [CSP.UNSAFE_INLINE],
    "frame-ancestors": [CSP.SELF],
    "sandbox": True,
}


def bad_request(request: AuthenticatedRequest, job: Job, message: str) -> HttpResponse:
    context = {"job": job, "message": message, "nav": "jobs"}
    return render(request, "jobs/documents.html", context, status=400)


def page_not_found(
    request: AuthenticatedRequest, job: Job, number: int, num_pages: int
) -> HttpResponse:
    # A 404 rather than a silent clamp: the URL names a page that does not exist, and a clamp
    # would show a "page 9" that is really page 3.
    pages = f"{num_pages:,} page" + ("" if num_pages == 1 else "s")
    message = f"There is no page {number:,}: this list has {pages}."
    context = {"job": job, "message": message, "not_found": True, "nav": "jobs"}
    return render(request, "jobs/documents.html", context, status=404)


def document_list(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = DocumentQueryForm(request.GET)
    if not form.is_valid():
        return bad_request(request, job, form.error_text())
    documents = form.filter(Document.objects.filter(job=job))
    if form.is_filtered:
        count = documents.order_by()[: COUNT_CAP + 1].count()
    else:
        # Unfiltered, positions run 0..documents_cached-1 without gaps (the sync commits whole
        # pages in order): the count is known, and a page in position order is an index range.
        count = job.documents_cached
    capped = form.is_filtered and count > COUNT_CAP  # then `count` is only a lower bound
    per_page = form.page_size
    num_pages = max(1, math.ceil(count / per_page))
    number = form.page_number
    if number > num_pages and not capped:
        return page_not_found(request, job, number, num_pages)
    offset = (number - 1) * per_page
    if not form.is_filtered and form.sort_key in ("position", "-position"):
        low = offset if form.sort_key == "position" else count - offset - per_page
        page = documents.filter(position__gte=low, position__lt=low + per_page)
    else:
        # Deferred join: the offset is walked on a covering index (ids only), then the rows
        # of one page are read, and one more, which says whether a next page exists.
        page_ids = documents.order_by(*form.ordering()).values("pk")
        page = Document.objects.filter(pk__in=page_ids[offset : offset + per_page + 1])
    rows = list(page.order_by(*form.ordering()).only(*LIST_FIELDS))
    more = len(rows) > per_page
    rows = rows[:per_page]
    if capped:
        if not rows:
            # Past the end of a selection too big to count on every view: count it this once,
            # so the message can say where the list ends.
            last = max(1, math.ceil(documents.count() / per_page))
            return page_not_found(request, job, number, last)
        if more:
            count = max(COUNT_CAP, offset + per_page)  # shown as "more than"
            num_pages = max(num_pages, number + 1)  # pages known to exist
        else:
            # The last page: here the count is known exactly.
            capped, count, num_pages = False, offset + len(rows), number
    # Documents are indexed shortly after they are cached: say so rather than miss them silently.
    unindexed = unindexed_count(job.pk) if form.cleaned_data.get("q") else 0
    context = {
        "job": job,
        "form": form,
        "query": request.GET.urlencode(),
        "rows": rows,
        "count": count,
        "count_capped": capped,
        "number": number,
        "num_pages": num_pages,
        "first_index": offset + 1 if rows else 0,
        "last_index": offset + len(rows),
        "page_links": page_links(number, num_pages, more=capped),
        "has_previous": number > 1,
        "has_next": number < num_pages,
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


def page_links(number: int, num_pages: int, more: bool = False) -> list[int | None]:
    """First, last and the pages around the current one; None marks a gap.

    With `more`, num_pages is only the last page known to exist, and a gap follows it.
    """
    wanted = {1, num_pages} | set(range(max(1, number - 2), min(num_pages, number + 2) + 1))
    links: list[int | None] = []
    for page in sorted(wanted):
        if links and links[-1] is not None and page - links[-1] > 1:
            links.append(None)
        links.append(page)
    if more:
        links.append(None)
    return links


def _get_document(job: Job, position: int) -> Document:
    return get_object_or_404(Document, job=job, position=position)


def document_detail(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    tab = request.GET.get("tab", "markdown")
    if tab not in TABS or len(request.GET.getlist("tab")) > 1:
        return bad_request(request, job, "Tab (tab): choose markdown, source or html.")
    # The browser's filters come along, so previous/next stay within what the list showed.
    selection = request.GET.copy()
    selection.pop("tab", None)
    form = DocumentQueryForm(selection)
    if not form.is_valid():
        return bad_request(request, job, form.error_text())
    document = _get_document(job, position)
    data = document.data
    metadata = data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    markdown = data.get("markdown") if isinstance(data.get("markdown"), str) else ""
    html = data.get("html") or data.get("rawHtml")
    neighbours = form.filter(Document.objects.filter(job=job)).values_list("position", flat=True)
    context: dict[str, Any] = {
        "job": job,
        "document": document,
        "tab": tab,
        "tabs": TABS,
        "metadata": [(str(key), _display(value)) for key, value in metadata.items()],
        "links": [link for link in data.get("links") or [] if isinstance(link, str)],
        "screenshot": _http_url(data.get("screenshot")),
        "markdown": markdown,
        "rendered": render_markdown(markdown) if tab == "markdown" else "",
        "html": html if isinstance(html, str) else "",
        "filtered": form.is_filtered,
        "query": selection.urlencode(),
        "previous": neighbours.filter(position__lt=position).order_by("-position").first(),
        "next": neighbours.filter(position__gt=position).order_by("position").first(),
        "nav": "jobs",
    }
    return render(request, "jobs/document_detail.html", context)


def _display(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    return json.dumps(value, ensure_ascii=False)


def _http_url(value: Any) -> str:
    """Only an http(s) URL becomes a link: a `javascript:` one from upstream stays out."""
    if isinstance(value, str) and value.lower().startswith(("https://", "http://")):
        return value
    return ""


@csp_override(PREVIEW_CSP)
def document_preview(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    """The scraped HTML as a page, only ever shown in a sandboxed iframe of our own page."""
    job = get_job_for_user(request, pk)
    data = _get_document(job, position).data
    html = data.get("html") or data.get("rawHtml")
    if not isinstance(html, str) or not html:
        raise Http404("This document has no HTML.")
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    # Same-origin framing only (our document page); nothing leaks where a click would go.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Referrer-Policy"] = "no-referrer"
    return response


def document_markdown(request: AuthenticatedRequest, pk: int, position: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    document = _get_document(job, position)
    markdown = document.data.get("markdown")
    if not isinstance(markdown, str):
        raise Http404("This document has no markdown.")
    response = HttpResponse(markdown, content_type="text/markdown; charset=utf-8")
    filename = document_filename(document.position, document.title, document.url, "md")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
