"""Reading a job's next status page while the sync stores the current one.

Reading a page (network, JSON) and storing it (the database) both spend much of their time
outside the GIL, so they can overlap (docs/PERFORMANCE.md measures it). On PostgreSQL the thread
also cuts the page's search words (jobs.models.search_index.scraped_words), Python work that
would otherwise sit on the storing's path, and overlaps it with the database's. The thread never
touches the database: its request is paid from the key's budget before it starts, and it makes a
single attempt. Whatever goes wrong with it, the sync asks for that page again the usual way,
with retries and their messages.
"""

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Self

import firecrawl_api
from jobs.models import Job, search_index
from keys import clients
from keys.budget import BudgetExhausted, RequestBudget

logger = logging.getLogger(__name__)


@dataclass
class ReadAhead:
    page: firecrawl_api.StatusPage
    # Each document's search words, in the page's order (None where the database cuts none).
    words: list[str] | None


class PageReader:
    """Reads the next status page in a thread while the sync stores the current one."""

    def __init__(self, job: Job, budget: RequestBudget, *, finish_by: float | None = None) -> None:
        assert job.api_key is not None
        self._job = job
        self._budget = budget
        self._client = clients.for_worker(job.api_key, None, max_retries=0, finish_by=finish_by)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-reader")
        self._pending: tuple[int, Future[ReadAhead]] | None = None
        # Decided here, in the sync's thread: the reader's own never opens a connection.
        self._cuts_words = search_index.cuts_words()

    def start(self, skip: int) -> None:
        """Begin reading the page at `skip`, if the budget allows one more request now."""
        try:
            self._budget.spend()
        except BudgetExhausted:
            return  # the sync's own request will meet the limit and say so
        self._pending = (skip, self._pool.submit(self._read, skip))

    def _read(self, skip: int) -> ReadAhead:
        page = self._client.job_status(str(self._job.remote_id), skip=skip, kind=self._job.kind)
        if not self._cuts_words:
            return ReadAhead(page, None)
        return ReadAhead(page, [search_index.scraped_words(doc) for doc in page.documents])

    def take(self, skip: int) -> ReadAhead | None:
        """The page read ahead, if it is the one at `skip` and arrived whole."""
        if self._pending is None:
            return None
        started_at, future = self._pending
        self._pending = None
        try:
            ahead = future.result()
        except firecrawl_api.FirecrawlError as exc:
            logger.info("Reading ahead in job %s failed (%s); asking again", self._job.pk, exc)
            return None
        return ahead if started_at == skip else None

    @property
    def slowest(self) -> float:
        """The longest a read ahead took (seconds)."""
        return self._client.slowest

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Waits for a read in flight (bounded by the client's deadline) before closing it.
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._client.close()
