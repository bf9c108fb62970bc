"""Shared fixtures: personas (Alice and Bob), the test's own Firecrawl simulator (`sim`, set up
by `@pytest.mark.sim(...)`), Alice's key on it (`key`) and Bob's (`bob_key`), a manual clock, and
Hypothesis settings that hold on a slow machine.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hypothesis
import pytest
from hypothesis import HealthCheck

from fakecrawl import FakeFirecrawl, ManualClock

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.test import Client

    from jobs.models import Document, Job
    from keys.models import ApiKey
    from tests.seaweedfs import SeaweedFS

# Hypothesis times each example (a 200 ms deadline) and how long inputs take to generate: on a
# busy machine both fail tests that are right. Property tests that suppress another health check
# list SLOW_MACHINE with it (an explicit list replaces this one).
SLOW_MACHINE = [HealthCheck.too_slow]
hypothesis.settings.register_profile(
    "slow-machine", deadline=None, suppress_health_check=SLOW_MACHINE
)
hypothesis.settings.load_profile("slow-machine")

ALICE_KEY = "fc-alice0000000000000000000000a1b2"
BOB_KEY = "fc-bob000000000000000000000000c3d4"


@pytest.fixture
def alice(db: Any) -> "User":
    from django.contrib.auth.models import User

    return User.objects.create_user("alice", password="correct horse battery")


@pytest.fixture
def bob(db: Any) -> "User":
    from django.contrib.auth.models import User

    return User.objects.create_user("bob", password="another good passphrase")


@pytest.fixture
def alice_client(alice: "User") -> "Client":
    from django.test import Client

    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob: "User") -> "Client":
    from django.test import Client

    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def clock() -> ManualClock:
    """The simulator's clock, moved only by the test: asking for it puts `sim` on it."""
    return ManualClock()


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[FakeFirecrawl]:
    """A Firecrawl simulator of the test's own, serving Alice's and Bob's keys.

    `@pytest.mark.sim(...)` on a test or a module (the test's own marker wins) passes options
    to FakeFirecrawl (seed, mode, site_fanout, ...), and `credits=N` to their teams. The
    simulator runs on real time, or on the test's `clock` when the test uses one.
    """
    options: dict[str, Any] = {"seed": 0}
    for marker in reversed(list(request.node.iter_markers("sim"))):
        options.update(marker.kwargs)
    credits = {"credits": options.pop("credits")} if "credits" in options else {}
    if "clock" in request.fixturenames:
        options["clock"] = request.getfixturevalue("clock")
    with FakeFirecrawl(**options) as simulator:
        simulator.add_key(ALICE_KEY, team="alice", **credits)
        simulator.add_key(BOB_KEY, team="bob", **credits)
        yield simulator


@pytest.fixture
def key(alice: "User", sim: FakeFirecrawl, request: pytest.FixtureRequest) -> "ApiKey":
    """Alice's default key on `sim`; `@pytest.mark.key(api_version="v2")` for the v2 routes."""
    from keys.models import ApiKey

    fields: dict[str, Any] = {"name": "Main", "is_default": True}
    for marker in reversed(list(request.node.iter_markers("key"))):
        fields.update(marker.kwargs)
    return ApiKey.objects.create(owner=alice, key=ALICE_KEY, api_url=sim.url, **fields)


@pytest.fixture
def bob_key(bob: "User", sim: FakeFirecrawl) -> "ApiKey":
    """Bob's default key on `sim`."""
    from keys.models import ApiKey

    return ApiKey.objects.create(
        owner=bob, name="Bob's", key=BOB_KEY, api_url=sim.url, is_default=True
    )


def make_job(key: "ApiKey", remote_id: str, **fields: Any) -> "Job":
    from jobs.models import Job

    return Job.objects.create(
        owner=key.owner,
        api_key=key,
        api_url=key.api_url,
        api_version=key.api_version,
        remote_id=remote_id,
        **fields,
    )


