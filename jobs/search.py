"""Full-text search over a job's documents (title, URLs and markdown), on SQLite or PostgreSQL.

Documents are indexed as they are cached, in the transaction that stores them
(jobs.models.search_index); index_documents, run by a task the scheduler queues, indexes
whatever was stored unindexed (documents cached before that, a restored dump), from the
`search_indexed` flag. SQLite indexes with FTS5 (its table and triggers live in the migrations:
setting `search_indexed` indexes a row); PostgreSQL with a tsvector per document
(`Document.search`) made from the document's distinct words.

User text never reaches a query syntax: it is cut into words, each quoted, all of them
required, the last one matched as a prefix so results appear while typing. Both databases cut
and fold text alike: letters and digits only, lower case, accents removed.
"""

import secrets
import time
from collections.abc import Iterable

from django.contrib.postgres.search import CombinedLexeme, Lexeme, SearchHeadline, SearchQuery
from django.db import connection, transaction
from django.db.models import F, Func, Q, QuerySet, TextField
from django.db.models.expressions import RawSQL

from firecrawl_api.text import MARK_END, MARK_START, clean_text
from jobs.models import Document
from jobs.models.search_index import TOKEN, fold, indexed_words

# Enough words for any real query; bounds the work a crafted one can ask for.
MAX_TOKENS = 16
# Snippets come back with each match between two private-use characters (jobs.templatetags
# renders them as <mark>). Document text may hold those characters too, so the database marks
# matches with markers made afresh for each search, which no document can contain; the text
# around them is cleaned (firecrawl_api.text.clean_text replaces any stray marker) before the
# fresh markers become the plain ones.
SNIPPET_WORDS = 24


def search_tokens(text: str) -> list[str]:
    """The words of a query: letters and digits only, so no operator or quote survives."""
    tokens = [fold(token) for token in TOKEN.findall(text)]
    return [token for token in tokens if token][:MAX_TOKENS]


