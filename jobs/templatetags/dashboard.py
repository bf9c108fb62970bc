"""Small display helpers for the dashboard's templates."""

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
def rounded_duration(value: timedelta | None) -> str:
    """An estimate in words, rounded to the nearest unit shown: 1 min 54 s is "2 min" (cut
    down, it would read "1 min"), 40 s is "40 s", 2 h 58 min is "2 h 58 min"."""
    if value is None or value.total_seconds() < 0:
        return ""
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{max(round(seconds / 5) * 5, 5)} s"
    return timedelta_words(timedelta(minutes=round(seconds / 60)))


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
def breakable(text: str) -> SafeString:
    """The text escaped, with a line-break opportunity after each dot and slash: a host name in
    a title ("Crawl of handbook.example.test") wraps at its dots on a phone, not mid-word."""
    # Escaping never makes a dot or a slash, so the <wbr>s are the only markup.
    return mark_safe(re.sub(r"([./])", r"\1<wbr>", str(escape(text))))  # noqa: S308


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


@register.filter
def web_url(url: str) -> str:
    """The URL if it is an http(s) address a link may point to, else "": a URL from Firecrawl
    (a scraped page's, a failed one's) is shown as text, and linked only when it is one of
    those (never javascript: or data:)."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url