def make_failed_urls(
    job: "Job", *urls: str, robots_blocked: tuple[str, ...] = (), **fields: Any
) -> None:
    """Failed and robots-blocked URLs, counted on the job as a sync's read of /errors does."""
    from jobs.models import FailedUrl

    FailedUrl.objects.bulk_create(
        [FailedUrl.from_listing(job, url, **fields) for url in urls]
        + [FailedUrl.from_listing(job, url, robots=True) for url in robots_blocked]
    )
    job.count_failures()
    job.save(update_fields=["failed_count", "robots_blocked_count", "failed_stored"])


def make_documents(job: "Job", count: int, start: int = 0, **overrides: Any) -> "list[Document]":
    """Cached documents without a sync, for views that only read the cache."""
    from jobs.models import Document
    from jobs.search import index_documents

    docs = []
    for position in range(start, start + count):
        metadata: dict[str, Any] = {
            "title": f"Page {position}",
            "sourceURL": f"https://example.test/page/{position}",
            "url": f"https://example.test/page/{position}",
            "statusCode": 200,
            "scrapeId": f"scrape-{job.pk}-{position}",
        }
        raw: dict[str, Any] = {
            "markdown": f"# Page {position}\n\nSome text about page {position}.",
            "html": f"<h1>Page {position}</h1>",
            "metadata": metadata,
        }
        raw.update(overrides.get("raw", {}))
        text = json.dumps(raw)
        docs.append(
            Document(
                job=job,
                position=position,
                scrape_id=metadata["scrapeId"],
                source_url=metadata["sourceURL"],
                url=metadata["url"],
                title=metadata["title"],
                status_code=200,
                size=len(text),
                raw=text,
            )
        )
    Document.objects.bulk_create(docs)
    index_documents(job.pk)  # as the task after a sync does
    job.documents_cached = Document.objects.filter(job=job).count()
    job.next_skip = job.documents_cached
    job.save()
    return docs


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # The real hasher is slow by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # A retried read waits a millisecond, not a second (keys.clients' tuning constants).
    from keys import clients

    monkeypatch.setattr(clients, "RETRY_BACKOFF", 0.001)


@pytest.fixture(autouse=True)
def settle_at_once(settings: Any) -> None:
    # The simulator's clock is manual, the app's is real: a job settles on its first terminal
    # read unless a test of settling sets an interval (tests/jobs/sync/test_settling.py).
    settings.FIRECRAWL_SETTLE_SECONDS = 0


@pytest.fixture(autouse=True)
def any_api_url(settings: Any) -> None:
    # Simulators listen on loopback ports: allow them, as a self-hosted deployment would ("*").
    # Tests of the allow-list set their own.
    settings.FIRECRAWL_API_URLS = ["*"]


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> "Iterator[SeaweedFS]":
    """One real S3-compatible server (SeaweedFS) for the session; tests take a bucket each."""
    from tests.seaweedfs import SeaweedFS

    with SeaweedFS(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def s3_bucket(seaweedfs: "SeaweedFS") -> str:
    """The session's bucket (each bucket costs SeaweedFS volumes of its own: one will do)."""
    return seaweedfs.new_bucket()


@pytest.fixture(params=["filesystem", "s3"])
def file_storage(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> str:
    """Django's default storage, as FILE_STORAGE configures it: a folder of this test's own
    (filesystem), or a folder of its own in the bucket of the session's SeaweedFS (s3). The
    test runs once with each."""
    from tests.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY

    backend = "django.core.files.storage.FileSystemStorage"
    settings.MEDIA_ROOT = tmp_path / "media"
    if request.param == "s3":
        server = request.getfixturevalue("seaweedfs")
        backend = "storages.backends.s3.S3Storage"
        # The settings FILE_STORAGE=s3 reads from the environment (firecrawl_dash.settings).
        settings.AWS_S3_ENDPOINT_URL = server.endpoint_url
        settings.AWS_STORAGE_BUCKET_NAME = request.getfixturevalue("s3_bucket")
        settings.AWS_ACCESS_KEY_ID = ACCESS_KEY
        settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY
        settings.AWS_S3_REGION_NAME = REGION
        settings.AWS_LOCATION = tmp_path.name  # unique per test
    # Set last: a new STORAGES makes Django build the storage afresh, with the settings above.
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": backend}}
    return str(request.param)
