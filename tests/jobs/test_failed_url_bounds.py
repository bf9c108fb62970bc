"""Failed URLs are bounded: at most FIRECRAWL_MAX_FAILED_URLS_PER_JOB stored per job, written in
batches of at most 500 rows, each its own short transaction, the count Firecrawl reported kept and
shown; their strings are cut when stored, so a 30 MB message makes a page of normal size; and no
control character from upstream reaches a page."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from fakecrawl import FakeFirecrawl, Fault
from jobs.models import FailedUrl, Job
from jobs.tasks import sync_job_task
from keys.models import ApiKey

KEY = "fc-failures00000000000000000000f4u7"


@pytest.fixture
def sim() -> Iterator[FakeFirecrawl]:
    with FakeFirecrawl(seed=71) as sim:
        sim.add_key(KEY, team="failing")
        yield sim


@pytest.fixture
def key(alice: User, sim: FakeFirecrawl) -> ApiKey:
    return ApiKey.objects.create(owner=alice, name="Failing", key=KEY, api_url=sim.url)


def tracked(key: ApiKey, remote_id: str) -> Job:
    job, _ = Job.objects.track(owner=key.owner, api_key=key, remote_id=remote_id, kind="batch")
    return job


@pytest.fixture
def inserts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """Each insert of failed URLs: (rows, whether it ran inside a longer transaction)."""
    seen: list[tuple[int, bool]] = []
    real = FailedUrl.objects.bulk_create

    def recording(rows: list[FailedUrl], *args: Any, **kwargs: Any) -> Any:
        seen.append((len(rows), connection.in_atomic_block))
        return real(rows, *args, **kwargs)

    monkeypatch.setattr(FailedUrl.objects, "bulk_create", recording)
    return seen


@pytest.mark.django_db(transaction=True)
def test_200000_failed_urls_store_the_cap_in_short_transactions_and_say_how_many_were_reported(
    alice_client: Client,
    key: ApiKey,
    sim: FakeFirecrawl,
    settings: Any,
    inserts: list[tuple[int, bool]],
) -> None:
    settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB = 2_000
    remote_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.error_flood(200_000), count=None, job_id=remote_id)
    job = tracked(key, remote_id)

    sync_job_task.call(job.pk)

    job.refresh_from_db()
    assert FailedUrl.objects.filter(job=job).count() == 2_000
    assert (job.failed_count, job.failed_stored) == (200_000, 2_000)
    assert inserts and all(rows <= 500 and not nested for rows, nested in inserts)
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "200,000 failed" in page
    assert (
        "Showing the first 2,000 of the 200,000 URLs Firecrawl reported: this server keeps at "
        "most 2,000 per job (FIRECRAWL_MAX_FAILED_URLS_PER_JOB)." in page
    )
    assert ">Retry 2,000 failed URLs</button>" in page


def test_urls_a_cancel_left_past_the_cap_are_counted_as_cancelled_not_failed(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB = 300
    remote_id = sim.create_batch(KEY, n=3_000, rate=0.001)
    sim.cancel(remote_id)
    job = tracked(key, remote_id)

    sync_job_task.call(job.pk)

    job.refresh_from_db()
    upstream = sim.job(remote_id)
    left = len(upstream.failed)
    assert left > 2_900 and FailedUrl.objects.filter(job=job).count() == 300
    # Each of them told apart as it streamed by, kept or not: none counts as a failure.
    assert (job.failed_count, job.cancelled_count, job.failed_stored) == (0, left, 0)
    progress = job.progress
    assert (progress.cancelled, progress.failed, progress.total) == (left, 0, 3_000)
    page = alice_client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"{left:,} left unscraped by the cancel" in page
    assert "Retry" not in page


def test_a_list_with_fresh_ids_on_every_read_never_grows_past_the_cap(
    key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    settings.FIRECRAWL_MAX_FAILED_URLS_PER_JOB = 1_000
    remote_id = sim.create_batch(KEY, n=3)
    sim.inject(Fault.error_flood(3_000, fresh_ids=True), count=None, job_id=remote_id)
    job = tracked(key, remote_id)

    for _ in range(3):
        Job.objects.filter(pk=job.pk).update(errors_signature="", sync_state="active")
        Job.objects.filter(pk=job.pk).update(next_poll_at=job.created_at)
        sync_job_task.call(job.pk)

    assert FailedUrl.objects.filter(job=job).count() == 1_000


def test_a_30_mb_message_and_a_5_mb_url_make_a_page_of_normal_size(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl
) -> None:
    remote_id = sim.create_batch(KEY, n=3)
    flood = Fault.error_flood(1, error_chars=30_000_000, url_chars=5_000_000)
    sim.inject(flood, count=None, job_id=remote_id)
    job = tracked(key, remote_id)

    sync_job_task.call(job.pk)

    stored = FailedUrl.objects.get(job=job)
    assert (len(stored.url), len(stored.error)) == (4_096, 2_000)
    assert stored.error.endswith("…")
    response = alice_client.get(f"/jobs/{job.pk}/")
    assert "1 failed" in response.content.decode()
    assert len(response.content) < 100_000


@pytest.mark.parametrize(
    "hostile",
    ["\x1b[31m", "\x07", "\u202e", "\x00", "\x85", "\u2066", "\ue000", "\ue001"],
    ids=["ESC", "BEL", "RLO", "NUL", "NEL", "LRI", "marker-start", "marker-end"],
)
def test_no_control_character_from_upstream_reaches_the_page(
    alice_client: Client, key: ApiKey, hostile: str
) -> None:
    job = tracked(key, "0198f4b2-0000-7000-8000-000000000001")
    FailedUrl.from_listing(job, f"https://x.test/{hostile}", code="X", error=f"bad{hostile}").save()
    job.count_failures()
    job.save()

    html = alice_client.get(f"/jobs/{job.pk}/").content.decode()

    assert "bad\ufffd" in html
    assert hostile not in html
