"""PostgreSQL compresses each document's JSON with lz4 instead of the default pglz.

Every cached document is stored once and read rarely, and its JSON (tens of kilobytes) always
goes to TOAST. pglz compresses several times slower than lz4 for a similar size, and that was
most of PostgreSQL's time in storing a page of documents. Servers built without lz4 keep pglz.
Only rows written from now on are affected; older rows are still read as they are.
"""

from typing import Any

from django.db import migrations

FORWARD = """
DO $$
BEGIN
    ALTER TABLE jobs_document ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this server has no lz4: documents stay compressed with pglz';
END
$$;
"""
BACKWARD = "ALTER TABLE jobs_document ALTER COLUMN raw SET COMPRESSION DEFAULT"


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0005_deferred_search_index")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
