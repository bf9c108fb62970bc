"""Screenshots kept before Firecrawl's copies expire (jobs.screenshots), against the sim's
storage host, each test once with FILE_STORAGE=filesystem and once with S3 (a real SeaweedFS):
kept and served after upstream forgot them, data: URIs, hostile answers, owners, deletion."""

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from django.core.files.storage import storages
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fakecrawl import FakeFirecrawl, Fault
from firecrawl_api.wire import ScrapedDocument
from jobs import screenshots
from jobs.models import Job, Screenshot
from jobs.models.screenshots import MAX_ATTEMPTS, MAX_PER_DOCUMENT
from jobs.sync import sync_job
from jobs.tasks import (
    delete_screenshots_task,
    enqueue_due_screenshots,
    fetch_screenshots_task,
    request_file_deletion,
    request_screenshots,
    sync_job_task,
)
from keys.models import ApiKey
from tests.conftest import ALICE_KEY, make_job

SHOTS = ("markdown", "screenshot")
ACTIONS = [{"type": "screenshot"}, {"type": "wait", "milliseconds": 100}, {"type": "screenshot"}]
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
IMMEDIATE_TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def clean_simulator(sim: FakeFirecrawl, settings: Any) -> Iterator[None]:
    settings.FIRECRAWL_RETRY_BACKOFF = 0.001
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000
    yield
    sim.clear_faults()
    sim.screenshots = "storage"


def cached_job(key: ApiKey, sim: FakeFirecrawl, n: int = 2, **options: Any) -> Job:
    """A completed batch with screenshots, every document cached by a sync."""
    options.setdefault("formats", SHOTS)
    remote_id = sim.create_batch(key.key, n=n, state="completed", **options)
    job = make_job(key, remote_id, kind=Job.Kind.BATCH)
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == n
    return job


def upstream_images(sim: FakeFirecrawl, job: Job) -> dict[tuple[int, int], bytes]:
    """Each screenshot's bytes as Firecrawl's storage serves them now, by (position, shot)."""
    images = {}
    for position, doc in enumerate(sim.job(str(job.remote_id)).documents):
        own = [(0, doc["screenshot"])] if "screenshot" in doc else []
        taken = enumerate(doc.get("actions", {}).get("screenshots", []), start=1)
        for shot, url in [*own, *taken]:
            response = requests.get(url, timeout=10)
            assert response.status_code == 200
            images[position, shot] = response.content
    return images


def stored_files() -> list[str]:
    """Every file in the default storage's screenshots/ folder."""
    storage = storages["default"]
    try:
        folders, _ = storage.listdir("screenshots")
    except FileNotFoundError:  # the filesystem's folder before the first file
        return []
    return sorted(
        f"screenshots/{folder}/{name}"
        for folder in folders
        for name in storage.listdir(f"screenshots/{folder}")[1]
    )


def queued(task: Any) -> list[Any]:
    """The first argument of each queued run of `task` (the database backend's rows)."""
    rows = DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at")
    return [row.args_kwargs["args"][0] for row in rows]


def body(response: Any) -> bytes:
    """A streamed response's bytes (a file or a zip)."""
    return b"".join(response.streaming_content)


def fetch_all(key: ApiKey) -> None:
    screenshots.fetch_due(key.pk, seconds=60)


def states(job: Job) -> list[tuple[int, int, str]]:
    return list(
        Screenshot.objects.filter(job=job)
        .order_by("position", "shot")
        .values_list("position", "shot", "state")
    )


def test_the_sync_makes_a_pending_row_per_screenshot_with_the_documents(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=3, actions=ACTIONS)

    # Each document: its own screenshot (0) and its two actions' (1, 2).
    assert states(job) == [(p, s, "pending") for p in range(3) for s in range(3)]
    sources = Screenshot.objects.filter(job=job).values_list("source", flat=True)
    assert all(source.startswith(sim.storage_url) for source in sources)


