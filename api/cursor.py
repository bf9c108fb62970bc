"""Cursor pages: each page starts just after the last row of the page before, in an order that
ends on a unique column (keyset pagination). A row is never skipped nor repeated however many
are added while a client reads, and page 2,000 costs what page 1 costs: no OFFSET is walked.

A cursor is the sort values of a page's last row, signed, with the name of the list and order
it belongs to, so a client cannot hand it to another list or forge one. Rows whose sort value is
NULL come after all others, on SQLite as on PostgreSQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, Model, OrderBy, Q, QuerySet
from django.http import HttpRequest

from api.errors import ApiError

SALT = "api.cursor"


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool
    nullable: bool


@dataclass(frozen=True)
class CursorPage:
    # The primary keys of the page's rows, in order.
    ids: list[Any]
    # Where the next page starts; None when this page reached the end of the list as it is now.
    next: str | None
    # Where to go on from after this page's last row, now or later (a list that grows, such as
    # a job's documents while it is cached, has more there later); "": from the start.
    resume: str


def sort_keys(model: type[Model], ordering: Sequence[Any]) -> list[SortKey]:
    """The columns of `ordering` (expressions such as F("position").asc()); the last one must be
    unique within the list."""
    keys = []
    for expression in ordering:
        assert isinstance(expression, OrderBy) and isinstance(expression.expression, F)
        name: str = getattr(expression.expression, "name")  # noqa: B009 (F's, not in the stubs)
        nullable = model._meta.get_field(name).null
        keys.append(SortKey(name, expression.descending, nullable))
    return keys


def read_page(
    rows: QuerySet[Any],
    ordering: Sequence[Any],
    *,
    cursor: str,
    name: str,
    size: int,
    weight: str | None = None,
    max_weight: int = 0,
) -> CursorPage:
    """The page of `rows` after `cursor`: at most `size` rows and, when `weight` names a column
    (a document's size), no more than `max_weight` of it together (a heavier row comes alone)."""
    keys = sort_keys(rows.model, ordering)
    fields = [key.field for key in keys]
    after = decode(cursor, name, keys) if cursor else None
    if after is not None:
        rows = rows.filter(_beyond(keys, after))
    heads = list(
        rows.order_by(*_order(keys)).values_list("pk", *fields, *([weight] if weight else []))[
            : size + 1
        ]
    )
    taken, total = heads[:size], 0
    if weight:
        for index, head in enumerate(taken):
            total += head[-1]
            if index and total > max_weight:
                taken = taken[:index]
                break
    more = len(taken) < len(heads)
    last = [list(head[1 : 1 + len(keys)]) for head in taken[-1:]]
    resume = encode(name, last[0]) if last else cursor
    return CursorPage(
        ids=[head[0] for head in taken],
        next=encode(name, last[0]) if more else None,
        resume=resume,
    )


def _order(keys: list[SortKey]) -> list[OrderBy]:
    # NULL sorts last going up and first going down, as if it were the greatest value: what
    # _beyond assumes, on either database.
    return [
        F(key.field).desc(nulls_first=True if key.nullable else None)
        if key.descending
        else F(key.field).asc(nulls_last=True if key.nullable else None)
        for key in keys
    ]


def _beyond(keys: list[SortKey], values: list[Any]) -> Q:
    """Rows after the row with these sort values: beyond it on the first key that differs."""
    condition = Q(pk__in=[])
    same = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= same & _after(key, value)
        same &= Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})
    return condition


def _after(key: SortKey, value: Any) -> Q:
    if value is None:
        # NULL is the greatest value: nothing is above it, everything else is below.
        return Q(**{f"{key.field}__isnull": False}) if key.descending else Q(pk__in=[])
    if key.descending:
        return Q(**{f"{key.field}__lt": value})
    beyond = Q(**{f"{key.field}__gt": value})
    return beyond | Q(**{f"{key.field}__isnull": True}) if key.nullable else beyond


def encode(name: str, values: list[Any]) -> str:
    plain = [value.isoformat() if hasattr(value, "isoformat") else value for value in values]
    return signing.dumps([name, plain], salt=SALT)


def decode(cursor: str, name: str, keys: list[SortKey]) -> list[Any]:
    """The sort values a cursor holds, or a 400 when it is not one of this list's."""
    try:
        list_name, values = signing.loads(cursor, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise ApiError(400, "That cursor is not valid: use the `next` address as given.") from None
    if list_name != name or not isinstance(values, list) or len(values) != len(keys):
        raise ApiError(
            400,
            "That cursor belongs to another list or sort order: start again without it, or "
            "keep the parameters it was given with.",
        )
    return values


def page_url(request: HttpRequest, cursor: str) -> str:
    """This request's address with another cursor ("": none), every other parameter kept."""
    query = request.GET.copy()
    query.pop("cursor", None)
    if cursor:
        query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}".rstrip("?"))


def next_url(request: HttpRequest, page: CursorPage) -> str | None:
    return page_url(request, page.next) if page.next is not None else None
