"""Small display helpers for the dashboard's templates."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def timedelta_words(value: timedelta | None) -> str:
    """ "2 h 5 min", "4 min", "30 s": short, for ETAs."""
    if not value:
        return ""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"
