"""Search through django.contrib.postgres, snippets on SQLite, and stored sort keys.

PostgreSQL: `search` becomes a SearchVectorField with a GinIndex, filled by jobs.search from the
words of each document (tokenised in Python, several times cheaper than PostgreSQL's parser),
so every document is indexed again. SQLite: the FTS5 table reads its text through a view
(external content) instead of holding none, so that snippet() can show where words matched;
it is rebuilt, and every document indexed again. Both: the browser's sort keys become stored
columns, indexed with the position and the id, so a sorted page deep in a job is an
index-only walk.
"""

from typing import Any

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import migrations, models

import jobs.models


class AddPostgresIndex(migrations.AddIndex):
    """AddIndex on PostgreSQL only; elsewhere the index is in the state but not the database."""

    def database_forwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, *args)

    def database_backwards(self, app_label: str, schema_editor: Any, *args: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, *args)


# SQLite. The indexed text of a row: the view's columns and the triggers' values must be the
# same expressions, because a contentless or external-content FTS5 table forgets a row only
# when told the exact values it indexed. json_valid: a row whose raw text is not JSON is still
# stored, only not searchable by its markdown.
def _values(row: str) -> str:
    return (
        f"{row}.id, {row}.title, {row}.url || ' ' || {row}.source_url, "
        f"substr(CASE WHEN json_valid({row}.raw) THEN json_extract({row}.raw, '$.markdown') END, "
        "1, 100000)"
    )


_INSERT_IF = (
    "INSERT INTO jobs_document_fts(rowid, title, url, body) "
    "SELECT {values} WHERE {row}.search_indexed;"
)
_DELETE_IF = (
    "INSERT INTO jobs_document_fts(jobs_document_fts, rowid, title, url, body) "
    "SELECT 'delete', {values} WHERE {row}.search_indexed;"
)


def _insert_if(row: str) -> str:
    return _INSERT_IF.format(values=_values(row), row=row)


def _delete_if(row: str) -> str:
    return _DELETE_IF.format(values=_values(row), row=row)


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS jobs_document_fts_update",
    "DROP TRIGGER IF EXISTS jobs_document_fts_delete",
    "DROP TRIGGER IF EXISTS jobs_document_fts_insert",
    "DROP TABLE IF EXISTS jobs_document_fts",
    "DROP VIEW IF EXISTS jobs_document_search_text",
]
SQLITE_CREATE = [
    # What the index holds, row for row: snippet() reads a matched row's text here.
    # Constant SQL: nothing here comes from input.
    "CREATE VIEW jobs_document_search_text(id, title, url, body) AS SELECT "  # noqa: S608
    + _values("jobs_document")
    + " FROM jobs_document WHERE jobs_document.search_indexed",
    "CREATE VIRTUAL TABLE jobs_document_fts USING fts5(title, url, body, "
    "content='jobs_document_search_text', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    # Rarely used (the sync inserts unindexed rows): keeps a row inserted already marked honest.
    "CREATE TRIGGER jobs_document_fts_insert AFTER INSERT ON jobs_document "
    "WHEN new.search_indexed BEGIN " + _insert_if("new") + " END",
    "CREATE TRIGGER jobs_document_fts_delete AFTER DELETE ON jobs_document "
    "WHEN old.search_indexed BEGIN " + _delete_if("old") + " END",
    # Setting the flag is what indexes a row (and clearing it un-indexes it).
    "CREATE TRIGGER jobs_document_fts_update "
    "AFTER UPDATE OF title, url, source_url, raw, search_indexed ON jobs_document BEGIN "
    + _delete_if("old")
    + " "
    + _insert_if("new")
    + " END",
]
# 0005's contentless table, for migrating backwards (it indexes rows as their flag is set).
SQLITE_OLD = [
    "CREATE VIRTUAL TABLE jobs_document_fts USING fts5(title, url, body, content='', "
    "tokenize='unicode61 remove_diacritics 2', prefix='2 3')",
    *SQLITE_CREATE[2:],
]

# PostgreSQL: what 0003 and 0005 made by hand, replaced by the field and index below.
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS jobs_document_search",
    "ALTER TABLE jobs_document DROP COLUMN IF EXISTS search",
]
POSTGRES_OLD = [
    "ALTER TABLE jobs_document ADD COLUMN search tsvector",
    "CREATE INDEX jobs_document_search ON jobs_document USING gin (search)",
]
# The markdown of a document's JSON, bounded as search is, or NULL when PostgreSQL's parser
# refuses the text (NaN, a lone surrogate escape): search snippets (ts_headline) read it, and
# one such document must not fail a page. Kept from 0003, which made it.
POSTGRES_MARKDOWN = [
    "CREATE OR REPLACE FUNCTION jobs_document_markdown(raw text) RETURNS text "
    "LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$ BEGIN "
    "RETURN left(raw::jsonb ->> 'markdown', 100000); "
    "EXCEPTION WHEN others THEN RETURN NULL; END $$",
]


def _execute(schema_editor: Any, statements: dict[str, list[str]]) -> None:
    for sql in statements.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql, params=None)


def _unindex_all(apps: Any, schema_editor: Any) -> None:
    # Run while no trigger watches the flag: the indexer then indexes every document anew.
    apps.get_model("jobs", "Document").objects.update(search_indexed=False)


def drop_old_search(apps: Any, schema_editor: Any) -> None:
    _execute(schema_editor, {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP})


def restore_old_search(apps: Any, schema_editor: Any) -> None:
    _unindex_all(apps, schema_editor)
    _execute(schema_editor, {"sqlite": SQLITE_OLD, "postgresql": POSTGRES_OLD})


def create_search(apps: Any, schema_editor: Any) -> None:
    # After the sort keys: adding a stored column rebuilds SQLite's table, and its triggers.
    _execute(schema_editor, {"sqlite": SQLITE_DROP})
    _unindex_all(apps, schema_editor)
    _execute(schema_editor, {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_MARKDOWN})


def drop_search(apps: Any, schema_editor: Any) -> None:
    _execute(schema_editor, {"sqlite": SQLITE_DROP})


class Migration(migrations.Migration):
    dependencies = [("jobs", "0008_job_loop")]

    operations = [
        migrations.RunPython(drop_old_search, restore_old_search),
        migrations.AddField(
            model_name="document",
            name="search",
            field=SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="document",
            name="title_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=jobs.models.SortPrefix("title"),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="document",
            name="url_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=jobs.models.SortPrefix("url"),
                output_field=models.TextField(),
            ),
        ),
        migrations.RemoveIndex(model_name="document", name="document_status_sort"),
        migrations.RemoveIndex(model_name="document", name="document_url_sort"),
        migrations.RemoveIndex(model_name="document", name="document_title_sort"),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["job", "status_code", "position", "id"], name="document_status_sort"
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["job", "url_key", "position", "id"], name="document_url_sort"
            ),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                fields=["job", "title_key", "position", "id"], name="document_title_sort"
            ),
        ),
        AddPostgresIndex(
            model_name="document",
            index=GinIndex(fields=["search"], name="document_search"),
        ),
        migrations.RunPython(create_search, drop_search),
    ]
