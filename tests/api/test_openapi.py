"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1, made from the code (its
query parameters from the very forms that validate them), public; and the docs page, served
from the app's own static files."""

import re
from typing import Any

import jsonschema_rs
import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from schemathesis.specs.openapi.definitions import OPENAPI_31

from jobs.forms.dashboard import NEEDS_ATTENTION
from jobs.forms.documents import SORTS, STATUS_FILTERS
from jobs.models import Job
from tests.conftest import make_job


@pytest.fixture
def schema(client: Client, db: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }


def test_it_is_a_valid_openapi_31_document(schema: dict[str, Any]) -> None:
    assert schema["openapi"] == "3.1.0"
    jsonschema_rs.validator_for(OPENAPI_31).validate(schema)
    assert schema["components"]["securitySchemes"] == {
        "TokenAuth": {"type": "http", "scheme": "bearer"}
    }


def test_it_holds_every_operation_of_the_contract(schema: dict[str, Any]) -> None:
    found = set(operations(schema))
    base = "/api/v1/jobs/{job_id}"
    assert {
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
        ("GET", base),
        ("DELETE", base),
        ("GET", f"{base}/documents"),
        ("GET", f"{base}/documents/{{position}}"),
        ("GET", f"{base}/documents/{{position}}/screenshots"),
        ("GET", f"{base}/documents/{{position}}/screenshots/{{shot}}"),
        ("GET", f"{base}/failed-urls"),
        ("GET", f"{base}/export.zip"),
        ("GET", f"{base}/export.jsonl"),
        ("GET", f"{base}/export.csv"),
        ("GET", f"{base}/export.xlsx"),
        ("POST", "/api/v1/start/batch"),
        ("POST", "/api/v1/start/crawl"),
        ("POST", f"{base}/retry"),
    } == found


def test_every_operation_needs_a_token_and_documents_its_errors(schema: dict[str, Any]) -> None:
    for (method, path), operation in operations(schema).items():
        assert operation["security"] == [{"TokenAuth": []}], path
        codes = set(operation["responses"])
        assert {"400", "401", "429"} <= codes, (method, path)
        if method != "GET":
            assert "403" in codes, (method, path)
        if "{job_id}" in path:
            assert "404" in codes, (method, path)
        error = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorOut"}


def test_query_parameters_are_those_the_forms_accept(schema: dict[str, Any]) -> None:
    documents = schema["paths"]["/api/v1/jobs/{job_id}/documents"]["get"]
    parameters = {p["name"]: p["schema"] for p in documents["parameters"]}
    assert parameters["status"]["enum"] == list(STATUS_FILTERS)
    assert parameters["sort"]["enum"] == list(SORTS)
    assert parameters["per_page"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert parameters["q"] == {"type": "string", "maxLength": 200}
    assert parameters["fields"]["enum"] == ["summary", "full"]
    jobs = schema["paths"]["/api/v1/jobs"]["get"]
    status = next(p for p in jobs["parameters"] if p["name"] == "status")
    # The jobs list's own choices: Needs attention, then Firecrawl's statuses.
    assert status["schema"]["enum"] == [NEEDS_ATTENTION, *Job.Status.values]


def test_the_document_and_the_docs_page_are_public_and_set_no_cookie(
    client: Client, db: Any
) -> None:
    for path in ("/api/v1/openapi.json", "/api/v1/docs"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.cookies and "Cookie" not in response.get("Vary", "")


def test_the_docs_page_loads_only_the_apps_own_static_files(client: Client, db: Any) -> None:
    html = client.get("/api/v1/docs").content.decode()
    assets = re.findall(r'<(?:script|link|img)\b[^>]*?(?:src|href)="(?!data:)([^"]+)"', html)
    assert len(assets) == 3 and all(asset.startswith("/static/") for asset in assets), assets
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"validatorUrl": null' in html  # Swagger UI would fetch a badge from swagger.io


def test_an_empty_filter_is_no_filter_and_the_document_says_so(
    schema: dict[str, Any], alice_api: Client, key: Any
) -> None:
    documents = schema["paths"]["/api/v1/jobs/{job_id}/documents"]["get"]
    empty = {p["name"] for p in documents["parameters"] if p.get("allowEmptyValue")}
    assert empty == {"q", "status", "error", "sort", "per_page", "cursor", "fields"}
    job = make_job(key, "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e91")
    query = "&".join(f"{name}=" for name in sorted(empty))
    assert alice_api.get(f"/api/v1/jobs/{job.pk}/documents?{query}").status_code == 200
