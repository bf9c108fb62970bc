"""A lone surrogate ("half \\ud83d emoji", as JSON escapes allow) in a scraped document breaks
nothing: every page and every download shows it as U+FFFD, and no download is cut short."""

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from jobs.models import Job
from jobs.search import index_documents
from jobs.sync import sync_job
from keys.models import ApiKey
from tests.conftest import make_job
from tests.hostile import HostileFirecrawl, json_reply

KEY = "fc-surrogate0000000000000000000d83d"
HALF = "half \\ud83d emoji"  # as it travels in JSON


def document(i: int) -> str:
    return (
        f'{{"markdown":"# Page {i} {HALF}","html":"<p>{HALF}</p>","links":["https://a.example/{HALF}"],'
        f'"metadata":{{"title":"Title {i} {HALF}","sourceURL":"https://a.example/{i}",'
        f'"language":"{HALF}","contentType":"text/{HALF}","statusCode":200,"scrapeId":"s{i}"}}}}'
    )


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFirecrawl]:
    with HostileFirecrawl() as server:
        yield server


@pytest.fixture
def job(alice: Any, hostile: HostileFirecrawl) -> Job:
    body = (
        '{"success":true,"status":"completed","completed":50,"total":50,"data":['
        + ",".join(document(i) for i in range(50))
        + "]}"
    ).encode()
    remote_id = hostile.job(json_reply(body))
    hostile.reply(f"/v1/batch/scrape/{remote_id}/errors", json_reply({"errors": []}))
    key = ApiKey.objects.create(owner=alice, name="S", key=KEY, api_url=hostile.url)
    job = make_job(key, remote_id)
    sync_job(job.pk)
    index_documents(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == 50
    return job


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    content: bytes = response.content
    return content


def test_every_document_page_shows_the_text_with_a_replacement_character(
    alice_client: Client, job: Job
) -> None:
    for path in (
        f"/jobs/{job.pk}/documents/",
        f"/jobs/{job.pk}/documents/?q=half",
        f"/jobs/{job.pk}/documents/3/",
        f"/jobs/{job.pk}/documents/3/?tab=source",
        f"/jobs/{job.pk}/documents/3/?tab=html",
        f"/jobs/{job.pk}/documents/3/preview/",
        f"/jobs/{job.pk}/documents/3/markdown/",
    ):
        response = alice_client.get(path)
        assert response.status_code == 200, path
        assert "half \ufffd emoji" in body(response).decode(), path


def test_every_download_is_whole_and_readable(alice_client: Client, job: Job) -> None:
    archive = zipfile.ZipFile(io.BytesIO(body(alice_client.get(f"/jobs/{job.pk}/download.zip"))))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"]["inZip"] == 50
    assert "half \ufffd emoji" in archive.read("markdown/3-title-3-half-emoji.md").decode()
    lines = body(alice_client.get(f"/jobs/{job.pk}/download.jsonl")).decode().splitlines()
    assert len(lines) == 50 and json.loads(lines[3])["markdown"] == "# Page 3 half \ud83d emoji"
    rows = list(
        csv.reader(io.StringIO(body(alice_client.get(f"/jobs/{job.pk}/download.csv")).decode()))
    )
    assert len(rows) == 51 and "half \ufffd emoji" in rows[4]
