"""Search snippets: where the words matched, highlighted, and scraped text kept inert."""

import json
import re

import pytest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from jobs.models import Document, Job
from jobs.search import MARK_END, MARK_START, index_documents, snippets
from jobs.templatetags.snippets import marked
from keys.models import ApiKey
from tests.conftest import make_job

HOSTILE = (
    "<script>alert('x')</script> Our hidden treasure lies here. "
    '<img src=x onerror=alert(2)> <div hx-get="/evil" hx-trigger="load">the treasure map</div> '
    f"a forged {MARK_START}marker{MARK_END} and a lone {MARK_END} end"
)


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e88", status="completed")


def cache(job: Job, *markdowns: str, raw_text: str | None = None) -> None:
    documents = []
    for position, markdown in enumerate(markdowns):
        raw = raw_text or json.dumps({"markdown": markdown, "metadata": {}})
        documents.append(
            Document(job=job, position=position, title=f"Page {position}", raw=raw, size=len(raw))
        )
    Document.objects.bulk_create(documents)
    index_documents(job.pk)
    job.documents_cached = len(documents)
    job.save()


def snippet_cells(html: str) -> list[str]:
    return re.findall(r'<small class="snippet" data-testid="snippet">(.*?)</small>', html)


def test_a_search_shows_where_the_words_matched(alice_client: Client, job: Job) -> None:
    cache(job, "Intro. " * 40 + "At last the hidden treasure. " + "Outro. " * 40, "nothing")
    html = alice_client.get(f"/jobs/{job.pk}/documents/?q=hidden+treasure").content.decode()
    [cell] = snippet_cells(html)
    assert "<mark>hidden</mark>" in cell and "<mark>treasure</mark>" in cell
    assert len(cell) < 1000  # a window around the match, not the document
    # While typing: a short last word is highlighted as the prefix it is.
    html = alice_client.get(f"/jobs/{job.pk}/documents/?q=hidden+tr").content.decode()
    [cell] = snippet_cells(html)
    assert "<mark>hidden</mark>" in cell and "<mark>treasure</mark>" in cell


def test_markers_in_the_document_text_never_highlight_what_did_not_match(
    alice_client: Client, job: Job
) -> None:
    cache(job, f"the treasure and a forged {MARK_START}fake{MARK_END} highlight")
    html = alice_client.get(f"/jobs/{job.pk}/documents/?q=treasure").content.decode()
    [cell] = snippet_cells(html)
    assert re.findall(r"<mark>(.*?)</mark>", cell) == ["treasure"]
    assert MARK_START not in html and MARK_END not in html


def test_scraped_markup_in_a_snippet_stays_text(alice_client: Client, job: Job) -> None:
    cache(job, HOSTILE)
    html = alice_client.get(f"/jobs/{job.pk}/documents/?q=treasure").content.decode()
    [cell] = snippet_cells(html)
    assert "<mark>treasure</mark>" in cell
    # Nothing of the scraped markup is markup on our page: no tag, no htmx attribute.
    assert re.findall(r"<(?!/?mark>)", cell) == []
    assert "<script" not in html.split('id="document-results"')[1]
    assert 'hx-get="/evil"' not in html and "onerror=alert(2)>" not in html


def test_the_markers_become_marks_only_around_text_that_is_escaped() -> None:
    assert marked(f"a {MARK_START}<b>{MARK_END} c") == "a <mark>&lt;b&gt;</mark> c"
    assert marked(f"{MARK_END}x{MARK_START}y") == "x<mark>y</mark>"
    assert marked("<script>") == "&lt;script&gt;"
    assert marked(f"{MARK_START}{MARK_END}") == ""


def test_snippets_are_made_for_the_rows_of_the_page_only(alice_client: Client, job: Job) -> None:
    cache(job, *[f"treasure number {n}" for n in range(30)])
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        html = alice_client.get(f"/jobs/{job.pk}/documents/?q=treasure&per_page=25").text
    assert len(snippet_cells(html)) == 25
    made = [q["sql"] for q in queries if "snippet(" in q["sql"] or "ts_headline" in q["sql"]]
    assert len(made) == 1  # one query for the page, whatever its size


def test_a_document_the_database_cannot_read_as_json_has_no_snippet(job: Job) -> None:
    # A lone surrogate escape and a NaN: Python reads them, PostgreSQL's parser does not.
    raw = '{"markdown": "treasure \\ud800 here", "n": NaN}'
    cache(job, "", raw_text=raw)
    documents = list(Document.objects.filter(job=job))
    found = snippets(documents, "treasure")
    assert set(found) <= {documents[0].pk}
    for text in found.values():
        text.encode()  # whatever came back is valid text


def test_a_search_with_no_word_makes_no_snippet(job: Job) -> None:
    cache(job, "treasure")
    assert snippets(list(Document.objects.filter(job=job)), "!!!") == {}