def test_a_page_and_its_screenshot_rows_are_stored_together_or_not_at_all(
    key: ApiKey, sim: FakeFirecrawl, monkeypatch: Any
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=3, state="completed", formats=SHOTS)
    job = make_job(key, remote_id, kind=Job.Kind.BATCH)
    rows_for = Screenshot.rows_for

    def fails(*args: Any) -> Any:
        raise OSError("the database went away mid-page")

    monkeypatch.setattr(Screenshot, "rows_for", fails)
    sync_job(job.pk)
    job.refresh_from_db()
    assert (job.documents.count(), job.next_skip) == (0, 0)
    assert not Screenshot.objects.filter(job=job).exists()

    monkeypatch.setattr(Screenshot, "rows_for", rows_for)
    Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
    sync_job(job.pk)
    assert job.documents.count() == 3
    assert states(job) == [(p, 0, "pending") for p in range(3)]


def test_screenshots_are_kept_and_served_after_the_storage_host_stops_serving_them(
    file_storage: str, key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=2, actions=ACTIONS[:1])
    upstream = upstream_images(sim, job)

    fetch_all(key)
    sim.expire(str(job.remote_id))

    assert states(job) == [(p, s, "kept") for p in range(2) for s in range(2)]
    assert requests.get(Screenshot.objects.filter(job=job)[0].source, timeout=10).status_code == 400
    for (position, shot), image in upstream.items():
        response = alice_client.get(f"/jobs/{job.pk}/documents/{position}/screenshots/{shot}/")
        assert response.status_code == 200
        assert body(response) == image
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        name = f"{position}.png" if shot == 0 else f"{position}-action-{shot}.png"
        assert response["Content-Disposition"] == f'inline; filename="{name}"'
        assert "sandbox" in response["Content-Security-Policy"]
    assert len(stored_files()) == 4


def test_the_document_page_shows_the_kept_copy_never_the_upstream_url(
    key: ApiKey, alice_client: Client, sim: FakeFirecrawl, file_storage: str
) -> None:
    job = cached_job(key, sim, n=1, actions=ACTIONS[:1])
    fetch_all(key)

    html = alice_client.get(f"/jobs/{job.pk}/documents/0/").content.decode()

    assert f'<img src="/jobs/{job.pk}/documents/0/screenshots/0/" alt="Screenshot"' in html
    assert f'src="/jobs/{job.pk}/documents/0/screenshots/1/" alt="Screenshot of action 1"' in html
    assert sim.storage_url not in html and "expires upstream" not in html


