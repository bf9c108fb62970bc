"""The document browser's query string (search, filters, sort, page), validated like any input."""

from dataclasses import dataclass
from typing import Any, Literal

from django import forms
from django.db.models import F

from firecrawl_dash.forms import QueryForm
from jobs.models import DocumentQuerySet, Job
from jobs.pagination import DOCUMENTS_PER_PAGE, DOCUMENTS_PER_PAGE_CHOICES, DocumentPaginator
from jobs.search import apply_search

PER_PAGE_CHOICES = [(size, str(size)) for size in DOCUMENTS_PER_PAGE_CHOICES]
# Status filters: a range of status codes each. "Error pages" are pages that answered 4xx or 5xx
# (documents, unlike failed URLs, which Firecrawl could not scrape at all); the job page uses the
# same words.
STATUS_FILTERS = {
    "2xx": ("2xx: OK", 200, 300),
    "3xx": ("3xx: redirect", 300, 400),
    "errors": ("Error pages (4xx or 5xx)", 400, 600),
    "4xx": ("4xx: error page, client error", 400, 500),
    "5xx": ("5xx: error page, server error", 500, 600),
}

# Every sort ends on position, so rows never swap between pages; each has an index (see Document).
SORTS = {
    "position": [F("position").asc()],
    "-position": [F("position").desc()],
    "url": [F("url_key").asc(), F("position").asc()],
    "-url": [F("url_key").desc(), F("position").desc()],
    "title": [F("title_key").asc(), F("position").asc()],
    "-title": [F("title_key").desc(), F("position").desc()],
    "status": [F("status_code").asc(), F("position").asc()],
    "-status": [F("status_code").desc(), F("position").desc()],
}

# The columns whose header sorts the list, in the table's order.
SORTABLE_COLUMNS = [
    ("position", "Position"),
    ("title", "Title"),
    ("url", "URL"),
    ("status", "Status"),
]
DEFAULT_SORT = "position"


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    # The value of the header's aria-sort, None when the list is not sorted by this column.
    state: Literal["ascending", "descending"] | None
    # The sort its link asks for (None: the default, left out of the address).
    link: str | None


class DocumentQueryForm(QueryForm):
    q = forms.CharField(
        label="Search", max_length=200, required=False, strip=True, widget=forms.SearchInput()
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status")] + [(name, f[0]) for name, f in STATUS_FILTERS.items()],
    )
    # "error", not "has_error": a field by that name would shadow Form.has_error().
    error = forms.ChoiceField(
        label="Error message",
        required=False,
        choices=[
            ("", "Any"),
            ("yes", "Has an error message"),
            ("no", "No error message"),
        ],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("position", "Position"),
            ("-position", "Position, last first"),
            ("url", "URL"),
            ("-url", "URL, Z to A"),
            ("title", "Title"),
            ("-title", "Title, Z to A"),
            ("status", "Status"),
            ("-status", "Status, highest first"),
        ],
    )
    per_page = forms.TypedChoiceField(
        label="Per page", required=False, choices=PER_PAGE_CHOICES, coerce=int, empty_value=None
    )
    page = forms.IntegerField(min_value=1, max_value=10_000_000, required=False)

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        if "per_page" not in self.data:
            # Bound forms show the submitted value, so fill in the default for the select to show.
            filled = data.copy()
            filled["per_page"] = str(DOCUMENTS_PER_PAGE)
            self.data = filled

    @property
    def sort_key(self) -> str:
        return self.cleaned_data.get("sort") or DEFAULT_SORT

    def sort_columns(self) -> list[SortColumn]:
        """The sortable headers: a click on the sorted column reverses it, on another sorts by
        it ascending."""
        columns = []
        for key, label in SORTABLE_COLUMNS:
            if self.sort_key == key:
                state: Literal["ascending", "descending"] | None = "ascending"
                link = f"-{key}"
            elif self.sort_key == f"-{key}":
                state, link = "descending", key
            else:
                state, link = None, key
            columns.append(SortColumn(key, label, state, None if link == DEFAULT_SORT else link))
        return columns

    @property
    def page_size(self) -> int:
        return self.cleaned_data.get("per_page") or DOCUMENTS_PER_PAGE

    @property
    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1

    @property
    def active_filters(self) -> dict[str, str]:
        """The filters in use (search, status, errors), as the zip's manifest records them."""
        return {
            name: self.cleaned_data[name]
            for name in ("q", "status", "error")
            if self.cleaned_data.get(name)
        }

    @property
    def is_filtered(self) -> bool:
        return bool(self.active_filters)

    def filter(self, documents: DocumentQuerySet) -> DocumentQuerySet:
        """The documents the filters select (unordered); the downloads use this too."""
        if status := self.cleaned_data.get("status"):
            _label, low, high = STATUS_FILTERS[status]
            documents = documents.with_status_codes(low, high)
        if has_error := self.cleaned_data.get("error"):
            documents = documents.with_error(has_error == "yes")
        if text := self.cleaned_data.get("q"):
            documents = apply_search(documents, text)
        return documents

    def paginator(self, job: Job) -> DocumentPaginator:
        documents = self.filter(job.documents.all())
        if self.is_filtered:
            return DocumentPaginator(documents, self.page_size, self.ordering())
        # Unfiltered, positions run 0..documents_cached-1 without gaps (the sync commits whole
        # pages in order): the count is known, and a page in position order is an index range.
        by_position = self.sort_key in ("position", "-position")
        return DocumentPaginator(
            documents,
            self.page_size,
            self.ordering(),
            count=job.documents_cached,
            descending_positions=self.sort_key == "-position" if by_position else None,
        )

    def ordering(self) -> list[Any]:
        return SORTS[self.sort_key]
