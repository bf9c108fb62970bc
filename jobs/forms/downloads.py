"""The export options of a download: which columns a CSV or xlsx holds."""

from django import forms

from jobs.export import CSV_COLUMNS, EXPORT_COLUMNS

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
