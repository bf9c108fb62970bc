"""Cached result documents: each stored once, at its upstream offset, exactly as received."""

import json
from functools import cached_property
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from firecrawl_api.text import MAX_MESSAGE, MAX_TITLE, MAX_URL, clean_text, cut
from firecrawl_api.wire import ScrapedDocument
from jobs.models.fast_insert import BATCH

if TYPE_CHECKING:
    from jobs.models.jobs import Job

# Characters of a title or URL that the browser sorts on (and indexes).
SORT_PREFIX = 200

# The columns a list row (the browser, the manifest, CSV) reads: `raw`, up to megabytes per
# row, never comes with them.
SUMMARY_FIELDS = (
    "position",
    "title",
    "url",
    "source_url",
    "status_code",
    "error",
    "warning",
    "size",
)


class SortPrefix(models.Func):
    """The first SORT_PREFIX characters of a text column, with the bounds written as literals.

    The stored sort keys (Document.title_key, url_key) are generated from it; migration 0002
    built expression indexes on it, hence the literals (SQLite matches an expression index only
    on the very expression it was built on).
    """

    function = "SUBSTRING"
    template = f"%(function)s(%(expressions)s, 1, {SORT_PREFIX})"
    output_field = models.TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="SUBSTR", **extra)


class DocumentQuerySet(models.QuerySet["Document"]):
    def summaries(self) -> "DocumentQuerySet":
        """Only what a list shows."""
        return self.only(*SUMMARY_FIELDS)

    def with_status_codes(self, low: int, high: int) -> "DocumentQuerySet":
        """Pages that answered with a status code in [low, high)."""
        return self.filter(status_code__gte=low, status_code__lt=high)

    def with_error(self, has_error: bool = True) -> "DocumentQuerySet":
        """Documents Firecrawl marked with an error (a page that was fetched but failed)."""
        return self.exclude(error="") if has_error else self.filter(error="")

    def holding(self, job: "Job", scrape_ids: list[str]) -> "DocumentQuerySet":
        """The job's documents with these scrape ids, looked up in the (job, scrape_id) index.

        Unordered: the default ordering ("job", then the job's own) joins the jobs table, and
        SQLite then walked all of the job's documents in that order instead of looking the ids
        up, a cost per page that grew with the job (docs/PERFORMANCE-LARGE.md)."""
        return self.filter(job=job, scrape_id__in=scrape_ids).order_by()

    def new_in(self, job: "Job", scraped: list[ScrapedDocument]) -> "list[Any]":
        """The documents of a page that the job does not hold yet, deduplicated by scrapeId
        (upstream can repeat a page, and a page can repeat a document)."""
        scrape_ids = [doc.scrape_id for doc in scraped if doc.scrape_id]
        known: set[str] = set()
        # A page's length is bounded by its bytes only: its ids are asked BATCH at a time.
        for start in range(0, len(scrape_ids), BATCH):
            ids = scrape_ids[start : start + BATCH]
            known.update(self.holding(job, ids).values_list("scrape_id", flat=True))
        fresh, seen = [], set()
        for doc in scraped:
            if doc.scrape_id and (doc.scrape_id in known or doc.scrape_id in seen):
                continue
            seen.add(doc.scrape_id)
            fresh.append(doc)
        return fresh


class Document(models.Model):
    """One scraped page, stored at its upstream offset (stable: upstream appends completions)."""

    job = models.ForeignKey("jobs.Job", models.DB_CASCADE, related_name="documents")
    position = models.PositiveIntegerField()
    scrape_id = models.CharField(max_length=100, blank=True)
    source_url = models.TextField(blank=True)
    url = models.TextField(blank=True)
    title = models.TextField(blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    warning = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    # The document exactly as Firecrawl sent it (JSON text): every field, known or not, is kept.
    raw = models.TextField()
    cached_at = models.DateTimeField(auto_now_add=True)
    # Set by the transaction that caches the document, which indexes it (jobs.models.
    # search_index); a row stored unset is indexed by a catch-up task (jobs.search).
    search_indexed = models.BooleanField(default=False)
    # PostgreSQL's full-text index of the document (jobs.models.search_index); SQLite keeps its
    # own FTS5 table instead, and this column stays NULL there.
    search = SearchVectorField(null=True, editable=False)
    # The browser's sort keys, stored so that an index holds them together with the position
    # and the id: a sorted page at any depth is then an index-only walk (PostgreSQL cannot walk
    # an expression index without visiting the table). Bounded: a btree entry must stay small.
    title_key = models.GeneratedField(
        expression=SortPrefix("title"), output_field=models.TextField(), db_persist=True
    )
    url_key = models.GeneratedField(
        expression=SortPrefix("url"), output_field=models.TextField(), db_persist=True
    )

    objects = DocumentQuerySet.as_manager()

    class Meta:
        # By the column, not the relation: "job" would join the jobs table to order by theirs.
        ordering = ["job_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["job", "position"], name="unique_document_position"),
        ]
        indexes = [
            models.Index(fields=["job", "scrape_id"]),
            # The browser's sorts and its status filter walk these in order (with position as the
            # tie-break). Each holds the id too, which the page's deferred join reads: the walk
            # to page 2,000 never leaves the index.
            models.Index(
                fields=["job", "status_code", "position", "id"], name="document_status_sort"
            ),
            models.Index(fields=["job", "url_key", "position", "id"], name="document_url_sort"),
            models.Index(fields=["job", "title_key", "position", "id"], name="document_title_sort"),
            # Few documents carry an error: the "has error" filter walks only those.
            models.Index(
                fields=["job", "position"], condition=~Q(error=""), name="document_with_error"
            ),
            # What is left to index: empty once the indexer has caught up.
            models.Index(
                fields=["job", "position"],
                condition=Q(search_indexed=False),
                name="document_unindexed",
            ),
            # Created on PostgreSQL only (migration 0009): SQLite searches its FTS5 table.
            GinIndex(fields=["search"], name="document_search"),
        ]

    def __str__(self) -> str:
        return self.title or self.url

    @classmethod
    def from_scraped(cls, job: "Job", position: int, doc: ScrapedDocument) -> "Document":
        # The text as received, when the parser kept it: exact, and free, where json.dumps cost
        # more than the parse. ASCII escapes keep the fallback storable whatever it holds.
        raw = doc.text if doc.text is not None else json.dumps(doc.raw, separators=(",", ":"))
        status_code = doc.status_code if doc.status_code and 0 < doc.status_code < 1000 else None
        return cls(
            job=job,
            position=position,
            scrape_id=clean_text(doc.scrape_id or "")[:100],
            # Cut for lists and search; the document's JSON keeps them whole.
            source_url=cut(doc.source_url, MAX_URL),
            url=cut(doc.url, MAX_URL),
            title=cut(doc.title, MAX_TITLE),
            status_code=status_code,
            error=cut(doc.error or "", MAX_MESSAGE),
            warning=cut(doc.warning or "", MAX_MESSAGE),
            size=len(raw),
            raw=raw,
        )

    @cached_property
    def content(self) -> ScrapedDocument:
        """The stored document read back through the client's typed edge, as every view and
        download sees it: markdown, HTML (or raw HTML), links, metadata, all safe to display."""
        return ScrapedDocument.from_text(self.raw)
