"""Insert many new rows at once, the fastest way each database offers.

A page of documents is up to 10 MB of text, and storing it is most of a sync's time.
bulk_create compiles one INSERT holding every value of the page; on PostgreSQL that statement
carries the text as array literals that the server must scan and unescape. Instead, PostgreSQL
gets a binary COPY, which streams the rows as they are, and SQLite one prepared INSERT run for
each row (executemany). Other databases get bulk_create. The ingest benchmark measures the
difference (docs/PERFORMANCE.md).
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model

# Rows written per statement and per transaction when many are (jobs tracked at once, failed
# URLs): short transactions, so no other user's write waits behind them, and never an `IN`
# list longer than this (ids from upstream are asked this many at a time).
BATCH = 500


def insert_new(objs: Sequence[Model]) -> None:
    """Insert `objs`, all of one model; rows that clash with stored ones are left out.

    The objects get no primary key back. Clashes are rare (a sync that lost its lease to
    another), so COPY, which cannot skip a row, runs in a savepoint, and when one happens the
    rows go through an INSERT that skips them instead.
    """
    if not objs:
        return
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                _copy(objs)
            return
        except IntegrityError:
            pass
    if connection.vendor == "sqlite":
        _insert_or_ignore(objs)
        return
    type(objs[0])._default_manager.bulk_create(objs, ignore_conflicts=True, batch_size=200)


def _columns(objs: Sequence[Model]) -> tuple[str, list[Field[Any, Any]], str]:
    """The table, the fields an INSERT sets and their column list: not the primary key, nor what
    the database computes, nor a nullable field no form sets (the search vector, filled later
    by the indexer: NULL is its default, and COPY would need a binary encoder for its type)."""
    meta = objs[0]._meta
    fields = [
        field
        for field in meta.concrete_fields
        if not field.generated and field != meta.pk and (field.editable or not field.null)
    ]
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    return connection.ops.quote_name(meta.db_table), fields, columns


def _rows(objs: Sequence[Model], fields: list[Field[Any, Any]]) -> Iterator[list[Any]]:
    # The values bulk_create would send: each field's own conversion for this database.
    for obj in objs:
        yield [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields]


def _insert_or_ignore(objs: Sequence[Model]) -> None:
    # One prepared statement for every row, where bulk_create compiles a statement holding
    # all of the page's values (measured: docs/PERFORMANCE.md).
    table, fields, columns = _columns(objs)
    placeholders = ", ".join(["%s"] * len(fields))
    # Only quoted identifiers of the model are formatted in; every value is a parameter.
    statement = f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, list(_rows(objs, fields)))


def _copy(objs: Sequence[Model]) -> None:
    table, fields, columns = _columns(objs)
    # The binary format: text goes as it is, where the text format escapes every row.
    statement = f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)"
    types = [str(field.db_type(connection)).partition("(")[0] for field in fields]
    # wrap_database_errors: a clash is Django's IntegrityError, as with any query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(statement) as copy,
    ):
        copy.set_types(types)
        for row in _rows(objs, fields):
            copy.write_row(row)
