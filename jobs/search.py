"""Full-text search over a job's documents (title, URLs and markdown), on SQLite or PostgreSQL.

The index is maintained by the database (see migration 0003). User text never reaches the
query syntax: it is cut into word tokens, each quoted, all of them required, the last one
matched as a prefix so results appear while typing.
"""

import re

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from jobs.models import Document

# Enough words for any real query; bounds the work a crafted one can ask for.
MAX_TOKENS = 16
_TOKEN = re.compile(r"\w+", re.UNICODE)


def search_tokens(text: str) -> list[str]:
    """The words of a query: letters and digits only, so no operator or quote survives."""
    return [token.lower() for token in _TOKEN.findall(text)][:MAX_TOKENS]


def fts5_query(tokens: list[str]) -> str:
    # \w+ tokens hold no double quote, but quoting is what makes AND/OR/NEAR/column: plain words.
    quoted = [f'"{token}"' for token in tokens]
    quoted[-1] += "*"
    return " ".join(quoted)


def tsquery(tokens: list[str]) -> str:
    # 'simple' config: tokens are matched as written (lower-cased), in any language.
    parts = [f"'{token}'" for token in tokens]
    parts[-1] += ":*"
    return " & ".join(parts)


def apply_search(documents: QuerySet[Document], text: str) -> QuerySet[Document]:
    """Documents whose title, URL or markdown contain every word of `text`.

    Text with no word in it (only punctuation) matches nothing rather than failing.
    """
    tokens = search_tokens(text)
    if not tokens:
        return documents.none()
    if connection.vendor == "postgresql":
        return documents.filter(
            pk__in=RawSQL(
                "SELECT id FROM jobs_document WHERE search @@ to_tsquery('simple', %s)",
                [tsquery(tokens)],
            )
        )
    if connection.vendor == "sqlite":
        return documents.filter(
            pk__in=RawSQL(
                "SELECT rowid FROM jobs_document_fts WHERE jobs_document_fts MATCH %s",
                [fts5_query(tokens)],
            )
        )
    # Other databases have no index here: a scan still answers correctly, only slower.
    for token in tokens:
        documents = documents.filter(Q(title__icontains=token) | Q(url__icontains=token))
    return documents
