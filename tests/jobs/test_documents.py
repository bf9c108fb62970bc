"""The document browser: the list (pages, filters, search, sorts, 400s) and a document's page."""

import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from jobs import pagination
from jobs.models import Document, Job
from jobs.pagination import DocumentPaginator
from jobs.search import index_documents
from keys.models import ApiKey
from tests.conftest import make_documents, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"


@pytest.fixture
def job(key: ApiKey) -> Job:
    return make_job(key, JOB_ID, label="Docs", status=Job.Status.COMPLETED)


def url(job: Job, query: str = "") -> str:
    return f"/jobs/{job.pk}/documents/{query}"


def positions(response: Any) -> list[int]:
    """The positions of the rows shown, in order (the first cell of each body row)."""
    html = response.content.decode()
    return [int(n.replace(",", "")) for n in re.findall(r'<td class="num pos">([\d,]+)</td>', html)]


def add(job: Job, position: int, **fields: Any) -> Document:
    raw = fields.pop("raw", {"markdown": "", "metadata": {}})
    document = Document.objects.create(
        job=job, position=position, raw=json.dumps(raw), size=len(json.dumps(raw)), **fields
    )
    index_documents(job.pk)
    # As the sync does: the cached count covers positions 0..count-1.
    job.documents_cached = job.documents.count()
    job.save(update_fields=["documents_cached"])
    return document


# The list -----------------------------------------------------------------------------------


def test_it_shows_fifty_documents_per_page_with_pager_links(alice_client: Client, job: Job) -> None:
    make_documents(job, 120)
    response = alice_client.get(url(job))
    assert response.status_code == 200
    assert positions(response) == list(range(50))
    assert b"Documents 1\xe2\x80\x9350 of 120" in response.content
    assert b'rel="next"' in response.content and b">Next</a>" in response.content
    assert b">Previous</a>" not in response.content
    assert b'aria-current="page">1<' in response.content


def test_it_pages_across_boundaries_without_gaps_or_repeats(alice_client: Client, job: Job) -> None:
    make_documents(job, 101)
    seen: list[int] = []
    for page in (1, 2, 3, 4, 5):
        seen += positions(alice_client.get(url(job, f"?per_page=25&page={page}")))
    assert seen == list(range(101))
    last = alice_client.get(url(job, "?per_page=25&page=5"))
    assert positions(last) == [100]
    assert b">Previous</a>" in last.content and b">Next</a>" not in last.content


def test_it_offers_25_50_and_100_per_page(alice_client: Client, job: Job) -> None:
    make_documents(job, 130)
    assert len(positions(alice_client.get(url(job, "?per_page=100")))) == 100
    assert len(positions(alice_client.get(url(job, "?per_page=25")))) == 25
    # The select shows the size in force, including the default.
    assert '<option value="50" selected>' in alice_client.get(url(job)).content.decode()


def test_a_page_past_the_end_is_not_found(alice_client: Client, job: Job) -> None:
    make_documents(job, 10)
    response = alice_client.get(url(job, "?page=2"))
    assert response.status_code == 404
    assert "There is no page 2: this list has 1 page." in response.text


def test_an_empty_job_shows_an_empty_first_page(alice_client: Client, job: Job) -> None:
    response = alice_client.get(url(job))
    assert response.status_code == 200
    assert b"No documents cached yet." in response.content


@pytest.mark.parametrize(
    "query",
    [
        "?page=0",
        "?page=-1",
        "?page=abc",
        "?per_page=10",
        "?per_page=1000",
        "?sort=raw",
        "?sort=position;DROP",
        "?status=6xx",
        "?status=200",
        "?error=maybe",
        "?q=" + "x" * 201,
        "?page=1&page=2",
        "?stauts=4xx",
    ],
)
def test_it_rejects_invalid_query_strings_with_a_readable_400(
    alice_client: Client, job: Job, query: str
) -> None:
    response = alice_client.get(url(job, query))
    assert response.status_code == 400
    assert b'data-testid="bad-request"' in response.content


