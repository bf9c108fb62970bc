"""The API's query strings: the browser's own forms (the same filters, search and sort, the same
validation and messages), with a cursor in place of a page number."""

from django import forms

from firecrawl_dash.forms import QueryForm
from jobs.forms.dashboard import JobFilterForm
from jobs.forms.documents import PER_PAGE_CHOICES, DocumentQueryForm
from jobs.models import Job, JobQuerySet

# The largest page a list of the browser shows; an API page is never larger.
MAX_PER_PAGE = max(size for size, _label in PER_PAGE_CHOICES)
DEFAULT_PER_PAGE = 50


class CursorFields(forms.Form):
    cursor = forms.CharField(
        required=False, max_length=1000, help_text="From a page's `next` (or `resume`) address."
    )
    per_page = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PER_PAGE,
        help_text=f"Rows per page, at most {MAX_PER_PAGE} (default {DEFAULT_PER_PAGE}).",
    )

    @property
    def page_size(self) -> int:
        return self.cleaned_data.get("per_page") or DEFAULT_PER_PAGE

    @property
    def cursor_text(self) -> str:
        return self.cleaned_data.get("cursor") or ""


class JobListQuery(CursorFields, JobFilterForm):
    """GET /api/v1/jobs: the jobs list's status filter, and the kind, key and a search."""

    page = None  # type: ignore[assignment]  # (Django's way to drop a field) a cursor instead
    kind = forms.ChoiceField(
        required=False, choices=[("", "Any"), *Job.Kind.choices], help_text="batch or crawl."
    )
    key = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Jobs read with this key."
    )
    q = forms.CharField(
        required=False,
        max_length=200,
        help_text="Jobs whose label contains this, or whose Firecrawl id it is.",
    )

    def filter(self, jobs: JobQuerySet) -> JobQuerySet:
        jobs = super().filter(jobs)
        if kind := self.cleaned_data.get("kind"):
            jobs = jobs.filter(kind=kind)
        if key := self.cleaned_data.get("key"):
            jobs = jobs.filter(api_key=key)
        if text := self.cleaned_data.get("q"):
            jobs = jobs.matching(text)
        return jobs


class DocumentPageQuery(CursorFields, DocumentQueryForm):  # type: ignore[misc]
    """GET /api/v1/jobs/{id}/documents: the document browser's search, filters and sort; the
    per page of CursorFields (any size up to the browser's largest)."""

    page = None  # type: ignore[assignment]  # (Django's way to drop a field) a cursor instead
    # The parameter's name is the API's (as Apify's); the form metaclass takes it out of the
    # class, so it does not shadow Form.fields at run time, whatever the stubs say.
    fields = forms.ChoiceField(  # type: ignore[assignment]
        required=False,
        choices=[("summary", "Summary"), ("full", "Full")],
        help_text="summary (default): what the browser's rows show; full: each document as "
        "Firecrawl sent it, too.",
    )

    @property
    def full(self) -> bool:
        return self.cleaned_data.get("fields") == "full"


class FailedUrlQuery(CursorFields, QueryForm):
    """GET /api/v1/jobs/{id}/failed-urls."""
