"""Full-text search over documents, kept in sync by the database itself.

Documents are written by the sync with bulk_create(ignore_conflicts=True) and deleted by a
database cascade, so no Python code path sees every change: triggers (SQLite) and a generated
column (PostgreSQL) do. Only a bounded prefix of the markdown is indexed.
"""

from typing import Any

from django.db import migrations

# Both branches index the first 100,000 characters of the markdown: PostgreSQL's tsvector stops
# at 1 MB, and the start of a page is what people search for.
# The indexed text of a row; NEW/OLD/jobs_document are substituted below. json_valid guards the
# sync: a row whose raw text is not JSON is still stored, just not searchable by its markdown.
SQLITE_ROW = (
    "ROW.id, ROW.title, ROW.url || ' ' || ROW.source_url, substr(CASE WHEN json_valid(ROW.raw) "
    "THEN json_extract(ROW.raw, '$.markdown') END, 1, 100000)"
)
SQLITE_INSERT = "INSERT INTO jobs_document_fts(rowid, title, url, body) VALUES (ROW_VALUES);"
# A contentless table forgets a row only when given the exact values it indexed.
SQLITE_DELETE = (
    "INSERT INTO jobs_document_fts(jobs_document_fts, rowid, title, url, body) "
    "VALUES ('delete', ROW_VALUES);"
)


def _for(statement: str, row: str) -> str:
    return statement.replace("ROW_VALUES", SQLITE_ROW).replace("ROW.", row + ".")


SQLITE_FORWARD = [
    # Contentless: the text lives in jobs_document already; the index only maps words to ids.
    "CREATE VIRTUAL TABLE jobs_document_fts USING fts5(title, url, body, content='', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    "CREATE TRIGGER jobs_document_fts_insert AFTER INSERT ON jobs_document BEGIN "
    + _for(SQLITE_INSERT, "new")
    + " END",
    "CREATE TRIGGER jobs_document_fts_delete AFTER DELETE ON jobs_document BEGIN "
    + _for(SQLITE_DELETE, "old")
    + " END",
    "CREATE TRIGGER jobs_document_fts_update AFTER UPDATE OF title, url, source_url, raw "
    "ON jobs_document BEGIN "
    + _for(SQLITE_DELETE, "old")
    + " "
    + _for(SQLITE_INSERT, "new")
    + " END",
    # Documents cached before this migration (constant SQL: nothing here comes from input).
    _for(
        "INSERT INTO jobs_document_fts(rowid, title, url, body) "
        "SELECT ROW_VALUES FROM jobs_document",
        "jobs_document",
    ),
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS jobs_document_fts_update",
    "DROP TRIGGER IF EXISTS jobs_document_fts_delete",
    "DROP TRIGGER IF EXISTS jobs_document_fts_insert",
    "DROP TABLE IF EXISTS jobs_document_fts",
]

POSTGRES_FORWARD = [
    # A function so the generated column survives a document whose raw text is not JSON.
    "CREATE FUNCTION jobs_document_markdown(raw text) RETURNS text "
    "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN "
    "RETURN left(raw::jsonb ->> 'markdown', 100000); "
    "EXCEPTION WHEN others THEN RETURN NULL; END $$",
    # Punctuation becomes spaces first, as in SQLite's tokenizer: PostgreSQL's parser would
    # otherwise keep "shop.test/contact-form" as one URL token, and "contact" would not match.
    "ALTER TABLE jobs_document ADD COLUMN search tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple'::regconfig, regexp_replace(coalesce(title, '') || ' ' || "
    "coalesce(url, '') || ' ' || coalesce(source_url, '') || ' ' || "
    "coalesce(jobs_document_markdown(raw), ''), '[[:punct:]]+', ' ', 'g'))) STORED",
    "CREATE INDEX jobs_document_search ON jobs_document USING gin (search)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS jobs_document_search",
    "ALTER TABLE jobs_document DROP COLUMN IF EXISTS search",
    "DROP FUNCTION IF EXISTS jobs_document_markdown(text)",
]


def _run(statements: dict[str, list[str]], schema_editor: Any) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def forward(apps: Any, schema_editor: Any) -> None:
    _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}, schema_editor)


def backward(apps: Any, schema_editor: Any) -> None:
    _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_document_sort_indexes")]

    operations = [migrations.RunPython(forward, backward)]