def test_it_filters_by_status_class_and_errors(alice_client: Client, job: Job) -> None:
    add(job, 0, status_code=200, url="https://a.test/ok")
    add(job, 1, status_code=404, url="https://a.test/missing", error="Not Found")
    add(job, 2, status_code=301, url="https://a.test/moved")
    add(job, 3, status_code=503, url="https://a.test/down", error="Unavailable")
    add(job, 4, status_code=None, url="https://a.test/unknown")
    assert positions(alice_client.get(url(job, "?status=4xx"))) == [1]
    assert positions(alice_client.get(url(job, "?status=3xx"))) == [2]
    assert positions(alice_client.get(url(job, "?status=5xx"))) == [3]
    assert positions(alice_client.get(url(job, "?error=yes"))) == [1, 3]
    assert positions(alice_client.get(url(job, "?error=no"))) == [0, 2, 4]
    assert positions(alice_client.get(url(job, "?status=5xx&error=no"))) == []


def test_it_searches_title_url_and_text(alice_client: Client, job: Job) -> None:
    add(job, 0, title="Pricing plans", url="https://shop.test/pricing")
    add(job, 1, title="About us", url="https://shop.test/about", raw={"markdown": "We sell kayaks"})
    add(job, 2, title="Contact", url="https://shop.test/contact-form")
    assert positions(alice_client.get(url(job, "?q=pricing"))) == [0]
    assert positions(alice_client.get(url(job, "?q=KAYAKS"))) == [1]
    assert positions(alice_client.get(url(job, "?q=contact-form"))) == [2]
    assert positions(alice_client.get(url(job, "?q=shop"))) == [0, 1, 2]
    assert positions(alice_client.get(url(job, "?q=kay"))) == [1]  # prefix while typing


def test_a_search_of_only_punctuation_finds_nothing_without_error(
    alice_client: Client, job: Job
) -> None:
    make_documents(job, 3)
    for query in ('?q="', "?q=*", "?q=%22%29%28OR", "?q=-", "?q=NEAR(", "?q=%3A%3A"):
        response = alice_client.get(url(job, query))
        assert response.status_code == 200, query
    assert positions(alice_client.get(url(job, "?q=%22%29%28OR"))) == []


def test_it_sorts_by_url_title_and_status_with_position_as_tie_break(
    alice_client: Client, job: Job
) -> None:
    add(job, 0, title="b", url="https://c.test", status_code=500)
    add(job, 1, title="a", url="https://a.test", status_code=200)
    add(job, 2, title="c", url="https://b.test", status_code=200)
    assert positions(alice_client.get(url(job, "?sort=url"))) == [1, 2, 0]
    assert positions(alice_client.get(url(job, "?sort=-url"))) == [0, 2, 1]
    assert positions(alice_client.get(url(job, "?sort=title"))) == [1, 0, 2]
    assert positions(alice_client.get(url(job, "?sort=status"))) == [1, 2, 0]
    assert positions(alice_client.get(url(job, "?sort=-position"))) == [2, 1, 0]


def test_pager_links_keep_the_filters_and_work_without_javascript(
    alice_client: Client, job: Job
) -> None:
    make_documents(job, 60)
    response = alice_client.get(url(job, "?q=page&per_page=25&sort=title"))
    html = response.content.decode()
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert "q=page" in href and "per_page=25" in href and "sort=title" in href and "page=2" in href
    assert f'hx-get="{next_link.group(1)}"' in html and 'hx-push-url="true"' in html
    assert alice_client.get(href).status_code == 200


