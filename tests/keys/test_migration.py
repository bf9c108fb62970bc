"""ApiKey's move to the keys app (keys 0001, jobs 0010) on a database made by the migrations before
it: every row of every table is found through the new models, and the admin's history and the
permissions granted on keys follow the model."""

import uuid
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from jobs.models import Document, FailedUrl, Job, ProgressSample, StartRequest
from keys.models import ApiKey

# Today's database: the jobs app at its last migration before the move, the keys app unknown.
JOBS_BEFORE = ("jobs", "0009_search_vectors_and_sort_keys")
BEFORE: list[tuple[str, str | None]] = [JOBS_BEFORE, ("keys", None)]
PLAIN_KEY = "fc-upgrade0000000000000000000000u9k3"


def migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh loader sees the new state


def latest() -> list[tuple[str, str | None]]:
    return list(MigrationExecutor(connection).loader.graph.leaf_nodes())


def state_before(executor: MigrationExecutor) -> Any:
    """The models of then: every other app as it is now, the jobs app before the move; apps that
    need a later jobs migration (notifications) did not exist then and are left out."""
    graph = executor.loader.graph
    moved = {node for node in graph.nodes if node[0] in ("jobs", "keys")}
    later = moved - set(graph.forwards_plan(JOBS_BEFORE))
    nodes = [
        node
        for node in graph.leaf_nodes()
        if node[0] not in ("jobs", "keys") and not later & set(graph.forwards_plan(node))
    ]
    return executor.loader.project_state([*nodes, JOBS_BEFORE]).apps


def make_old_rows(apps: Any) -> dict[str, Any]:
    """A row in every table the jobs app had before the move, made with its models of then."""
    owner = apps.get_model("auth", "User").objects.create(username="upgrader")
    key = apps.get_model("jobs", "ApiKey").objects.create(
        owner=owner, name="Main", key=PLAIN_KEY, key_hint="fc-…u9k3", is_default=True
    )
    job = apps.get_model("jobs", "Job").objects.create(
        owner=owner,
        api_key=key,
        api_url=key.api_url,
        api_version="v1",
        remote_id=uuid.uuid4(),
        label="Before the move",
    )
    document = apps.get_model("jobs", "Document").objects.create(
        job=job, position=0, title="Page 0", size=2, raw="{}"
    )
    failed = apps.get_model("jobs", "FailedUrl").objects.create(
        job=job, url="https://example.test/broken", code="TIMEOUT", fingerprint="f" * 64
    )
    sample = apps.get_model("jobs", "ProgressSample").objects.create(job=job, completed=1, total=2)
    start = apps.get_model("jobs", "StartRequest").objects.create(
        token=uuid.uuid4(), owner=owner, api_key=key, state="started", job=job
    )
    # Admin history of the key, and a permission on keys granted to someone: both hang on the
    # model's content type, which was the jobs app's then.
    key_type, _ = apps.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="jobs", model="apikey"
    )
    apps.get_model("admin", "LogEntry").objects.create(
        user=owner,
        content_type=key_type,
        object_id=str(key.pk),
        object_repr="Main",
        action_flag=CHANGE,
    )
    permission, _ = apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=key_type, codename="change_apikey", defaults={"name": "Can change api key"}
    )
    owner.user_permissions.add(permission)
    return {
        "owner": owner.pk,
        "key": key.pk,
        "job": job.pk,
        "document": document.pk,
        "failed": failed.pk,
        "sample": sample.pk,
        "start": start.pk,
        "key_type": key_type.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_made_before_the_move_keeps_every_row_and_finds_it_through_the_new_models() -> (
    None
):
    executor = migrate(BEFORE)
    old = state_before(executor)
    assert "apikey" in {model._meta.model_name for model in old.get_app_config("jobs").get_models()}
    rows = make_old_rows(old)
    try:
        migrate(latest())
        ContentType.objects.clear_cache()

        key = ApiKey.objects.get(pk=rows["key"])
        assert key.key == PLAIN_KEY  # decrypted through the field's new home
        assert (key.owner_id, key.name, key.is_default) == (rows["owner"], "Main", True)
        job = Job.objects.select_related("api_key").get(pk=rows["job"])
        assert job.api_key == key and job.label == "Before the move"
        assert list(key.jobs.values_list("pk", flat=True)) == [rows["job"]]
        assert Document.objects.get(pk=rows["document"]).job_id == job.pk
        assert FailedUrl.objects.get(pk=rows["failed"]).job_id == job.pk
        assert ProgressSample.objects.get(pk=rows["sample"]).job_id == job.pk
        start = StartRequest.objects.get(pk=rows["start"])
        assert (start.api_key_id, start.job_id) == (key.pk, job.pk)

        # The same content type row, now the keys app's: history and permissions follow it.
        key_type = ContentType.objects.get_for_model(ApiKey)
        assert (key_type.pk, key_type.app_label) == (rows["key_type"], "keys")
        assert not ContentType.objects.filter(app_label="jobs", model="apikey").exists()
        history = LogEntry.objects.get(object_id=str(key.pk))
        assert history.content_type_id == key_type.pk and history.get_edited_object() == key
        assert User.objects.get(pk=rows["owner"]).has_perm("keys.change_apikey")

        # And back: the jobs app owns the model and its content type again, rows untouched.
        old = state_before(migrate(BEFORE))
        old_key = old.get_model("jobs", "ApiKey").objects.get(pk=rows["key"])
        assert old_key.key == PLAIN_KEY
        assert old.get_model("jobs", "Job").objects.get(pk=rows["job"]).api_key_id == key.pk
        assert old.get_model("contenttypes", "ContentType").objects.get(
            pk=rows["key_type"]
        ).app_label == ("jobs")
    finally:
        migrate(latest())
        ContentType.objects.clear_cache()
    assert ApiKey.objects.filter(pk=rows["key"]).exists()
