"""The migration that made progress count failures, on a database made before it: failed URLs
already stored are told apart (cancelled or failed) and get their natural sort key, and each
job's counts follow."""

import uuid
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jobs.models import FailedUrl, Job

BEFORE = [("jobs", "0015_job_notification_fields")]
CANCELLED = "Parent crawl/batch scrape was cancelled"


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    MigrationExecutor(connection).migrate(targets)
    return MigrationExecutor(connection)


def latest() -> list[tuple[str, str]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_stored_failed_urls_are_told_apart_and_counted_again() -> None:
    executor = migrate(BEFORE)
    nodes = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "jobs"]
    old: Any = executor.loader.project_state([*nodes, *BEFORE]).apps
    owner = old.get_model("auth", "User").objects.create(username="upgrader")
    job = old.get_model("jobs", "Job").objects.create(
        owner=owner,
        api_url="https://api.firecrawl.dev",
        api_version="v2",
        remote_id=uuid.uuid4(),
        status="cancelled",
        failed_count=4,
        failed_stored=4,
    )
    rows = [
        ("https://example.test/page/105", "", CANCELLED),
        ("https://example.test/page/14", "", CANCELLED),
        ("https://example.test/page/3", "", CANCELLED),
        ("https://example.test/page/9", "SCRAPE_TIMEOUT", "Timed out"),
    ]
    for n, (url, code, error) in enumerate(rows):
        old.get_model("jobs", "FailedUrl").objects.create(
            job=job, url=url, code=code, error=error, fingerprint=f"{n}" * 64
        )
    try:
        migrate(latest())
        migrated = Job.objects.get(pk=job.pk)
        counts = (migrated.failed_count, migrated.failed_stored, migrated.cancelled_count)
        assert counts == (1, 1, 3)
        cancelled = FailedUrl.objects.filter(job=migrated, cancelled=True).order_by("sort_key")
        assert [row.url.rsplit("/", 1)[1] for row in cancelled] == ["3", "14", "105"]
        assert not FailedUrl.objects.get(job=migrated, code="SCRAPE_TIMEOUT").cancelled
    finally:
        migrate(latest())
