"""A job's downloads through the API are the browser's, byte for byte; failed URLs as pages."""

import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from jobs import export, zipwriter
from jobs.models import Document, Job
from keys.models import ApiKey
from tests.conftest import make_documents, make_failed_urls, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e81"
FORMATS = ("zip", "jsonl", "csv", "xlsx")


@pytest.fixture
def job(key: ApiKey) -> Job:
    job = make_job(key, JOB_ID, label="Shop", status=Job.Status.COMPLETED)
    make_documents(job, 9)
    Document.objects.filter(job=job, position__in=[3, 4]).update(status_code=500, error="Boom")
    make_failed_urls(job, "https://example.test/x", "https://example.test/y")
    return job


@pytest.fixture
def still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip (and a workbook, a zip too) records when it was made (the manifest, the entries'
    times): one moment for both downloads, to compare them byte for byte."""
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    monkeypatch.setattr(export, "timezone", SimpleNamespace(now=lambda: moment))
    local = time.localtime(moment.timestamp())
    monkeypatch.setattr(zipwriter, "time", SimpleNamespace(localtime=lambda: local))


def content(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("query", ["", "?status=5xx", "?q=page&error=no"])
def test_an_export_is_the_browsers_download_byte_for_byte(
    alice_api: Client, alice_client: Client, job: Job, format: str, query: str, still_clock: None
) -> None:
    browser = alice_client.get(f"/jobs/{job.pk}/download.{format}{query}")
    api = alice_api.get(f"/api/v1/jobs/{job.pk}/export.{format}{query}")

    assert api.streaming
    assert content(api) == content(browser)
    for header in ("Content-Type", "Content-Disposition"):
        assert api[header] == browser[header]


def test_a_table_export_takes_the_columns_chosen(
    alice_api: Client, alice_client: Client, job: Job
) -> None:
    query = "?columns=url&columns=markdown&columns=position"
    api = content(alice_api.get(f"/api/v1/jobs/{job.pk}/export.csv{query}")).decode()
    assert api.splitlines()[0] == "\ufeffposition,url,markdown"
    assert api == content(alice_client.get(f"/jobs/{job.pk}/download.csv{query}")).decode()


def test_a_bad_export_query_is_a_400_in_json(alice_api: Client, job: Job) -> None:
    for path in ["export.zip?status=9xx", "export.csv?columns=password", "export.jsonl?x=1"]:
        response = alice_api.get(f"/api/v1/jobs/{job.pk}/{path}")
        assert response.status_code == 400, path
        assert response["Content-Type"] == "application/json", path
        assert response.json()["message"], path


def test_no_other_export_format(alice_api: Client, job: Job) -> None:
    response = alice_api.get(f"/api/v1/jobs/{job.pk}/export.pdf")
    assert response.status_code == 404 and "no such address" in response.json()["message"]


def test_bob_exports_nothing_of_alices(bob_api: Client, job: Job) -> None:
    for format in FORMATS:
        assert bob_api.get(f"/api/v1/jobs/{job.pk}/export.{format}").status_code == 404


def test_failed_urls_come_in_pages(alice_api: Client, bob_api: Client, job: Job) -> None:
    make_failed_urls(job, *(f"https://example.test/more/{i}" for i in range(5)), code="TIMEOUT")
    first = alice_api.get(f"/api/v1/jobs/{job.pk}/failed-urls?per_page=4").json()
    second = alice_api.get(first["next"]).json()

    urls = [item["url"] for item in first["results"] + second["results"]]
    assert urls == [
        "https://example.test/x",
        "https://example.test/y",
        *(f"https://example.test/more/{i}" for i in range(5)),
    ]
    assert second["next"] is None
    assert first["results"][2] == {
        "url": "https://example.test/more/0",
        "robots_blocked": False,
        "code": "TIMEOUT",
        "error": "",
        "id": "",
        "failed_at": None,
    }
    # More failures reported later are found from `resume`.
    make_failed_urls(job, "https://example.test/late")
    later = alice_api.get(second["resume"]).json()
    assert [item["url"] for item in later["results"]] == ["https://example.test/late"]
    assert bob_api.get(f"/api/v1/jobs/{job.pk}/failed-urls").status_code == 404
