"""Browser tests: Debian's Chromium driven by Playwright's sync API against `live_server`.

One browser per session, a fresh context per test. Jobs sync in a background thread of the test
(`syncing`), not in a worker process, so the page sees real asynchronous progress; `worker` runs
the real worker's scheduler and task loop in a thread instead, for what views queue themselves.
Without a Chromium the whole directory is skipped, loudly. A failing test leaves a screenshot
and the page's HTML in test-artifacts/.
"""

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY
from tests.waiting import TIMEOUT

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from playwright.sync_api import Browser, BrowserContext, Page

    from jobs.models import Job
    from keys.models import ApiKey

# Playwright's sync API runs an event loop in this thread; the ORM calls in the test bodies
# are still synchronous and safe. Browser tests only: the rest of the suite keeps the guard.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

E2E_DIR = Path(__file__).parent
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SKIP_REASON = (
    "NO CHROMIUM FOUND: browser tests (tests/e2e) skipped. Install it (apt-get install chromium) "
    "or set CHROMIUM_PATH to a Chromium executable."
)
# Long enough for a CI machine whose cores are all taken, short enough that a broken page fails
# within a minute.
TIMEOUT_MS = 30_000


def chromium_path() -> str | None:
    candidate = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
        return candidate
    return shutil.which(candidate)


def _in_e2e(item: pytest.Item) -> bool:
    return E2E_DIR in Path(str(item.path)).parents


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if _in_e2e(item)]
    for item in ours:
        item.add_marker(pytest.mark.e2e)
    if ours and chromium_path() is None:
        config.stash[_skipped_key] = len(ours)
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


_skipped_key = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_terminal_summary(
    terminalreporter: Any, exitstatus: int, config: pytest.Config
) -> Iterator[None]:
    yield
    if skipped := config.stash.get(_skipped_key, 0):
        terminalreporter.write_sep("!", f"WARNING: {skipped} browser tests skipped", red=True)
        terminalreporter.write_line(SKIP_REASON, red=True, bold=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_failed_key, False)
    if report.failed:
        item.stash[_failed_key] = True
    return report


_failed_key = pytest.StashKey[bool]()


# Browser.


# Not named browser/context/page: pytest-playwright, when installed, would parametrize those.
@pytest.fixture(scope="session")
def chromium() -> Iterator["Browser"]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.skip(SKIP_REASON)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium: "Browser", live_server: Any) -> Iterator["BrowserContext"]:
    ctx = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def anon_page(
    browser_context: "BrowserContext", request: pytest.FixtureRequest
) -> Iterator["Page"]:
    """A tab of a fresh browser context, not logged in."""
    page = browser_context.new_page()
    yield page
    if request.node.stash.get(_failed_key, False):
        save_artifacts(page, request.node.name)