def test_an_htmx_request_gets_only_the_results_and_history_restore_the_page(
    alice_client: Client, job: Job
) -> None:
    make_documents(job, 3)
    partial = alice_client.get(url(job), headers={"HX-Request": "true"})
    assert partial.content.lstrip().startswith(b'<section id="document-results"')
    assert "HX-Request" in partial["Vary"]
    restore = alice_client.get(
        url(job), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert b"<html" in restore.content


def test_a_row_shows_the_final_and_requested_url_and_markers(
    alice_client: Client, job: Job
) -> None:
    add(job, 0, url="https://a.test/final", source_url="https://a.test/asked", error="Timed out")
    add(job, 1, url="https://a.test/warn", source_url="https://a.test/warn", warning="Slow")
    html = alice_client.get(url(job)).content.decode()
    assert "https://a.test/final" in html and "requested https://a.test/asked" in html
    assert "requested https://a.test/warn" not in html
    assert "✖ error" in html and "⚠ warning" in html


def test_the_query_count_does_not_depend_on_the_page(
    alice_client: Client, job: Job, django_assert_num_queries: Any
) -> None:
    make_documents(job, 300)
    counts = []
    for query in ("?page=1", "?page=6", "?q=page&page=3&sort=url", "?status=2xx&page=6"):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(url(job, query)).status_code == 200
        counts.append(len(captured))
    # Position order needs no COUNT (the job knows its cached count); filters do, and a search
    # also counts the documents not indexed yet and makes the page's snippets.
    unfiltered, searched, filtered = counts[:2], counts[2], counts[3]
    assert len(set(unfiltered)) == 1
    assert unfiltered[0] == filtered - 1 == searched - 3
    with django_assert_num_queries(counts[0]):
        alice_client.get(url(job, "?page=2"))


# Past COUNT_CAP matches a selection is not counted on every view (lowered to 20 here).


@pytest.fixture
def sixty(job: Job, monkeypatch: Any) -> Job:
    monkeypatch.setattr(pagination, "COUNT_CAP", 20)
    make_documents(job, 60)  # "page" is in every one of them
    return job


def count_text(response: Any) -> str:
    match = re.search(r'data-testid="result-count">([^<]*)<', response.text)
    assert match is not None
    return match.group(1)


def test_a_selection_past_the_cap_says_more_than_and_pages_on(
    alice_client: Client, sixty: Job
) -> None:
    first = alice_client.get(url(sixty, "?q=page&per_page=25"))
    assert positions(first) == list(range(25))
    assert count_text(first) == "Documents 1\u201325 of more than 25 matching"
    assert b'rel="next"' in first.content and b">Previous</a>" not in first.content
    # The last page is unknown: no maximum for the jump, and a gap after the last known page.
    assert 'name="page" min="1" value="1"' in first.text and "of at least 2" in first.text
    assert re.search(r">2</a>\s*<span class=\"gap\">", first.text)

    second = alice_client.get(url(sixty, "?q=page&per_page=25&page=2"))
    assert positions(second) == list(range(25, 50))
    assert count_text(second) == "Documents 26\u201350 of more than 50 matching"
    assert b'rel="prev"' in second.content and b'rel="next"' in second.content


def test_the_last_page_of_a_big_selection_knows_its_count(alice_client: Client, sixty: Job) -> None:
    last = alice_client.get(url(sixty, "?status=2xx&per_page=25&page=3"))
    assert positions(last) == list(range(50, 60))
    assert count_text(last) == "Documents 51\u201360 of 60 matching"
    assert b'rel="prev"' in last.content and b">Next</a>" not in last.content
    assert 'max="3"' in last.text and "at least" not in last.text


def test_a_page_past_the_end_of_a_big_selection_is_not_found(
    alice_client: Client, sixty: Job
) -> None:
    response = alice_client.get(url(sixty, "?q=page&per_page=25&page=4"))
    assert response.status_code == 404
    assert "There is no page 4: this list has 3 pages." in response.text
    # Back to the same selection, without the page.
    assert f'href="{url(sixty)}?q=page&amp;per_page=25">First page of this list' in response.text


def test_pages_past_the_cap_work_without_javascript(alice_client: Client, sixty: Job) -> None:
    html = alice_client.get(url(sixty, "?q=page&per_page=25")).text
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert next_link is not None
    assert f'hx-get="{next_link.group(1)}"' in html
    assert positions(alice_client.get(next_link.group(1).replace("&amp;", "&"))) == list(
        range(25, 50)
    )
    # The jump to any page is a plain GET: a page past the end must show its 404 page.
    jump = re.search(r'<form method="get" [^>]*class="jump"[^>]*>', html)
    assert jump is not None and "hx-get" not in jump.group(0)


def test_a_big_selection_is_counted_only_up_to_the_cap(alice_client: Client, sixty: Job) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for query in ("?q=page", "?q=page&page=2", "?status=2xx", "?status=2xx&page=2", "?q=page+1"):
        with CaptureQueriesContext(connection) as captured:
            assert alice_client.get(url(sixty, query)).status_code == 200
        counts.append(len(captured))
        # The selection's COUNT, not the search's count of documents not yet indexed.
        selection = [
            q["sql"]
            for q in captured
            if "COUNT(*)" in q["sql"] and "search_indexed" not in q["sql"]
        ]
        assert selection and all("LIMIT 21" in sql for sql in selection), selection
    # Above or below the cap, first or later page: the same queries (a search counts the
    # documents not indexed yet as well, and makes the page's snippets).
    searches, filters = counts[0:2] + counts[4:], counts[2:4]
    assert len(set(searches)) == 1 and len(set(filters)) == 1
    assert searches[0] == filters[0] + 2


def test_page_links_show_a_gap_after_the_last_known_page(job: Job) -> None:
    everything = DocumentPaginator(job.documents.all(), 1, ["position"], count=21)
    gap = everything.ELLIPSIS
    assert everything.page_links(1) == [1, 2, 3, gap, 21]
    assert DocumentPaginator(job.documents.all(), 1, ["position"], count=3).page_links(3) == [
        1,
        2,
        3,
    ]
    capped = DocumentPaginator(job.documents.all(), 1, ["position"])
    capped.capped = True
    capped.count = 31
    assert capped.page_links(30) == [1, gap, 28, 29, 30, 31, gap]


def test_list_rows_never_load_the_raw_document(alice_client: Client, job: Job) -> None:
    make_documents(job, 5)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        alice_client.get(url(job))
    assert not any('"raw"' in query["sql"] for query in captured)


def test_it_rejects_other_users_job(bob_client: Client, job: Job) -> None:
    make_documents(job, 3)
    assert bob_client.get(url(job)).status_code == 404
    assert bob_client.get(url(job, "0/")).status_code == 404
    assert bob_client.get(url(job, "0/preview/")).status_code == 404
    assert bob_client.get(url(job, "0/markdown/")).status_code == 404


# One document -------------------------------------------------------------------------------


def test_previous_and_next_stay_within_the_lists_filters(alice_client: Client, job: Job) -> None:
    for position, code in enumerate([404, 200, 404, 200, 404]):
        add(job, position, title=f"Doc {position}", status_code=code)
    html = alice_client.get(url(job, "2/?status=4xx&page=1")).content.decode()
    assert f'rel="prev" href="/jobs/{job.pk}/documents/0/?status=4xx&amp;page=1"' in html
    assert f'rel="next" href="/jobs/{job.pk}/documents/4/?status=4xx&amp;page=1"' in html
    assert (
        f'href="/jobs/{job.pk}/documents/?status=4xx&amp;page=1">Back to the filtered list' in html
    )
    # Tabs keep the filters too, and the list's rows carry them to the document.
    assert "?status=4xx&amp;page=1&amp;tab=source" in html
    listing = alice_client.get(url(job, "?status=4xx")).content.decode()
    assert f'href="/jobs/{job.pk}/documents/2/?status=4xx"' in listing
    assert alice_client.get(url(job, "2/?status=6xx")).status_code == 400


def test_a_document_page_shows_its_facts_metadata_links_and_neighbours(
    alice_client: Client, job: Job
) -> None:
    raw = {
        "markdown": "# Hello\n\nSome **bold** text and [a link](https://example.test/x).",
        "html": "<h1>Hello</h1>",
        "links": ["https://example.test/x", "https://example.test/y"],
        "screenshot": "https://cdn.test/shot.png",
        "metadata": {"title": "Hello", "language": "en", "keywords": ["a", "b"], "og": {"x": 1}},
    }
    add(job, 0, title="First")
    add(job, 5, title="Hello", url="https://example.test/", status_code=200, raw=raw)
    add(job, 9, title="Last")
    html = alice_client.get(url(job, "5/")).content.decode()
    assert '<h1 class="document-title" dir="auto">Hello</h1>' in html
    assert "<strong>bold</strong>" in html
    assert (
        'href="https://example.test/x" target="_blank" rel="noopener noreferrer nofollow"' in html
    )
    assert '<th scope="row">keywords</th><td dir="auto">a, b</td>' in html
    assert "{&quot;x&quot;: 1}" in html
    assert "https://example.test/y" in html
    assert (
        'href="https://cdn.test/shot.png"' in html and "screenshot URL (expires upstream)" in html
    )
    assert f'href="/jobs/{job.pk}/documents/0/"' in html
    assert f'href="/jobs/{job.pk}/documents/9/"' in html
    assert f'href="/jobs/{job.pk}/documents/5/markdown/"' in html


def test_the_source_and_html_tabs_show_escaped_text_and_a_sandboxed_preview(
    alice_client: Client, job: Job
) -> None:
    add(job, 0, raw={"markdown": "# Title <b>x</b>", "html": "<p onclick='x()'>Hi</p>"})
    source = alice_client.get(url(job, "0/?tab=source")).content.decode()
    assert "# Title &lt;b&gt;x&lt;/b&gt;" in source
    html_tab = alice_client.get(url(job, "0/?tab=html")).content.decode()
    assert "&lt;p onclick=&#x27;x()&#x27;&gt;Hi&lt;/p&gt;" in html_tab
    assert '<iframe class="preview" sandbox="" referrerpolicy="no-referrer"' in html_tab
    assert alice_client.get(url(job, "0/?tab=nope")).status_code == 400


def test_the_preview_has_its_own_strict_policy(alice_client: Client, job: Job) -> None:
    add(job, 0, raw={"html": "<script>alert(1)</script><p>Hi</p>"})
    response = alice_client.get(url(job, "0/preview/"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy and "allow-same-origin" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_a_document_without_html_has_no_preview(alice_client: Client, job: Job) -> None:
    add(job, 0, raw={"markdown": "x"})
    assert alice_client.get(url(job, "0/preview/")).status_code == 404


def test_download_md_is_an_attachment_with_a_safe_name(alice_client: Client, job: Job) -> None:
    add(job, 7, title="../../etc/passwd CON", raw={"markdown": "# Hi"})
    response = alice_client.get(url(job, "7/markdown/"))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="7-etc-passwd-con.md"'
    assert response.content == b"# Hi"


def test_a_missing_document_is_not_found(alice_client: Client, job: Job) -> None:
    assert alice_client.get(url(job, "3/")).status_code == 404


# Hostile content ----------------------------------------------------------------------------

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="javascript:alert(2)">js</a>',
    '<a hx-get="/keys/" hx-trigger="load">htmx</a>',
    '<div hx-post="/jobs/1/delete/" hx-trigger="load">del</div>',
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="https://evil.invalid/"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<p style="width: expression(alert(1))">css</p>',
    "</textarea></title><script>alert('breakout')</script>",
    "<div><p><b>broken <i>html",
    "[relative](/keys/) [proto](//evil.invalid/x)",
    "{{ request.user }} {% csrf_token %}",
    "مرحبا \u202eexe.txt\u202c שלום \U0001d54f 🙂",
    "x" * 200_000,
]
OUR_HX = {
    *("hx-get", "hx-target", "hx-swap", "hx-push-url", "hx-trigger", "hx-headers", "hx-disable"),
    # The search box replaces the history entry and shares the form's request queue.
    *("hx-replace-url", "hx-include", "hx-sync", "hx-swap-oob"),
}


class Audit(HTMLParser):
    """Collects what would run or navigate: scripts, on* and hx-* attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.disabled_depth = 0
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        values = dict(attrs)
        if tag == "script" and "nonce" not in names:
            self.problems.append(f"script without nonce: {attrs}")
        if tag in {"iframe", "object", "embed", "style", "svg", "img"} and tag != "iframe":
            self.problems.append(f"<{tag}>")
        if tag == "iframe" and values.get("sandbox") != "":
            self.problems.append(f"unsandboxed iframe: {attrs}")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"{tag} {name}={value}")
            if name.startswith("hx-") and name not in OUR_HX:
                self.problems.append(f"{tag} {name}={value}")
            dangerous = ("javascript:", "data:", "vbscript:", "//")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                dangerous
            ):
                self.problems.append(f"{tag} {name}={value}")
            if name == "hx-trigger" and value == "load":
                self.problems.append(f"{tag} hx-trigger=load")


def audit(html: str) -> list[str]:
    # The page's own chrome (base.html) is not scraped content: audit what <main> holds.
    if "<main" in html:
        html = html[html.index("<main") : html.index("</main>")]
    parser = Audit()
    parser.feed(html)
    return parser.problems


@pytest.fixture
def hostile_job(job: Job) -> Job:
    for n, text in enumerate(HOSTILE):
        raw = {
            "markdown": f"# {text}\n\n{text}\n\n- {text}",
            "html": f"<html><body>{text}<a href='javascript:alert(3)'>x</a></body></html>",
            "links": [text, "javascript:alert(4)"],
            "screenshot": "javascript:alert(5)",
            "metadata": {"title": text[:500], "description": text, "statusCode": 200},
        }
        add(
            job,
            n,
            title=text[:1000],
            url=f"https://evil.test/{text[:300]}",
            source_url=f"javascript:alert({n})",
            error=text[:300],
            warning=text[:300],
            raw=raw,
        )
    return job


def test_hostile_content_is_inert_in_the_list(alice_client: Client, hostile_job: Job) -> None:
    response = alice_client.get(url(hostile_job, "?per_page=25"))
    assert response.status_code == 200
    html = response.content.decode()
    assert audit(html) == []
    assert "<script>alert" not in html


def test_hostile_content_is_inert_in_every_tab_of_every_document(
    alice_client: Client, hostile_job: Job
) -> None:
    for n in range(len(HOSTILE)):
        for tab in ("markdown", "source", "html"):
            response = alice_client.get(url(hostile_job, f"{n}/?tab={tab}"))
            assert response.status_code == 200
            html = response.content.decode()
            assert audit(html) == [], (n, tab)
            assert "<script>alert" not in html
        markdown_html = alice_client.get(url(hostile_job, f"{n}/")).content.decode()
        scraped = markdown_html.split('<div class="scraped" hx-disable>', 1)
        assert len(scraped) == 2, "scraped content sits inside the hx-disable container"


def test_the_preview_serves_hostile_html_only_under_a_sandbox_policy(
    alice_client: Client, hostile_job: Job
) -> None:
    response = alice_client.get(url(hostile_job, "0/preview/"))
    assert b"<script>alert(1)</script>" in response.content  # served as is, but:
    policy = response["Content-Security-Policy"]
    directives = {part.split()[0]: part.split()[1:] for part in policy.split("; ")}
    assert directives["default-src"] == ["'none'"]
    assert directives["sandbox"] == []
    assert "script-src" not in directives


def test_a_huge_line_renders_in_the_page(alice_client: Client, hostile_job: Job) -> None:
    n = HOSTILE.index("x" * 200_000)
    response = alice_client.get(url(hostile_job, f"{n}/?tab=source"))
    assert response.status_code == 200 and b"x" * 200_000 in response.content


def test_the_audit_itself_catches_live_payloads() -> None:
    # Guards the guard: the hostile tests above would pass vacuously if audit() saw nothing.
    assert audit("<main><img src=x onerror=alert(1)></main>")
    assert audit('<main><a href="javascript:alert(1)">x</a></main>')
    assert audit('<main><div hx-post="/x">x</div></main>')
    assert audit("<main><script>alert(1)</script></main>")


def test_a_search_says_how_much_of_the_job_it_covers(alice_client: Client, job: Job) -> None:
    make_documents(job, 3)
    Document.objects.bulk_create(
        Document(job=job, position=n, title=f"Page {n}", raw="{}") for n in (3, 4)
    )
    job.documents_cached = 5
    job.save(update_fields=["documents_cached"])
    response = alice_client.get(url(job, "?q=page"))
    assert positions(response) == [0, 1, 2]
    assert "Search covers 3 of 5 documents; the rest are being indexed." in response.text
    assert "search-coverage" not in alice_client.get(url(job)).text  # no search, no note
    index_documents(job.pk)
    response = alice_client.get(url(job, "?q=page"))
    assert positions(response) == [0, 1, 2, 3, 4] and "search-coverage" not in response.text