def fts5_query(tokens: list[str]) -> str:
    # Tokens hold no double quote, but quoting is what makes AND/OR/NEAR/column: plain words.
    quoted = [f'"{token}"' for token in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


def search_query(tokens: list[str]) -> SearchQuery:
    """Every token required, the last as a prefix; Lexeme quotes each one."""
    query: Lexeme | CombinedLexeme = Lexeme(tokens[-1], prefix=True)
    for token in reversed(tokens[:-1]):
        query = Lexeme(token) & query
    return SearchQuery(query, config="simple")


# Indexing -----------------------------------------------------------------------------------


def index_documents(job_pk: int, batch: int = 200, *, seconds: float | None = None) -> int:
    """Index the job's documents that are not yet searchable, for about `seconds` at most (None:
    until none is left); returns how many it indexed.

    Each batch commits on its own, so a crash loses at most one batch of work and a rerun
    carries on where it stopped; indexed documents are never indexed twice. Indexers of one job
    running at once (several workers) share the batches instead of waiting on each other.
    """
    give_up_at = None if seconds is None else time.monotonic() + seconds
    indexed = 0
    while True:
        with transaction.atomic():
            pending = Document.objects.filter(job=job_pk, search_indexed=False)
            batch_ids = pending.order_by("position").values_list("pk", flat=True)[:batch]
            if connection.vendor == "postgresql":
                done = _index_postgres(batch_ids.select_for_update(skip_locked=True))
            else:
                # SQLite: setting the flag is what feeds FTS5 (a trigger does the insert).
                done = Document.objects.filter(pk__in=list(batch_ids)).update(search_indexed=True)
        indexed += done
        if done < batch or (give_up_at is not None and time.monotonic() > give_up_at):
            return indexed


def _index_postgres(batch_ids: QuerySet[Document, int]) -> int:
    documents = Document.objects.filter(pk__in=batch_ids).only("title", "url", "source_url", "raw")
    ids, words = [], []
    for document in documents:
        ids.append(document.pk)
        words.append(indexed_words(document, document.content.markdown))
    with connection.cursor() as cursor:
        cursor.execute(_SET_VECTORS, [ids, words])
        return int(cursor.rowcount)


# The batch's vectors in one statement (bulk_update's CASE of one SearchVector per row cost more
# than the tokenising). The words go through the same configuration as the query (SearchQuery):
# PostgreSQL's parser decides the lexemes on both sides, on text it reads in microseconds.
_SET_VECTORS = (
    "UPDATE jobs_document SET search = to_tsvector('simple', batch.words), search_indexed = true "
    "FROM unnest(%s::bigint[], %s::text[]) AS batch(id, words) WHERE jobs_document.id = batch.id"
)


def unindexed_count(job_pk: int) -> int:
    """Documents of the job that a search cannot find yet."""
    return Document.objects.filter(job=job_pk, search_indexed=False).count()


# Searching ----------------------------------------------------------------------------------


def apply_search[Documents: QuerySet[Document]](documents: Documents, text: str) -> Documents:
    """Documents whose title, URL or markdown contain every word of `text`.

    Text with no word in it (only punctuation) matches nothing rather than failing.
    """
    tokens = search_tokens(text)
    if not tokens:
        return documents.none()
    if connection.vendor == "postgresql":
        # A condition on the row itself, not `pk IN (every match in the table, of any job)`: the
        # planner can then stop at a LIMIT (the page, the capped COUNT) instead of a self-join.
        return documents.filter(search=search_query(tokens))
    if connection.vendor == "sqlite":
        return documents.filter(
            pk__in=RawSQL(
                "SELECT rowid FROM jobs_document_fts WHERE jobs_document_fts MATCH %s",
                [fts5_query(tokens)],
            )
        )
    # Other databases have no index here: a scan of titles and URLs (not markdown, which is
    # only inside `raw`) answers, more slowly.
    for token in tokens:
        documents = documents.filter(Q(title__icontains=token) | Q(url__icontains=token))
    return documents


# FTS5's snippet() of the body column, for the given rows only: cost bounded by the page.
_FTS_SNIPPETS = (
    "SELECT rowid, CAST(snippet(jobs_document_fts, 2, %s, %s, '…', %s) AS BLOB) "
    "FROM jobs_document_fts "
    "WHERE jobs_document_fts MATCH %s AND rowid IN ({ids})"
)


def snippets(documents: Iterable[Document], text: str) -> dict[int, str]:
    """Where the words of `text` matched in each document's markdown, by document id: plain
    text with MARK_START/MARK_END around each match (jobs.templatetags renders it escaped)."""
    tokens = search_tokens(text)
    ids = [document.pk for document in documents]
    if not tokens or not ids:
        return {}
    nonce = secrets.token_hex(8)
    start, end = f"{MARK_START}{nonce}{MARK_START}", f"{MARK_END}{nonce}{MARK_END}"
    if connection.vendor == "sqlite":
        # Only ids (integers from our own rows) are formatted in; the query is a parameter.
        sql = _FTS_SNIPPETS.format(ids=", ".join(str(int(pk)) for pk in ids))
        # snippet() looks each row up in the query's doclists: a prefix the FTS5 table has no
        # prefix index for (longer than 3 characters) is merged again for every row, a cost
        # that grows with the matches (docs/PERFORMANCE.md). There the last word is
        # highlighted as a whole word: once typed in full, as the search results already are.
        last = tokens[-1]
        query = fts5_query(tokens) if len(last) <= 3 else fts5_query(tokens).removesuffix("*")
        with connection.cursor() as cursor:
            cursor.execute(sql, [start, end, SNIPPET_WORDS, query])
            # Bytes, decoded here: json_extract turns a lone "\\ud800" escape into bytes that
            # are not UTF-8, which the driver would refuse to decode.
            return {
                pk: _marked(snippet.decode("utf-8", "replace"), start, end)
                for pk, snippet in cursor.fetchall()
                if snippet
            }
    if connection.vendor == "postgresql":
        headline = SearchHeadline(
            # The markdown, bounded as the index is; NULL for a document PostgreSQL cannot
            # parse (JSON with NaN, which Python reads): a function of migration 0009.
            Func(F("raw"), function="jobs_document_markdown", output_field=TextField()),
            search_query(tokens),
            config="simple",
            start_sel=start,
            stop_sel=end,
            max_words=SNIPPET_WORDS,
            min_words=SNIPPET_WORDS // 2,
            max_fragments=2,
            fragment_delimiter=" … ",
        )
        found = Document.objects.filter(pk__in=ids).values_list("pk", headline)
        return {
            pk: _marked(snippet, start, end)
            for pk, snippet in found
            if snippet and start in snippet
        }
    return {}


def _marked(snippet: str, start: str, end: str) -> str:
    """The database's snippet, cleaned, with only its own fresh markers as MARK_START/MARK_END."""
    return MARK_START.join(
        MARK_END.join(clean_text(text) for text in piece.split(end))
        for piece in snippet.split(start)
    )
