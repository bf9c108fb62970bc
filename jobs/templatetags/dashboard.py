"""Small display helpers for the dashboard's templates."""

import re
from datetime import datetime, timedelta

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def timedelta_words(value: timedelta | None) -> str:
    """ "3 d 4 h", "2 h 5 min", "4 min", "30 s": short, for ETAs and durations."""
    if value is None or value.total_seconds() < 0:
        return ""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@register.filter
def ago(value: datetime | None) -> str:
    """ "12 s ago", "3 min ago", "2 h ago", "4 d ago": the largest unit only, for tables
    (the exact time goes in the element's title)."""
    if value is None:
        return ""
    seconds = max(0, int((timezone.now() - value).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now" if seconds < 5 else f"{seconds} s ago"


_HOST = re.compile(
    r"^(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?P<host>[^/?#]*)(?P<rest>.*)$", re.DOTALL
)


@register.filter
def url_parts(url: str) -> tuple[str, str]:
    """A URL as (host, the rest), for lists that cut each part short on its own: the host stays
    readable however long the path. The scheme is shown only when it is not https."""
    match = _HOST.match(url or "")
    if match is None:
        return "", url or ""
    host = match["host"]
    if match["scheme"].lower() != "https":
        host = f"{match['scheme']}://{host}"
    return host, match["rest"]
