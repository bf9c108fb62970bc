"""Search snippets shown safely: scraped text escaped, only the match markers become <mark>."""

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from jobs.search import MARK_END, MARK_START

register = template.Library()


@register.filter
def marked(snippet: str) -> SafeString:
    """The snippet escaped whole, then each marked match wrapped in <mark>.

    The markers are private-use characters that escaping leaves alone; a marker the scraped
    text itself contained can at most highlight a word, never open a tag.
    """
    parts = []
    for index, piece in enumerate(str(snippet).split(MARK_START)):
        match, _, rest = piece.partition(MARK_END) if index else ("", "", piece)
        if match:
            parts.append(f"<mark>{escape(match.replace(MARK_END, ''))}</mark>")
        parts.append(escape(rest.replace(MARK_END, "")))
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text above is escaped)