def save_artifacts(page: "Page", name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        Path(f"{stem}.html").write_text(page.content())
    except Exception as exc:  # a crashed page must not hide the test's own failure
        Path(f"{stem}.txt").write_text(f"Could not save the page: {exc!r}\n")


# The app's side.


@pytest.fixture(autouse=True)
def e2e_settings(settings: Any) -> None:
    settings.FIRECRAWL_API_URLS = ["*"]
    settings.FIRECRAWL_POLL_INTERVAL = 1
    settings.FIRECRAWL_RATE_LIMIT_PER_MINUTE = 100_000


def log_in(context: "BrowserContext", user: "User", base_url: str) -> None:
    """Put a session cookie for the user in the browser: the login form has its own test."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


@pytest.fixture
def alice_page(
    anon_page: "Page", browser_context: "BrowserContext", alice: "User", live_server: Any
) -> "Page":
    log_in(browser_context, alice, live_server.url)
    return anon_page


@pytest.fixture
def bob_page(chromium: "Browser", bob: "User", live_server: Any) -> Iterator["Page"]:
    """Bob, in a browser context of his own."""
    ctx = chromium.new_context(base_url=live_server.url)
    ctx.set_default_timeout(TIMEOUT_MS)
    log_in(ctx, bob, live_server.url)
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def track(key: "ApiKey") -> Callable[..., "Job"]:
    """A job on the simulator, tracked by Alice (as the Track form would create it)."""
    from tests.conftest import make_job

    def make(remote_id: str, **fields: Any) -> "Job":
        return make_job(key, remote_id, **fields)

    return make


@pytest.fixture
def new_batch(sim: FakeFirecrawl) -> Callable[..., str]:
    def create(**options: Any) -> str:
        return sim.create_batch(ALICE_KEY, **options)

    return create


class Syncer:
    """Syncs the given jobs every `every` seconds in a thread, like the worker would."""

    def __init__(self, every: float = 0.3) -> None:
        self.every = every
        self.job_pks: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []

    def add(self, *jobs: "Job") -> None:
        self.job_pks.update(job.pk for job in jobs)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="e2e-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        from django.db import connection

        from jobs.models import Job

        try:
            while not self._stop.is_set():
                for pk in list(self.job_pks):
                    if Job.objects.filter(pk=pk).exists():
                        sync_and_index(pk)
                self._stop.wait(self.every)
        except BaseException as exc:  # surfaced by the fixture's teardown
            self.errors.append(exc)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


@pytest.fixture
def syncing(transactional_db: Any) -> Iterator[Syncer]:
    syncer = Syncer()
    yield syncer
    syncer.stop()
    assert not syncer.errors, f"the sync thread failed: {syncer.errors!r}"


def sync_and_index(job_pk: int) -> None:
    """What the worker's sync task and the index task it queues do, in this thread."""
    from jobs.search import index_documents
    from jobs.sync import sync_job

    if sync_job(job_pk).documents_added:
        index_documents(job_pk)


def sync_until_settled(job: "Job", timeout: float = TIMEOUT) -> "Job":
    """Sync in the test's own thread until nothing is left to fetch."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        sync_and_index(job.pk)
        job.refresh_from_db()
        if not job.is_active:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job} did not settle in {timeout} s: {job.status}")
        time.sleep(0.2)


class RequestLog:
    """Paths of the requests the live server handled, recorded on Django's own signal."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, sender: Any, environ: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if environ is not None:
            with self._lock:
                self.paths.append(environ.get("PATH_INFO", ""))

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for seen in self.paths if seen == path)


@pytest.fixture
def server_requests() -> Iterator[RequestLog]:
    from django.core.signals import request_started

    log = RequestLog()
    request_started.connect(log, dispatch_uid="e2e-request-log")
    yield log
    request_started.disconnect(dispatch_uid="e2e-request-log")


class TaskWorker:
    """`manage.py run_worker` in a thread: its scheduler rounds (due syncs, indexing, automatic
    imports) and django-tasks-db's loop over the queued tasks, so what a view queues runs as in
    production. Signals stay the test runner's (the worker's handlers need the main thread)."""

    def __init__(self, every: float = 0.3) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-worker", daemon=True)
        self.errors: list[BaseException] = []

    def start(self) -> "TaskWorker":
        self._thread.start()
        return self

    def _run(self) -> None:
        from django.db import connection
        from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
        from django_tasks_db.management.commands.db_worker import Worker

        from jobs.tasks import enqueue_due_imports, enqueue_due_jobs

        try:
            while not self._stop.is_set():
                enqueue_due_jobs()
                enqueue_due_imports()
                Worker(
                    queue_names=[DEFAULT_TASK_QUEUE_NAME],
                    excluded_queue_names=[],
                    interval=0,
                    batch=True,
                    backend_name=DEFAULT_TASK_BACKEND_ALIAS,
                    startup_delay=False,
                    max_tasks=None,
                    worker_id="e2e-worker",
                ).run()
                self._stop.wait(self.every)
        except BaseException as exc:  # surfaced by the fixture's teardown
            self.errors.append(exc)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=20)


@pytest.fixture
def worker(transactional_db: Any) -> Iterator[TaskWorker]:
    task_worker = TaskWorker().start()
    yield task_worker
    task_worker.stop()
    assert not task_worker.errors, f"the worker thread failed: {task_worker.errors!r}"