def test_data_uris_are_decoded_and_kept(
    file_storage: str, key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    sim.screenshots = "inline"  # a self-hosted server without cloud storage
    job = cached_job(key, sim, n=2)
    inline = [doc["screenshot"] for doc in sim.job(str(job.remote_id)).documents]

    fetch_all(key)

    assert Screenshot.objects.get(job=job, position=0).source == "data:image/png;base64"
    assert states(job) == [(0, 0, "kept"), (1, 0, "kept")]
    for position, uri in enumerate(inline):
        served = alice_client.get(f"/jobs/{job.pk}/documents/{position}/screenshots/0/")
        assert body(served) == base64.b64decode(uri.partition(",")[2])


def test_the_job_page_follows_pending_screenshots_after_the_job_settled(
    key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=2)
    assert job.is_settled
    poll = {"HX-Request": "true"}

    waiting = alice_client.get(f"/jobs/{job.pk}/", headers=poll)
    fetch_all(key)
    done = alice_client.get(f"/jobs/{job.pk}/", headers=poll)

    assert waiting.status_code == 200 and 'hx-trigger="every 3s"' in waiting.content.decode()
    assert "0 kept · 2 pending · 0 failed" in waiting.content.decode()
    assert done.status_code == 286  # htmx stops polling
    assert "2 kept · 0 pending · 0 failed" in done.content.decode()


HOSTILE = {
    "not an image": (Fault.not_an_image(), "failed", "Not a PNG, JPEG or WebP image"),
    "oversize": (
        Fault.oversize_image(5_000_000, declare_length=False),
        "failed",
        "Larger than 1 MB",
    ),
    "redirect elsewhere": (
        Fault.redirect(),
        "failed",
        "redirected to another host (localhost); not followed",
    ),
    "slow": (
        Fault.trickle(5, pieces=50),
        "pending",
        "did not finish sending it within 1 s; retrying in 30 s",
    ),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_storage_answer_keeps_nothing_says_why_and_spares_other_users(
    case: str,
    file_storage: str,
    key: ApiKey,
    bob_key: ApiKey,
    alice_client: Client,
    sim: FakeFirecrawl,
    monkeypatch: Any,
) -> None:
    fault, state, reason = HOSTILE[case]
    monkeypatch.setattr(screenshots, "MAX_BYTES", 2**20)
    monkeypatch.setattr(screenshots, "FETCH_DEADLINE", 1)
    alices = cached_job(key, sim, n=1)
    bobs = cached_job(bob_key, sim, n=1)
    sim.inject(fault, job_id=str(alices.remote_id), count=None, on="storage")

    fetch_all(key)
    fetch_all(bob_key)

    alice_shot = Screenshot.objects.get(job=alices)
    assert (alice_shot.state, alice_shot.name) == (state, "")
    assert reason in alice_shot.reason
    assert states(bobs) == [(0, 0, "kept")]
    assert [name.split("/")[1] for name in stored_files()] == [str(bobs.pk)]
    job_page = alice_client.get(f"/jobs/{alices.pk}/").content.decode()
    assert f"0 kept · {1 if state == 'pending' else 0} pending" in job_page
    assert reason in job_page
    document_page = alice_client.get(f"/jobs/{alices.pk}/documents/0/").content.decode()
    assert reason in document_page and "<img" not in document_page


def test_screenshots_on_a_host_neither_firecrawl_nor_listed_are_never_fetched(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    job = cached_job(key, sim, n=1)
    # The job's server is no longer allowed, and the storage list names only Google's.
    settings.FIRECRAWL_API_URLS = ["https://api.firecrawl.dev"]
    settings.FIRECRAWL_SCREENSHOT_HOSTS = ["storage.googleapis.com"]

    fetch_all(key)

    shot = Screenshot.objects.get(job=job)
    assert shot.state == "failed"
    assert shot.reason.startswith("127.0.0.1 is not the job's Firecrawl server nor a storage")
    assert not [r for r in sim.storage_requests if str(job.remote_id) in r.path]


def test_a_storage_host_on_the_list_is_fetched_from_whatever_the_jobs_server(
    key: ApiKey, sim: FakeFirecrawl, settings: Any, file_storage: str
) -> None:
    job = cached_job(key, sim, n=1)
    settings.FIRECRAWL_API_URLS = ["https://api.firecrawl.dev"]
    settings.FIRECRAWL_SCREENSHOT_HOSTS = ["storage.googleapis.com", "127.0.0.1"]

    fetch_all(key)

    assert states(job) == [(0, 0, "kept")]


def test_a_failure_that_may_pass_is_retried_with_a_growing_wait_then_given_up(
    key: ApiKey, sim: FakeFirecrawl, file_storage: str
) -> None:
    job = cached_job(key, sim, n=1)
    sim.inject(Fault.server_error(503), job_id=str(job.remote_id), count=None, on="storage")
    shot = Screenshot.objects.get(job=job)
    waits = []

    for _ in range(MAX_ATTEMPTS):
        # Due now, whatever the wait: the test does not wait for it.
        Screenshot.objects.filter(pk=shot.pk).update(next_attempt_at=LONG_AGO)
        fetched_at = timezone.now()
        fetch_all(key)
        shot.refresh_from_db()
        waits.append(round((shot.next_attempt_at - fetched_at).total_seconds()))

    assert waits[:-1] == [30, 60, 120, 240, 480]
    assert (shot.attempts, shot.state) == (MAX_ATTEMPTS, "failed")
    assert shot.reason == f"The storage host answered 503; gave up after {MAX_ATTEMPTS} attempts"
    assert stored_files() == []


def test_another_users_screenshot_url_is_a_404(
    key: ApiKey, bob_client: Client, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=1)
    fetch_all(key)
    url = f"/jobs/{job.pk}/documents/0/screenshots/0/"

    assert alice_client.get(url).status_code == 200
    assert bob_client.get(url).status_code == 404
    assert alice_client.get(f"/jobs/{job.pk}/documents/0/screenshots/7/").status_code == 404


def test_a_screenshot_not_kept_yet_is_a_404_not_the_upstream_url(
    key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=1)

    response = alice_client.get(f"/jobs/{job.pk}/documents/0/screenshots/0/")

    assert response.status_code == 404
    page = alice_client.get(f"/jobs/{job.pk}/documents/0/").content.decode()
    assert "Not kept yet" in page and sim.storage_url not in page


def test_deleting_a_job_deletes_its_files_in_the_background(
    file_storage: str,
    key: ApiKey,
    alice_client: Client,
    sim: FakeFirecrawl,
    settings: Any,
) -> None:
    doomed = cached_job(key, sim, n=3, actions=ACTIONS[:1])
    kept = cached_job(key, sim, n=1)
    fetch_all(key)
    assert len(stored_files()) == 7
    settings.TASKS = IMMEDIATE_TASKS  # the queued deletion runs as it is queued

    response = alice_client.post(f"/jobs/{doomed.pk}/delete/")

    assert response.status_code == 302
    assert [name.split("/")[1] for name in stored_files()] == [str(kept.pk)]
    assert not Screenshot.objects.orphaned().exists()
    assert Screenshot.objects.filter(job=kept).count() == 1


def test_file_deletion_goes_in_claimed_batches_that_two_workers_never_share(
    key: ApiKey, sim: FakeFirecrawl, file_storage: str, monkeypatch: Any
) -> None:
    job = cached_job(key, sim, n=5)
    fetch_all(key)
    monkeypatch.setattr(screenshots, "DELETE_BATCH", 2)
    job.delete()

    assert request_file_deletion(batches=2) == 2
    assert request_file_deletion(batches=5) == 1  # what is left: one row
    assert request_file_deletion(batches=5) == 0  # all claimed
    batches = queued(delete_screenshots_task)
    assert sorted(pk for batch in batches for pk in batch) == sorted(
        Screenshot.objects.orphaned().values_list("pk", flat=True)
    )
    for batch in batches:
        screenshots.delete_orphaned(batch)
    assert stored_files() == [] and not Screenshot.objects.exists()


def test_a_fetch_finishing_after_its_job_was_deleted_leaves_no_file(
    key: ApiKey, sim: FakeFirecrawl, file_storage: str
) -> None:
    job = cached_job(key, sim, n=1)
    shot = Screenshot.objects.select_related("job").get(job=job)
    job.delete()  # while the fetch below is in flight

    with screenshots.new_fetcher() as fetcher:
        screenshots.keep(shot, fetcher, storages["default"])

    assert stored_files() == []
    assert Screenshot.objects.orphaned().get().name == ""


def test_one_fetch_task_per_key_at_a_time_and_the_scheduler_finds_due_ones(
    key: ApiKey, bob_key: ApiKey, sim: FakeFirecrawl
) -> None:
    cached_job(key, sim, n=1)
    cached_job(bob_key, sim, n=1)

    assert request_screenshots(key.pk)
    assert not request_screenshots(key.pk)  # queued already: one per key
    assert enqueue_due_screenshots() == 1  # Bob's; Alice's is queued
    assert queued(fetch_screenshots_task) == [key.pk, bob_key.pk]


def test_a_fetch_task_yields_the_worker_after_its_time_and_queues_the_rest(
    key: ApiKey, sim: FakeFirecrawl, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(screenshots, "FETCH_DEADLINE", 1)
    settings.FIRECRAWL_WORKER_DEADLINE = 0.5
    job = cached_job(key, sim, n=4)
    sim.inject(Fault.trickle(3, pieces=30), job_id=str(job.remote_id), count=None, on="storage")
    assert request_screenshots(key.pk)

    fetch_screenshots_task.call(key.pk)

    attempts = sum(Screenshot.objects.filter(job=job).values_list("attempts", flat=True))
    assert attempts == 1  # one slow image, then the worker went back to the queue
    assert queued(fetch_screenshots_task) == [key.pk, key.pk]


def test_a_sync_that_caches_documents_queues_their_screenshots(
    key: ApiKey, sim: FakeFirecrawl, settings: Any, file_storage: str
) -> None:
    remote_id = sim.create_batch(ALICE_KEY, n=2, state="completed", formats=SHOTS)
    job = make_job(key, remote_id, kind=Job.Kind.BATCH)
    settings.TASKS = IMMEDIATE_TASKS

    sync_job_task.call(job.pk)

    assert states(job) == [(0, 0, "kept"), (1, 0, "kept")]


def test_a_deleted_keys_pending_screenshots_fail_with_the_reason(
    key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=1)
    key.delete()

    enqueue_due_screenshots()

    shot = Screenshot.objects.get(job=job)
    assert shot.state == "failed"
    assert shot.reason == "The job's API key was deleted before this screenshot was kept"


def test_values_that_can_never_be_images_are_failed_rows_never_dropped(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, "0190c0de-0000-7000-8000-000000000001")
    odd: dict[str, Any] = {
        "screenshot": {"url": "https://x"},
        "actions": {"screenshots": ["javascript:alert(1)", *["https://x/a.png"] * 30]},
    }
    rows = Screenshot.rows_for(job, 0, ScrapedDocument.from_raw(odd))

    assert len(rows) == MAX_PER_DOCUMENT + 1
    assert [(r.shot, r.state) for r in rows[:2]] == [(0, "failed"), (1, "failed")]
    assert rows[0].reason == "Firecrawl sent a screenshot that is no URL"
    assert "neither an http(s) URL nor data:" in rows[1].reason
    assert all(r.state == "pending" for r in rows[2:-1])
    assert (rows[-1].shot, rows[-1].state) == (MAX_PER_DOCUMENT, "failed")
    assert rows[-1].reason.startswith("12 more screenshots than the 20 kept per document")


def test_the_zip_holds_the_kept_screenshots_and_its_manifest_names_them(
    file_storage: str, key: ApiKey, alice_client: Client, sim: FakeFirecrawl
) -> None:
    job = cached_job(key, sim, n=3, actions=ACTIONS[:1])
    upstream = upstream_images(sim, job)
    Screenshot.objects.filter(job=job, position=2, shot=1).update(
        state="failed", reason="Not a PNG, JPEG or WebP image (by its first bytes); not kept"
    )
    fetch_all(key)

    response = alice_client.get(f"/jobs/{job.pk}/download.zip")
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    manifest = json.loads(archive.read("manifest.json"))

    names = sorted(n for n in archive.namelist() if n.startswith("screenshots/"))
    assert names == [
        "screenshots/0-action-1.png", "screenshots/0.png",
        "screenshots/1-action-1.png", "screenshots/1.png", "screenshots/2.png",
    ]  # fmt: skip
    assert archive.read("screenshots/1-action-1.png") == upstream[1, 1]
    assert manifest["screenshots"] == {"kept": 5, "pending": 0, "failed": 1}
    last = manifest["documents"][2]["screenshots"]
    assert last[0] == {
        "shot": 0, "state": "kept", "file": "screenshots/2.png",
        "contentType": "image/png", "size": len(upstream[2, 0]),
    }  # fmt: skip
    assert last[1] == {
        "shot": 1,
        "state": "failed",
        "reason": "Not a PNG, JPEG or WebP image (by its first bytes); not kept",
    }
