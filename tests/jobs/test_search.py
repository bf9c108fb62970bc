"""jobs.search: every cached document is indexed soon after, and user text is never query syntax."""

import json
from typing import Any

import pytest
from django.db import connection

from jobs.models import Document, Job
from jobs.models.search_index import document_words
from jobs.search import apply_search, fts5_query, index_documents, search_tokens
from jobs.tasks import enqueue_due_jobs
from keys.models import ApiKey
from tests.conftest import make_documents, make_job

SQLITE = connection.vendor == "sqlite"


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e44")


def found(job: Job, text: str) -> list[int]:
    documents = apply_search(Document.objects.filter(job=job), text)
    return sorted(documents.values_list("position", flat=True))


def doc(job: Job, position: int, markdown: str, title: str = "", url: str = "") -> Document:
    raw = json.dumps({"markdown": markdown})
    return Document(job=job, position=position, title=title, url=url, raw=raw, size=len(raw))


def store(*documents: Document) -> None:
    """As the sync and then the index task do."""
    Document.objects.bulk_create(documents, ignore_conflicts=True)
    index_documents(documents[0].job_id)


def test_it_indexes_documents_written_by_the_syncs_bulk_create(job: Job) -> None:
    store(doc(job, 0, "the aardvark sleeps"), doc(job, 1, "a zebra runs"))
    # A replayed page: conflicts are ignored, and the index is not doubled or changed.
    store(doc(job, 0, "a zebra replaced"))
    assert found(job, "aardvark") == [0]
    assert found(job, "zebra") == [1]


def test_cached_documents_are_searchable_once_indexed(job: Job) -> None:
    Document.objects.bulk_create([doc(job, 0, "the aardvark sleeps"), doc(job, 1, "aardvarks")])
    assert found(job, "aardvark") == []  # caching does not wait for the index
    assert index_documents(job.pk, batch=1) == 2
    assert found(job, "aardvark") == [0, 1]
    assert index_documents(job.pk) == 0  # nothing is indexed twice
    assert found(job, "aardvark") == [0, 1]
    assert not Document.objects.filter(job=job, search_indexed=False).exists()


def test_an_indexing_task_stops_after_its_time_and_the_scheduler_queues_the_rest(job: Job) -> None:
    Document.objects.bulk_create([doc(job, n, f"word{n}") for n in range(3)])

    assert index_documents(job.pk, batch=1, seconds=0) == 1  # one batch, then out of time
    enqueue_due_jobs()
    assert Job.objects.get(pk=job.pk).index_queued_at is not None  # the rest is queued again
    assert index_documents(job.pk, batch=1) == 2


def test_it_indexes_only_the_given_job(job: Job, key: ApiKey) -> None:
    other = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e66")
    Document.objects.bulk_create([doc(job, 0, "walrus"), doc(other, 0, "walrus")])
    assert index_documents(job.pk) == 1
    assert found(job, "walrus") == [0] and found(other, "walrus") == []


@pytest.mark.skipif(not SQLITE, reason="the app never edits a document; SQLite's triggers allow it")
def test_an_edited_document_is_found_by_its_new_text_only(job: Job) -> None:
    store(doc(job, 0, "the aardvark sleeps"))
    Document.objects.filter(job=job).update(raw=json.dumps({"markdown": "a zebra runs"}))
    assert found(job, "aardvark") == [] and found(job, "zebra") == [0]


def test_it_matches_every_word_in_any_order_and_the_last_as_a_prefix(job: Job) -> None:
    store(doc(job, 0, "Red apples and green pears"), doc(job, 1, "green apples"))
    assert found(job, "pears green") == [0]
    assert found(job, "green app") == [0, 1]
    assert found(job, "Éàü") == []


def test_it_finds_accented_words(job: Job) -> None:
    store(doc(job, 0, "Le café est fermé"))
    assert found(job, "café fermé") == [0]
    # Accents are folded on both databases, in the document and in the query.
    assert found(job, "cafe ferme") == [0]
    assert found(job, "CAFÉ") == [0]


def test_a_search_inside_a_subquery_filters_its_own_rows(job: Job) -> None:
    # As the list's deferred join uses it, where Django renames the subquery's table.
    store(doc(job, 0, "aardvark"), doc(job, 1, "zebra"), doc(job, 2, "zebra too"))
    page = apply_search(Document.objects.filter(job=job), "zebra").order_by("position")
    rows = Document.objects.filter(pk__in=page.values("pk")[:2])
    assert sorted(rows.values_list("position", flat=True)) == [1, 2]


def test_it_searches_only_the_given_job(job: Job, key: ApiKey) -> None:
    other = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e55")
    make_documents(job, 2)
    make_documents(other, 2)
    assert found(job, "page") == [0, 1]


