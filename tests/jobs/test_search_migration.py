"""Migration 0009 on a cache indexed the old way: every document is found again, and back."""

import json
import uuid
from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jobs.models import Document, Job
from jobs.search import apply_search, index_documents, unindexed_count

BEFORE = ("jobs", "0008_job_loop")


def migrate(target: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    return MigrationExecutor(connection)  # a fresh loader sees the new state


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_cache_indexed_before_0009_is_searchable_after_it_and_before_it_again() -> None:
    executor = migrate([BEFORE])
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="upgrader")
    job = old.get_model("jobs", "Job").objects.create(
        owner=user, api_url="http://x.test", api_version="v1", remote_id=uuid.uuid4()
    )
    for position, markdown in enumerate(["the hidden treasure", "Le café est fermé"]):
        raw = json.dumps({"markdown": markdown})
        old.get_model("jobs", "Document").objects.create(
            job=job, position=position, title=f"Page {position}", size=len(raw), raw=raw
        )
    with connection.cursor() as cursor:
        # Indexed as 0005 did: SQLite's triggers on the flag, PostgreSQL's expression.
        if connection.vendor == "postgresql":
            search = import_module("jobs.migrations.0005_deferred_search_index").POSTGRES_SEARCH
            cursor.execute(f"UPDATE jobs_document SET search = {search}, search_indexed = true")
        else:
            cursor.execute("UPDATE jobs_document SET search_indexed = true")
    try:
        migrate(latest())
        documents = Document.objects.filter(job=job.pk)
        assert unindexed_count(job.pk) == 2  # indexed anew, the new way
        assert index_documents(job.pk) == 2
        assert list(apply_search(documents, "treasure").values_list("position", flat=True)) == [0]
        assert list(apply_search(documents, "cafe").values_list("position", flat=True)) == [1]
        assert sorted(documents.values_list("title_key", flat=True)) == ["Page 0", "Page 1"]

        migrate([BEFORE])  # and back: 0005's index, every document waiting to be indexed
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM jobs_document WHERE NOT search_indexed")
            assert cursor.fetchone()[0] == 2
    finally:
        migrate(latest())
    assert Job.objects.filter(pk=job.pk).exists()
