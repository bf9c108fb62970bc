"""A download's query string: the browser's filters, and which columns a CSV or xlsx holds."""

from typing import Any

from django import forms

from firecrawl_dash.forms import error_text
from jobs.export import CSV_COLUMNS, EXPORT_COLUMNS
from jobs.forms.documents import DocumentQueryForm

COLUMN_LABELS = {
    "position": "Position",
    "url": "URL",
    "source_url": "Requested URL",
    "title": "Title",
    "status_code": "Status code",
    "error": "Error",
    "warning": "Warning",
    "size": "Size",
    "language": "Language",
    "content_type": "Content type",
    "scrape_id": "Scrape id",
    "markdown": "Content (markdown)",
}


class ExportForm(forms.Form):
    # Repeated on purpose (one checkbox each), unlike the browser's other parameters.
    columns = forms.MultipleChoiceField(
        label="Columns",
        required=False,
        choices=[(name, COLUMN_LABELS[name]) for name in EXPORT_COLUMNS],
        widget=forms.CheckboxSelectMultiple,
    )

    @property
    def chosen_columns(self) -> list[str]:
        """In the table's order, whatever the order of the query string; the default when none
        is chosen: the metadata columns (content is opt-in: it is most of a job's bytes)."""
        chosen = set(self.cleaned_data.get("columns") or [])
        return [name for name in EXPORT_COLUMNS if name in chosen] or list(CSV_COLUMNS)


class DownloadQuery:
    """What a download is asked for: the browser's filters, when the link came from there (a
    download holds what the list shows), and for a table the columns chosen."""

    def __init__(self, query: Any) -> None:
        selection = query.copy()
        self.options = ExportForm({"columns": selection.pop("columns", [])})
        self.documents = DocumentQueryForm(selection)

    def is_valid(self) -> bool:
        return self.documents.is_valid() and self.options.is_valid()

    def error_text(self) -> str:
        if not self.documents.is_valid():
            return self.documents.error_text()
        return error_text(self.options)