def test_deleting_a_job_half_indexed_keeps_the_index_exact(job: Job, key: ApiKey) -> None:
    other = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e77")
    make_documents(job, 3)  # indexed
    Document.objects.bulk_create([doc(job, 3, "page four"), doc(job, 4, "page five")])
    make_documents(other, 2)
    job.delete()  # a cascade through the delete trigger, for indexed and unindexed rows alike
    assert found(other, "page") == [0, 1]
    if SQLITE:
        with connection.cursor() as cursor:
            # Merging the segments applies every delete the triggers wrote.
            cursor.execute("INSERT INTO jobs_document_fts(jobs_document_fts) VALUES('optimize')")
            # Proves little on a contentless table (it cannot compare with the content), but a
            # malformed index still fails it.
            cursor.execute(
                "INSERT INTO jobs_document_fts(jobs_document_fts) VALUES('integrity-check')"
            )
            cursor.execute(
                "SELECT rowid FROM jobs_document_fts WHERE jobs_document_fts MATCH 'page'"
            )
            indexed = sorted(row[0] for row in cursor.fetchall())
        assert indexed == sorted(other.documents.values_list("pk", flat=True))


def test_deleting_a_job_removes_its_documents_from_the_index(job: Job) -> None:
    make_documents(job, 3)
    job.delete()  # a database cascade: no Python code sees the documents go
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM jobs_document_fts WHERE jobs_document_fts MATCH 'page'"
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.parametrize(
    ("text", "positions"),
    [
        *[(text, [0, 1]) for text in ['"', "'", "*", "(", "\\", "^", "%", "::"]],
        # Operators are searched for as words, which neither document has.
        *[(text, []) for text in ["AND", "OR NOT", "NEAR(a b)", "title:x", "a -b"]],
    ],
)
def test_query_syntax_in_user_text_is_only_words(job: Job, text: str, positions: list[int]) -> None:
    make_documents(job, 2)
    assert found(job, f"page {text}") == positions
    assert found(job, f"{text} page") == positions


def test_queries_are_built_from_quoted_words_only() -> None:
    assert search_tokens('x" OR title:y*') == ["x", "or", "title", "y"]
    assert fts5_query(["x", "or"]) == '"x" "or"*'
    assert search_tokens("Fermé_CAFÉ") == ["ferme", "cafe"]
    assert search_tokens("!!! ---") == []
    assert len(search_tokens("w " * 100)) == 16


# Search quality: titles, URLs and content, on both databases alike.


def test_it_finds_words_of_the_title_the_urls_and_the_content(job: Job) -> None:
    store(
        doc(
            job,
            0,
            "## Shipping\n\nOur *hidden* treasure ships worldwide.",
            title="Quarterly Pricing — 2026",
            url="https://shop.test/contact-form?ref=Newsletter_Spring",
        ),
        doc(job, 1, "nothing to see", title="Other", url="https://other.test/"),
    )
    for words in ("quarterly", "pricing 2026", "contact", "form", "shop test", "newsletter"):
        assert found(job, words) == [0], words
    assert found(job, "spring") == [0]  # an underscore separates words, as any punctuation
    assert found(job, "hidden treasure") == [0]
    assert found(job, "treasure shipping") == [0]  # title, URL and content in one match
    assert found(job, "treasure other") == []


def test_the_last_word_matches_as_a_prefix_while_typing(job: Job) -> None:
    store(doc(job, 0, "a treasure map"), doc(job, 1, "a trebuchet"))
    assert found(job, "t") == [0, 1]
    assert found(job, "tre") == [0, 1]
    assert found(job, "trea") == [0]
    assert found(job, "treasure m") == [0]
    assert found(job, "tre map") == []  # only the last word is a prefix


def test_only_the_first_hundred_thousand_characters_are_searched(job: Job) -> None:
    from jobs.models.search_index import INDEXED_CHARS

    filler = "lorem " * (INDEXED_CHARS // 6)
    store(doc(job, 0, "beginning " + filler + " farbeyond"))
    assert found(job, "beginning") == [0]
    assert found(job, "farbeyond") == []


def test_document_words_are_the_distinct_folded_words() -> None:
    words = document_words(["Fermé, CAFÉ-crème!", "x_y  NUL\x00here \ud800lone", "", "日本語 text"])
    assert words.split() == sorted(
        {"ferme", "cafe", "creme", "x", "y", "nul", "here", "lone", "日本語", "text"}
    )


@pytest.mark.parametrize(
    "sent",
    [
        {
            "markdown": "Plain words here",
            "metadata": {"title": "A title", "url": "https://a.test/x"},
        },
        {"markdown": "m" * 150_000 + " tail", "metadata": {"title": "T " * 900 + "end"}},
        {"metadata": {"title": "Café \ud83d crème", "sourceURL": "https://b.test/" + "p/" * 3000}},
        {"markdown": None, "metadata": {}},
        {"html": "<p>only html</p>", "metadata": {"title": "Ünïcödé Ωmega_under"}},
    ],
)
def test_words_cut_from_a_scraped_document_are_those_of_the_stored_one(
    sent: dict[str, Any], key: ApiKey
) -> None:
    """The page reader cuts a document's words before it is stored (search_index.scraped_words):
    they must be the words the stored document is searched by."""
    from firecrawl_api.wire import ScrapedDocument
    from jobs.models import Document, search_index

    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e96")
    doc = ScrapedDocument.from_raw(sent, json.dumps(sent))
    stored = Document.from_scraped(job, 0, doc)
    expected = search_index.indexed_words(stored, doc.markdown)
    assert search_index.scraped_words(doc) == expected
