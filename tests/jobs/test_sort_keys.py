"""The browser's stored sort keys, and pages read from either end of a sorted list."""

import json
from typing import Any

import pytest

from jobs.forms.documents import SORTS
from jobs.models import SORT_PREFIX, Document, Job, fast_insert
from jobs.pagination import DocumentPaginator
from keys.models import ApiKey
from tests.conftest import make_job


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e99")


def document(job: Job, position: int, title: str, url: str, status: int | None) -> Document:
    raw = json.dumps({"markdown": title})
    return Document(
        job=job,
        position=position,
        title=title,
        url=url,
        status_code=status,
        raw=raw,
        size=len(raw),
    )


def test_the_database_keeps_each_sort_key_equal_to_the_start_of_its_column(job: Job) -> None:
    long_title = "T" * (SORT_PREFIX + 50)
    # Both ways the app writes documents: the sync's fast insert and the ORM.
    fast_insert.insert_new([document(job, 0, long_title, "https://a.test/" + "u" * 300, 200)])
    Document.objects.bulk_create([document(job, 1, "Short", "https://b.test/", None)])
    keys = dict(Document.objects.filter(job=job).values_list("position", "title_key"))
    assert keys == {0: "T" * SORT_PREFIX, 1: "Short"}
    url_keys = Document.objects.filter(job=job).values_list("url_key", flat=True)
    assert sorted(map(len, url_keys)) == [len("https://b.test/"), SORT_PREFIX]


def test_a_title_longer_than_the_key_sorts_by_its_start_then_by_position(job: Job) -> None:
    same_start = "A" * SORT_PREFIX
    Document.objects.bulk_create(
        [
            document(job, 0, same_start + "zzz", "", 200),
            document(job, 1, "B", "", 200),
            document(job, 2, same_start + "aaa", "", 200),
        ]
    )
    ordered = Document.objects.filter(job=job).order_by(*SORTS["title"])
    assert list(ordered.values_list("position", flat=True)) == [0, 2, 1]


@pytest.fixture
def mixed(job: Job) -> Job:
    """Thirteen documents with repeated keys and missing status codes: ties everywhere."""
    titles = ["b", "a", "c", "a", "", "b", "é", "A", "b", "a", "z", "", "m"]
    statuses: list[int | None] = [
        200,
        404,
        None,
        200,
        500,
        None,
        301,
        200,
        404,
        200,
        None,
        302,
        200,
    ]
    Document.objects.bulk_create(
        [
            document(job, n, title, f"https://{title or 'x'}.test/{n % 3}", status)
            for n, (title, status) in enumerate(zip(titles, statuses, strict=True))
        ]
    )
    job.documents_cached = len(titles)
    job.save()
    return job


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("per_page", [1, 3, 5, 13, 20])
def test_every_page_of_every_sort_is_the_same_read_from_either_end(
    mixed: Job, sort: str, per_page: int
) -> None:
    documents = mixed.documents.all()
    expected = list(documents.order_by(*SORTS[sort]).values_list("position", flat=True))
    # The paginator walks pages past the middle backwards from the end of the list.
    paginator = DocumentPaginator(documents, per_page, SORTS[sort], count=len(expected))
    shown: list[Any] = []
    for number in paginator.page_range:
        shown += [row.position for row in paginator.page(number).object_list]
    assert shown == expected


@pytest.mark.parametrize("sort", ["title", "-url", "status", "-status"])
def test_a_filtered_selection_of_known_length_reads_its_last_pages_backwards_too(
    mixed: Job, sort: str
) -> None:
    documents = mixed.documents.exclude(status_code=None)
    expected = list(documents.order_by(*SORTS[sort]).values_list("position", flat=True))
    paginator = DocumentPaginator(documents, 4, SORTS[sort])  # counted: 10, below the cap
    pages = [list(paginator.page(n).object_list) for n in paginator.page_range]
    assert [row.position for page in pages for row in page] == expected
