"""How a document becomes searchable: its words, and the statements that index documents.

A page's documents are indexed in the transaction that stores them (Job.apply_page), so a
document is searchable the moment it is cached and a crash can never leave one cached but
unfindable; jobs.search.index_documents indexes what was stored otherwise (documents cached
before this, a database restored from an old dump) from the `search_indexed` flag.

SQLite indexes with FTS5: a document inserted with its flag set is indexed by the insert trigger
(migration 0009), which reads the markdown from the row's JSON in C. PostgreSQL keeps a tsvector
per document (`Document.search`), made from the document's distinct words: splitting the
markdown into words in Python and handing PostgreSQL only the distinct ones costs a fraction of
its own parser over the whole text (measured in docs/PERFORMANCE.md). The sync's page reader
cuts a page's words while the page before is stored (jobs.prefetch), off the storing's path.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence

from django.db import connection

from firecrawl_api.text import MAX_TITLE, MAX_URL, cut
from firecrawl_api.wire import ScrapedDocument
from jobs.models.documents import Document

# Characters of each document's markdown that search looks at (titles and URLs are whole): the
# start of a page is what people search for, and PostgreSQL's tsvector stops at 1 MB.
INDEXED_CHARS = 100_000

TOKEN = re.compile(r"[^\W_]+")
# ASCII letters and digits lower-cased, other ASCII bytes become spaces, non-ASCII bytes are
# kept (the words holding them go through TOKEN): one C-speed pass over a document.
_ASCII_WORDS = bytes(c if c >= 0x80 or chr(c).isalnum() else 0x20 for c in range(256)).translate(
    bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
)


def fold(word: str) -> str:
    """Lower case without accents ("Fermé" -> "ferme"), as SQLite's tokenizer folds."""
    word = word.lower()
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def all_words(text: str) -> list[str]:
    """Every word of `text`, folded."""
    return [folded for token in TOKEN.findall(text) if (folded := fold(token))]


def document_words(texts: Iterable[str]) -> str:
    """The distinct words of `texts`, folded as all_words folds them, space-separated."""
    chunks: set[bytes] = set()
    for text in texts:
        if text:
            # "replace": a lone surrogate becomes "?", a separator.
            chunks.update(text.encode("utf-8", "replace").translate(_ASCII_WORDS).split())
    words: set[str] = set()
    for chunk in chunks:
        if chunk.isascii():
            words.add(chunk.decode("ascii"))
        else:
            words.update(all_words(chunk.decode("utf-8", "replace")))
    return " ".join(sorted(words))


def indexed_words(document: Document, markdown: str | None) -> str:
    """What search finds a document by: its title, URLs and the start of its markdown."""
    return _words(document.title, document.url, document.source_url, markdown)


def scraped_words(doc: ScrapedDocument) -> str:
    """`indexed_words` of the document that `Document.from_scraped` makes of `doc` (its title
    and URLs cut as that cuts them), read from `doc` itself: the page reader cuts them while
    the sync stores the page before (jobs.prefetch)."""
    title, url = cut(doc.title, MAX_TITLE), cut(doc.url, MAX_URL)
    return _words(title, url, cut(doc.source_url, MAX_URL), doc.markdown)


def _words(title: str, url: str, source_url: str, markdown: str | None) -> str:
    return document_words([title, url, source_url, (markdown or "")[:INDEXED_CHARS]])


def cuts_words() -> bool:
    """Whether this database's index is fed the words cut here (PostgreSQL), rather than by
    its insert trigger (SQLite)."""
    return connection.vendor == "postgresql"


def mark_for_index(documents: Sequence[Document]) -> None:
    """Before inserting new documents: on SQLite the insert itself indexes those marked."""
    if connection.vendor == "sqlite":
        for document in documents:
            document.search_indexed = True


def index_inserted(
    job_pk: int,
    documents: Sequence[Document],
    markdowns: Sequence[str | None],
    words: Sequence[str] | None = None,
) -> None:
    """After inserting `documents` (marked by mark_for_index, with their markdown in hand), in
    the same transaction: on PostgreSQL their vectors, in one statement, from `words` when they
    were cut already (`scraped_words`, in the page reader)."""
    if not cuts_words() or not documents:
        return
    positions = [document.position for document in documents]
    if words is None:
        pairs = zip(documents, markdowns, strict=True)
        words = [indexed_words(document, markdown) for document, markdown in pairs]
    with connection.cursor() as cursor:
        cursor.execute(_SET_VECTORS_AT, [positions, list(words), job_pk])


# The page's vectors in one statement, its rows found by their position (COPY returns no ids).
# The words go through the same configuration as the query (jobs.search.search_query):
# PostgreSQL's parser decides the lexemes on both sides, on text it reads in microseconds.
_SET_VECTORS_AT = (
    "UPDATE jobs_document SET search = to_tsvector('simple', batch.words), search_indexed = true "
    "FROM unnest(%s::integer[], %s::text[]) AS batch(position, words) "
    "WHERE jobs_document.job_id = %s AND jobs_document.position = batch.position"
)
