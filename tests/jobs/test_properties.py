"""Hostile input, property-based (hypothesis): the batch-id parser, zip file names, the query-string
forms (and the views behind them), `next` values and API URLs that try to reach other hosts.
"""

import io
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from firecrawl_api.client import FirecrawlClient
from firecrawl_api.ids import parse_job_reference
from firecrawl_api.text import clean_text
from jobs import export
from jobs.forms.dashboard import JobFilterForm
from jobs.forms.documents import DocumentQueryForm
from jobs.models import Document, Job
from keys.allowlist import allowed_api_url
from keys.models import ApiKey
from tests.conftest import SLOW_MACHINE, make_documents, make_job
from tests.hostile import HostileFirecrawl, json_reply, status_body

WITH_DB = settings(
    max_examples=60, suppress_health_check=[*SLOW_MACHINE, HealthCheck.function_scoped_fixture]
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
hostile_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300
) | st.sampled_from(
    ["../../etc/passwd", "..\\..\\boot.ini", "CON", "nul.txt", "\u202eexe.txt", "a/b\\c:d*e?f",
     "<script>alert(1)</script>", "' OR 1=1 --", "\x00\x01", "😀" * 50, "-" * 80, " .", ""]
)  # fmt: skip


# The batch-id parser ---------------------------------------------------------------------------


def parse_job_id(text: str) -> str | None:
    reference = parse_job_reference(text)
    return reference.id if reference else None


@given(hostile_text)
@example("0198F4B2-6C1E-7C3A-9F1E-2B8D4A6C0E11")
@example("deadbeef0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11")
def test_parse_job_id_returns_a_canonical_uuid_found_in_the_text_or_none(text: str) -> None:
    found = parse_job_id(text)
    if found is not None:
        assert UUID_RE.match(found)
        assert found in text.lower()
        assert parse_job_id(found) == found


@given(
    st.uuids(),
    st.sampled_from(["", " ", "https://api.firecrawl.dev/v1/batch/scrape/", "id: ", "\n"]),
    st.sampled_from(["", "/", "?skip=100", " done", "\t", "/errors"]),
    st.booleans(),
)
def test_parse_job_id_finds_any_uuid_in_whatever_was_pasted_around_it(
    value: uuid.UUID, before: str, after: str, upper: bool
) -> None:
    text = str(value).upper() if upper else str(value)
    assert parse_job_id(before + text + after) == str(value)


@given(st.uuids(), st.text(alphabet="0123456789abcdefABCDEFxyz-", min_size=1, max_size=3))
def test_parse_job_id_rejects_a_uuid_shaped_slice_of_a_longer_token(
    value: uuid.UUID, glue: str
) -> None:
    # A longer hex run (a hash, a key) is not an id, whichever side it continues on.
    assert parse_job_id(glue + str(value)) is None
    assert parse_job_id(str(value) + glue) is None


# Zip file names ---------------------------------------------------------------------------------

SAFE_NAME = re.compile(r"^[0-9]+-[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z]+$")


@given(st.integers(min_value=0, max_value=10**9), hostile_text, hostile_text)
def test_document_file_names_are_safe_bounded_and_unique_by_position(
    position: int, title: str, url: str
) -> None:
    name = export.document_filename(position, title, url, "md")
    assert SAFE_NAME.match(name), name
    assert len(name) <= len(str(position)) + 1 + export.SLUG_MAX + 3
    stem = name.split("-", 1)[1].rsplit(".", 1)[0]
    assert stem not in export.WINDOWS_RESERVED
    assert name.startswith(f"{position}-")  # two documents never share a name


@given(hostile_text)
def test_job_file_names_are_safe(label: str) -> None:
    job = Job(label=label, remote_id=uuid.UUID(int=7))
    name = export.job_filename(job, "zip")
    assert re.match(r"^[a-z0-9-]+\.zip$", name) and not name.startswith("-"), name


@pytest.mark.django_db
@WITH_DB
@given(titles=st.lists(hostile_text, min_size=1, max_size=8))
def test_a_zip_of_hostile_titles_has_only_safe_distinct_entries(
    key: ApiKey, titles: list[str]
) -> None:
    import json
    import zipfile

    Job.objects.all().delete()
    job = make_job(key, str(uuid.uuid4()), status="completed", fully_cached=True)
    make_documents(job, len(titles))
    for position, title in enumerate(titles):
        raw = {"markdown": "m", "html": "<p>h</p>", "metadata": {"title": title}}
        Document.objects.filter(job=job, position=position).update(
            title=clean_text(title), raw=json.dumps(raw)
        )
    data = b"".join(export.zip_stream(job, job.documents.all()))
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == len(set(names)) == 3 + 2 * len(titles)
    for name in names:
        folder, _, file = name.rpartition("/")
        assert folder in ("", "markdown", "html") and ".." not in name and "\\" not in name
        assert folder == "" or SAFE_NAME.match(file), name


# Query-string forms and their views -----------------------------------------------------------

