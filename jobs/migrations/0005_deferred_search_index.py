"""Full-text indexing leaves the document INSERT: a task indexes new documents afterwards.

A document is in the index exactly when its `search_indexed` flag is set. On SQLite, triggers
keep that true whatever sets the flag: a contentless FTS5 table must be told to forget only rows
it really holds, with the exact values it indexed, or it is corrupted. On PostgreSQL, `search`
becomes a plain column that the indexer fills (jobs.search.index_documents).
"""

from importlib import import_module
from typing import Any

from django.db import migrations, models

# The row expressions and statements of 0003: the index must be told to forget exactly what it
# was given, so there is one definition of both.
_0003 = import_module("jobs.migrations.0003_document_search")
_for = _0003._for

# A statement that runs for the row only when `flag` holds (trigger bodies have no per-statement
# WHEN, but a SELECT without FROM can carry a WHERE).
SQLITE_DELETE_IF = (
    "INSERT INTO jobs_document_fts(jobs_document_fts, rowid, title, url, body) "
    "SELECT 'delete', ROW_VALUES WHERE ROW.search_indexed;"
)
SQLITE_INSERT_IF = (
    "INSERT INTO jobs_document_fts(rowid, title, url, body) "
    "SELECT ROW_VALUES WHERE ROW.search_indexed;"
)
SQLITE_DROP_TRIGGERS = [
    "DROP TRIGGER IF EXISTS jobs_document_fts_update",
    "DROP TRIGGER IF EXISTS jobs_document_fts_delete",
    "DROP TRIGGER IF EXISTS jobs_document_fts_insert",
]
SQLITE_FORWARD = [
    *SQLITE_DROP_TRIGGERS,
    # Every document already cached was indexed by 0003's insert trigger (before the triggers
    # below exist, so this does not index them a second time).
    "UPDATE jobs_document SET search_indexed = 1",
    # Rarely used (the sync inserts unindexed rows): keeps a row inserted already marked honest.
    "CREATE TRIGGER jobs_document_fts_insert AFTER INSERT ON jobs_document "
    "WHEN new.search_indexed BEGIN " + _for(_0003.SQLITE_INSERT, "new") + " END",
    "CREATE TRIGGER jobs_document_fts_delete AFTER DELETE ON jobs_document "
    "WHEN old.search_indexed BEGIN " + _for(_0003.SQLITE_DELETE, "old") + " END",
    # Setting the flag is what indexes a row (and clearing it un-indexes it).
    "CREATE TRIGGER jobs_document_fts_update "
    "AFTER UPDATE OF title, url, source_url, raw, search_indexed ON jobs_document BEGIN "
    + _for(SQLITE_DELETE_IF, "old")
    + " "
    + _for(SQLITE_INSERT_IF, "new")
    + " END",
]
SQLITE_BACKWARD = [
    *SQLITE_DROP_TRIGGERS,
    # 0003 indexes every row: the ones still waiting are indexed now.
    _for(
        "INSERT INTO jobs_document_fts(rowid, title, url, body) "
        "SELECT ROW_VALUES FROM jobs_document WHERE NOT search_indexed",
        "jobs_document",
    ),
]
# 0003's triggers, restored after search_indexed is removed (SQLite may rebuild the table to
# remove a column, and a rebuild drops the table's triggers).
SQLITE_RESTORE_0003 = [stmt for stmt in _0003.SQLITE_FORWARD if stmt.startswith("CREATE TRIGGER")]

# 0003's generated expression, now computed by the indexer.
POSTGRES_SEARCH = (
    "to_tsvector('simple'::regconfig, regexp_replace(coalesce(title, '') || ' ' || "
    "coalesce(url, '') || ' ' || coalesce(source_url, '') || ' ' || "
    "coalesce(jobs_document_markdown(raw), ''), '[[:punct:]]+', ' ', 'g'))"
)
POSTGRES_FORWARD = [
    "DROP INDEX IF EXISTS jobs_document_search",
    "ALTER TABLE jobs_document DROP COLUMN IF EXISTS search",
    "ALTER TABLE jobs_document ADD COLUMN search tsvector",
    "UPDATE jobs_document SET search = _SEARCH_, search_indexed = true".replace(
        "_SEARCH_", POSTGRES_SEARCH
    ),
    "CREATE INDEX jobs_document_search ON jobs_document USING gin (search)",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS jobs_document_search",
    "ALTER TABLE jobs_document DROP COLUMN IF EXISTS search",
    f"ALTER TABLE jobs_document ADD COLUMN search tsvector GENERATED ALWAYS AS ({POSTGRES_SEARCH}) "
    "STORED",
    "CREATE INDEX jobs_document_search ON jobs_document USING gin (search)",
]


def forward(apps: Any, schema_editor: Any) -> None:
    _0003._run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}, schema_editor)


def backward(apps: Any, schema_editor: Any) -> None:
    _0003._run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}, schema_editor)


def restore_0003_triggers(apps: Any, schema_editor: Any) -> None:
    _0003._run({"sqlite": SQLITE_RESTORE_0003}, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_document_error_index")]

    operations = [
        # Runs last when migrating backwards, once the column is gone.
        migrations.RunPython(migrations.RunPython.noop, restore_0003_triggers),
        migrations.AddField(
            model_name="document",
            name="search_indexed",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="job",
            name="index_queued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="document",
            index=models.Index(
                condition=models.Q(("search_indexed", False)),
                fields=["job", "position"],
                name="document_unindexed",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
