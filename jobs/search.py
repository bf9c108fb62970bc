"""Full-text search over a job's documents (title, URLs and markdown), on SQLite or PostgreSQL.

Documents are indexed after they are cached, by index_documents in a task (migrations 0003 and
0005), so a new document matches a few seconds after it appears. User text never reaches the
query syntax: it is cut into word tokens, each quoted, all of them required, the last one
matched as a prefix so results appear while typing.
"""

import re
from importlib import import_module

from django.db import connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL

from jobs.models import Document

# Enough words for any real query; bounds the work a crafted one can ask for.
MAX_TOKENS = 16
_TOKEN = re.compile(r"\w+", re.UNICODE)

# The next batch of a job's documents to index, in position order: written as the condition of
# the partial index document_unindexed, which SQLite matches only in this very form.
_PENDING = (
    "SELECT id FROM jobs_document WHERE job_id = %s AND search_indexed = _FALSE_ "
    "ORDER BY position LIMIT %s"
)
_POSTGRES_SEARCH = import_module("jobs.migrations.0005_deferred_search_index").POSTGRES_SEARCH
# Constant SQL: only the job and the batch size are parameters.
_INDEX_BATCH = {
    # Setting the flag is what feeds the FTS table: 0005's update trigger does the insert.
    "sqlite": "UPDATE jobs_document SET search_indexed = 1 WHERE id IN (_PENDING)".replace(
        "_PENDING", _PENDING
    ).replace("_FALSE_", "0"),
    # The tsvector expression 0005 backfilled with. SKIP LOCKED: two indexers of one job share
    # the work instead of waiting on each other.
    "postgresql": (
        "UPDATE jobs_document SET search = _SEARCH_, search_indexed = true "
        "WHERE id IN (_PENDING FOR UPDATE SKIP LOCKED)"
    )
    .replace("_PENDING", _PENDING)
    .replace("_FALSE_", "false")
    .replace("_SEARCH_", _POSTGRES_SEARCH),
}


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


def index_documents(job_pk: int, batch: int = 500) -> int:
    """Index the job's documents that are not yet searchable; returns how many it indexed.

    Each batch commits on its own, so a crash loses at most one batch of work and a rerun
    carries on where it stopped; indexed documents are never indexed twice.
    """
    indexed = 0
    while True:
        with transaction.atomic():
            if connection.vendor in _INDEX_BATCH:
                with connection.cursor() as cursor:
                    cursor.execute(_INDEX_BATCH[connection.vendor], [job_pk, batch])
                    done = cursor.rowcount
            else:
                pending = Document.objects.filter(job=job_pk, search_indexed=False)
                ids = pending.order_by("position").values("pk")[:batch]
                done = Document.objects.filter(pk__in=list(ids)).update(search_indexed=True)
        indexed += done
        if done < batch:
            return indexed


def unindexed_count(job_pk: int) -> int:
    """Documents of the job that a search cannot find yet."""
    return Document.objects.filter(job=job_pk, search_indexed=False).count()


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
        # `search` stays unqualified: the list's deferred join makes this queryset a subquery,
        # where Django renames the table U0 (and `jobs_document.search` is the outer row).
        matches = RawSQL("search @@ to_tsquery('simple', %s)", [tsquery(tokens)], BooleanField())
        return documents.filter(matches)
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