query_values = st.one_of(
    hostile_text, st.integers().map(str), st.sampled_from(["", "0", "-1", "1e9", "2", "4xx",
    "scraping", "yes", "no", "-title", "url", "99999999999999999999", "1.5", "None"]),
)  # fmt: skip
query_names = st.sampled_from(
    ["status", "page", "q", "error", "sort", "per_page", "tab", "stauts", "page[]", ""]
)
queries = st.lists(st.tuples(query_names, query_values), max_size=6)


@given(queries)
def test_the_job_filter_form_never_crashes_and_keeps_choices(pairs: list[tuple[str, str]]) -> None:
    from django.http import QueryDict

    form = JobFilterForm(QueryDict(urlencode(pairs)))
    if form.is_valid():
        assert form.cleaned_data["status"] in {"", *Job.Status.values}


@given(queries)
def test_the_documents_form_never_crashes_and_accepts_only_known_values(
    pairs: list[tuple[str, str]],
) -> None:
    from django.http import QueryDict

    form = DocumentQueryForm(QueryDict(urlencode(pairs)))
    if form.is_valid():
        assert form.sort_key in {"position", "-position", "url", "-url", "title", "-title",
                                 "status", "-status"}  # fmt: skip
        assert form.page_size in (25, 50, 100) and form.page_number >= 1
        assert not form.unknown
    else:
        assert form.error_text()


@pytest.mark.django_db
@WITH_DB
@given(pairs=queries)
def test_the_query_string_views_answer_200_400_or_404_never_500(
    alice_client: Client, key: ApiKey, pairs: list[tuple[str, str]]
) -> None:
    job = Job.objects.filter(owner=key.owner).first()
    if job is None:
        job = make_job(key, str(uuid.uuid4()), status="completed")
        make_documents(job, 30)
    query = "?" + urlencode(pairs)
    for path in (
        "/",
        f"/jobs/{job.pk}/",
        f"/jobs/{job.pk}/documents/",
        f"/jobs/{job.pk}/documents/3/",
    ):
        response = alice_client.get(path + query)
        assert response.status_code in (200, 400, 404), (path + query, response.status_code)
    response = alice_client.get(f"/jobs/{job.pk}/download.csv" + query)
    assert response.status_code in (200, 400)


# `next` and API URLs that try to reach other hosts ----------------------------------------------

hosts = st.sampled_from(
    ["http://evil.invalid", "https://169.254.169.254", "http://localhost:3002", "file://",
     "javascript:", "//evil.invalid", "http://user:pass@evil.invalid:9", "", "gopher://x"]
)  # fmt: skip


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as server:
        yield server


@settings(suppress_health_check=[*SLOW_MACHINE, HealthCheck.function_scoped_fixture])
@given(
    hosts,
    st.one_of(st.integers(min_value=-5, max_value=10**6).map(str), hostile_text),
    st.one_of(st.none(), st.integers(), hostile_text, st.lists(st.integers(), max_size=2)),
)
def test_next_never_chooses_the_host_of_the_following_request(
    hostile: HostileFirecrawl, host: str, skip: str, junk: Any
) -> None:
    next_value = f"{host}/v1/batch/scrape/{uuid.uuid4()}?skip={skip}" if junk is None else junk
    job_id = hostile.job(json_reply(status_body(status="scraping", total=9, next=next_value)))
    hostile.hits.clear()
    with FirecrawlClient(hostile.url, "fc-k", max_retries=0) as client:
        page = client.job_status(job_id, skip=0, kind="batch")
        assert page.next_skip is None or page.next_skip >= 0
        if page.next_skip is not None:
            # Were the host of `next` used, this would fail to connect or leave our server.
            client.job_status(job_id, skip=page.next_skip, kind="batch")
    expected = 1 if page.next_skip is None else 2
    assert [path.partition("?")[0] for _, path, _ in hostile.hits] == [
        f"/v1/batch/scrape/{job_id}"
    ] * expected


@given(
    st.one_of(
        hosts.map(lambda host: host + "/"),
        st.sampled_from(
            [
                "https://api.firecrawl.dev.evil.invalid",
                "https://api.firecrawl.dev@evil.invalid",
                "https://evil.invalid/https://api.firecrawl.dev",
                "https://api.firecrawl.dev:444",
                "http://api.firecrawl.dev",
                "https://api.firecrawl.dev/../admin",
                "https://api.firecrawl.dev#@evil.invalid",
                "https://api.firecrawl.dev\\@evil.invalid",
            ]
        ),
        st.text(max_size=60).map(lambda t: "https://api.firecrawl.dev" + t),
    )
)
def test_only_the_configured_api_urls_are_accepted(url: str) -> None:
    from django.test import override_settings

    with override_settings(FIRECRAWL_API_URLS=["https://api.firecrawl.dev"]):
        if allowed_api_url(url):
            assert url.rstrip("/") == "https://api.firecrawl.dev"
    with override_settings(FIRECRAWL_API_URLS=["*"]):
        if allowed_api_url(url):
            assert urlsplit(url).scheme in ("http", "https")
