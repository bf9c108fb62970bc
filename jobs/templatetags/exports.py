"""The document browser's export options."""

from django import template

from jobs.export import CSV_COLUMNS
from jobs.forms.downloads import COLUMN_LABELS

register = template.Library()


@register.simple_tag
def export_columns() -> list[tuple[str, str, bool]]:
    """(column, label, checked by default) for the CSV and xlsx column choice."""
    return [(name, label, name in CSV_COLUMNS) for name, label in COLUMN_LABELS.items()]
