"""Paging through the app's lists: one page size per kind of list, one answer to a page number
past the end (a 404 that says how many pages there are, never a silent clamp), and the document
browser's paginator.

DocumentPaginator is Django's Paginator with three changes measured in docs/PERFORMANCE.md: a
selection (search, filters) is counted only up to COUNT_CAP (counting costs as much as the
matches, on every page view), past which pages are known to exist one at a time; rows are read
the way an index serves them at any depth — an index range in position order, else the page's
ids walked on a covering index and only then its rows; and a page in the second half of a list
whose length is known is walked to from the end, so the last page costs what the first does.
"""

import math
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.core.paginator import EmptyPage, Page, Paginator

if TYPE_CHECKING:
    from jobs.models import Document, DocumentQuerySet

# Rows per page, per kind of list.
JOBS_PER_PAGE = 50
FAILED_URLS_PER_PAGE = 50
# The document browser lets people choose.
DOCUMENTS_PER_PAGE = 50
DOCUMENTS_PER_PAGE_CHOICES = (25, 50, 100)

COUNT_CAP = 1_000


class PageOutOfRange(Exception):
    """A page number past the end of its list: the page answers 404 with this message."""

    def __init__(self, number: int, last: int) -> None:
        pages = f"{last:,} page" + ("" if last == 1 else "s")
        self.message = f"There is no page {number:,}: this list has {pages}."
        super().__init__(self.message)


class ListPaginator(Paginator):
    """Django's Paginator with the app's one rule for a page that does not exist."""

    def __init__(self, object_list: Any, per_page: int) -> None:
        super().__init__(object_list, per_page, allow_empty_first_page=True)

    def page_or_out_of_range(self, number: int) -> Page[Any]:
        """Page `number`, or PageOutOfRange: the URL names a page that does not exist, and a
        clamp would show a "page 9" that is really page 3."""
        try:
            return self.page(number)
        except EmptyPage:
            raise PageOutOfRange(number, self.last_page_number()) from None

    def last_page_number(self) -> int:
        return self.num_pages


class DocumentPaginator(ListPaginator):
    """Pages of `documents` in `ordering`.

    `count` is given when it is known without a query (a job's unfiltered documents occupy
    positions 0..documents_cached-1), which also allows position order to be an index range.
    """

    def __init__(
        self,
        documents: "DocumentQuerySet",
        per_page: int,
        ordering: Sequence[Any],
        *,
        count: int | None = None,
        descending_positions: bool | None = None,
    ) -> None:
        super().__init__(documents, per_page)
        self.documents = documents
        self.ordering = list(ordering)
        self.known_count = count
        # In position order over every document, a page is a range of positions.
        self.descending_positions = descending_positions
        self.capped = False
        self.at_least = 0

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        counted = self.documents.order_by()[: COUNT_CAP + 1].count()
        self.capped = counted > COUNT_CAP  # then `count` is only a lower bound
        return counted

    def validate_number(self, number: Any) -> int:
        if self.count and self.capped:
            # The last page is not known yet: any page may exist.
            number = int(number)
            if number < 1:
                raise EmptyPage("That page number is less than 1")
            return number
        return super().validate_number(number)

    def page(self, number: Any) -> Any:
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        rows = self._rows(offset)
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if self.capped:
            if not rows:
                raise EmptyPage("That page contains no results")
            if more:
                # Pages known to exist: this one and the next; the list says "more than" this.
                self.at_least = max(COUNT_CAP, offset + self.per_page)
                self.count = self.at_least + 1
            else:
                # The last page: here the count is known exactly.
                self.capped, self.count = False, offset + len(rows)
            self.__dict__.pop("num_pages", None)
        return Page(rows, number, self)

    def last_page_number(self) -> int:
        """For the message of a page past the end: a capped selection is counted, this once."""
        if not self.capped:
            return self.num_pages
        return max(1, math.ceil(self.documents.count() / self.per_page))

    def page_links(self, number: int) -> list[Any]:
        """First, last and the pages around the current one, `ELLIPSIS` in the gaps; past the
        cap a gap follows the last page known to exist."""
        links: list[Any] = list(self.get_elided_page_range(number, on_each_side=2, on_ends=1))
        if self.capped:
            links.append(self.ELLIPSIS)
        return links

    def _rows(self, offset: int) -> list["Document"]:
        summaries = self.documents.model.objects.summaries()
        if self.descending_positions is not None and self.known_count is not None:
            low = self.known_count - offset - self.per_page if self.descending_positions else offset
            page = self.documents.filter(position__gte=low, position__lt=low + self.per_page)
            return list(page.order_by(*self.ordering).summaries())
        if not self.capped and offset * 2 > self.count:
            # Past the middle of a list of known length, the same index is walked backwards:
            # the walk is then from the end, and the last page is as cheap as the first.
            upto = max(0, self.count - offset - self.per_page)
            size = self.count - offset - upto
            backwards = [_reversed(expression) for expression in self.ordering]
            ids = self.documents.order_by(*backwards).values("pk")[upto : upto + size]
            return list(summaries.filter(pk__in=ids).order_by(*self.ordering))
        # Deferred join: the offset is walked on a covering index (ids only), then the rows
        # of one page are read, and one more, which says whether a next page exists.
        ids = self.documents.order_by(*self.ordering).values("pk")
        page = summaries.filter(pk__in=ids[offset : offset + self.per_page + 1])
        return list(page.order_by(*self.ordering))


def _reversed(expression: Any) -> Any:
    """The ordering that walks the same index the other way (nulls included)."""
    if isinstance(expression, str):
        return expression[1:] if expression.startswith("-") else f"-{expression}"
    return expression.copy().reverse_ordering()
