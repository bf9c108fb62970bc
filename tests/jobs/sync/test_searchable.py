"""Searchable as cached: the transaction that stores a page indexes its documents, so after a
sync every cached document is found by search with no indexing task run, and a crash between
storing and indexing cannot leave a cached document that search misses."""

from typing import Any

import pytest

from fakecrawl import FakeFirecrawl
from jobs.models import Job, search_index
from jobs.search import apply_search, search_tokens
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import ALICE_KEY as KEY
from tests.conftest import make_job

DOCS = 250  # three status pages


def assert_every_cached_document_is_found(job: Job) -> None:
    """Each cached document is found by a word of its markdown, and by its URL."""
    documents = list(job.documents.order_by("position"))
    assert len(documents) == job.documents_cached
    assert not [d.position for d in documents if not d.search_indexed]
    for document in documents:
        body = max(search_tokens(document.content.markdown or ""), key=len)
        assert document in apply_search(job.documents.all(), body), document.position
        assert document in apply_search(job.documents.all(), document.url), document.position


@pytest.mark.django_db
def test_every_document_a_sync_caches_is_searchable_without_the_indexing_task(
    key: ApiKey, sim: FakeFirecrawl
) -> None:
    job = make_job(key, sim.create_batch(KEY, n=DOCS, state="completed", doc_size=400))
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == DOCS
    assert_every_cached_document_is_found(job)


@pytest.mark.django_db
def test_a_crash_between_storing_and_indexing_a_page_leaves_no_cached_document_unsearchable(
    key: ApiKey, sim: FakeFirecrawl, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = make_job(key, sim.create_batch(KEY, n=DOCS, state="completed", doc_size=400))
    index_inserted = search_index.index_inserted
    calls = 0

    def crash_on_the_second_page(*args: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            # The page's rows are inserted, not yet indexed: the process dies here.
            raise RuntimeError("killed between store and index")
        index_inserted(*args)

    monkeypatch.setattr(search_index, "index_inserted", crash_on_the_second_page)
    result = sync_job(job.pk)
    assert result.error  # the sync stopped at the crash
    job.refresh_from_db()
    assert_every_cached_document_is_found(job)
    assert job.documents_cached == 100  # the first page; the second was never cached

    # The next sync caches the rest, as searchable.
    sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == DOCS
    assert_every_cached_document_is_found(job)
