"""The document browser's query string (search, filters, sort, page), validated like any input."""

from typing import Any

from django import forms
from django.db.models import F, Q, QuerySet

from jobs.models import Document, SortPrefix
from jobs.search import apply_search

PER_PAGE_CHOICES = [(25, "25"), (50, "50"), (100, "100")]
DEFAULT_PER_PAGE = 50
STATUS_CLASSES = {"2xx": 200, "3xx": 300, "4xx": 400, "5xx": 500}

# Every sort ends on position, so rows never swap between pages; each has an index (see Document).
SORTS = {
    "position": [F("position").asc()],
    "-position": [F("position").desc()],
    "url": [SortPrefix("url").asc(), F("position").asc()],
    "-url": [SortPrefix("url").desc(), F("position").desc()],
    "title": [SortPrefix("title").asc(), F("position").asc()],
    "-title": [SortPrefix("title").desc(), F("position").desc()],
    "status": [F("status_code").asc(), F("position").asc()],
    "-status": [F("status_code").desc(), F("position").desc()],
}


class DocumentQueryForm(forms.Form):
    q = forms.CharField(
        label="Search", max_length=200, required=False, strip=True, widget=forms.SearchInput()
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status")] + [(name, name) for name in STATUS_CLASSES],
    )
    # "error", not "has_error": a field by that name would shadow Form.has_error().
    error = forms.ChoiceField(
        label="Errors",
        required=False,
        choices=[("", "With or without"), ("yes", "Has an error"), ("no", "No error")],
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
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        if "per_page" not in self.data:
            # Bound forms show the submitted value, so fill in the default for the select to show.
            filled = data.copy()
            filled["per_page"] = str(DEFAULT_PER_PAGE)
            self.data = filled
        unknown = set(data) - set(self.fields)
        if unknown:
            # A typo such as ?stauts=4xx would otherwise silently show everything.
            self.unknown = sorted(unknown)
        else:
            self.unknown = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                "Unknown parameter(s): %(names)s.", params={"names": ", ".join(self.unknown)}
            )
        for name in ("q", "status", "error", "sort", "per_page", "page"):
            # Repeated parameters (?page=1&page=9) are ambiguous: say so instead of picking one.
            if hasattr(self.data, "getlist") and len(self.data.getlist(name)) > 1:
                self.add_error(name, "Give this parameter once.")
        return cleaned

    @property
    def sort_key(self) -> str:
        return self.cleaned_data.get("sort") or "position"

    @property
    def page_size(self) -> int:
        return self.cleaned_data.get("per_page") or DEFAULT_PER_PAGE

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

    def filter(self, documents: QuerySet[Document]) -> QuerySet[Document]:
        """The documents the filters select (unordered); the zip uses this too."""
        status = self.cleaned_data.get("status")
        if status:
            low = STATUS_CLASSES[status]
            documents = documents.filter(status_code__gte=low, status_code__lt=low + 100)
        has_error = self.cleaned_data.get("error")
        if has_error == "yes":
            documents = documents.filter(~Q(error=""))
        elif has_error == "no":
            documents = documents.filter(error="")
        if text := self.cleaned_data.get("q"):
            documents = apply_search(documents, text)
        return documents

    def ordering(self) -> list[Any]:
        return SORTS[self.sort_key]

    def error_text(self) -> str:
        """One readable sentence per problem, for the 400 page."""
        lines = [str(message) for message in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            label = self.fields[name].label or name
            lines += [f"{label} ({name}): {message}" for message in errors]
        return " ".join(lines)
