"""jobs.search: the full-text index follows every write, and user text is never query syntax."""

import json

import pytest
from django.db import connection

from jobs.models import ApiKey, Document, Job
from jobs.search import apply_search, fts5_query, search_tokens, tsquery
from tests.conftest import make_documents, make_job


@pytest.fixture
def job(alice_key: ApiKey) -> Job:
    return make_job(alice_key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e44")


def found(job: Job, text: str) -> list[int]:
    documents = apply_search(Document.objects.filter(job=job), text)
    return sorted(documents.values_list("position", flat=True))


def doc(job: Job, position: int, markdown: str, title: str = "", url: str = "") -> Document:
    raw = json.dumps({"markdown": markdown})
    return Document(job=job, position=position, title=title, url=url, raw=raw, size=len(raw))


def test_it_indexes_documents_written_by_the_syncs_bulk_create(job: Job) -> None:
    Document.objects.bulk_create(
        [doc(job, 0, "the aardvark sleeps"), doc(job, 1, "a zebra runs")], ignore_conflicts=True
    )
    # A replayed page: conflicts are ignored, and the index is not doubled or changed.
    Document.objects.bulk_create([doc(job, 0, "a zebra replaced")], ignore_conflicts=True)
    assert found(job, "aardvark") == [0]
    assert found(job, "zebra") == [1]


def test_it_matches_every_word_in_any_order_and_the_last_as_a_prefix(job: Job) -> None:
    Document.objects.bulk_create(
        [doc(job, 0, "Red apples and green pears"), doc(job, 1, "green apples")]
    )
    assert found(job, "pears green") == [0]
    assert found(job, "green app") == [0, 1]
    assert found(job, "Éàü") == []


def test_it_finds_accented_words(job: Job) -> None:
    Document.objects.bulk_create([doc(job, 0, "Le café est fermé")])
    assert found(job, "café fermé") == [0]
    if connection.vendor == "sqlite":
        # SQLite's tokenizer folds accents; PostgreSQL's 'simple' config does not (no unaccent).
        assert found(job, "cafe ferme") == [0]


def test_it_searches_only_the_given_job(job: Job, alice_key: ApiKey) -> None:
    other = make_job(alice_key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e55")
    make_documents(job, 2)
    make_documents(other, 2)
    assert found(job, "page") == [0, 1]


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
    "text",
    ['"', "'", "*", "AND", "OR NOT", "NEAR(a b)", "title:x", "a -b", "(", "\\", "^", "%", "::"],
)
def test_query_syntax_in_user_text_is_only_words(job: Job, text: str) -> None:
    make_documents(job, 2)
    found(job, text)  # no error, whatever the text


def test_queries_are_built_from_quoted_words_only() -> None:
    assert search_tokens('x" OR title:y*') == ["x", "or", "title", "y"]
    assert fts5_query(["x", "or"]) == '"x" "or"*'
    assert tsquery(["x", "or"]) == "'x' & 'or':*"
    assert search_tokens("!!! ---") == []
    assert len(search_tokens("w " * 100)) == 16
