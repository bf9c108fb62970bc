"""Who may call the API: a valid token, never a session; a read-only token never writes; a token
has a rate limit; the API sets no cookie and never shows a Firecrawl key."""

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from jobs.models import Job
from keys.models import ApiKey
from tests.api.conftest import api_client, body_of, post_json, token_for
from tests.conftest import ALICE_KEY, make_documents, make_failed_urls, make_job

JOB_ID = "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e51"


@pytest.fixture
def job(key: ApiKey) -> Job:
    job = make_job(key, JOB_ID, label="Docs", status=Job.Status.COMPLETED)
    make_documents(job, 3)
    make_failed_urls(job, "https://example.test/broken")
    return job


def reads(job: Job) -> list[str]:
    """Every read operation of the API, on this job."""
    base = f"/api/v1/jobs/{job.pk}"
    return [
        "/api/v1/jobs",
        base,
        f"{base}/documents",
        f"{base}/documents/0",
        f"{base}/failed-urls",
        *(f"{base}/export.{format}" for format in ("zip", "jsonl", "csv", "xlsx")),
    ]


def writes(job: Job) -> list[tuple[str, str, dict[str, Any]]]:
    """Every write operation of the API (method, path, body), each asked to do nothing costly:
    starts are dry runs, so only the scope check stands between them and an answer."""
    return [
        ("post", "/api/v1/jobs", {"job_id": "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e52"}),
        ("post", "/api/v1/start/batch", {"urls": ["https://example.test/"], "dry_run": True}),
        ("post", "/api/v1/start/crawl", {"url": "https://example.test/", "dry_run": True}),
        ("post", f"/api/v1/jobs/{job.pk}/retry", {"dry_run": True}),
        ("delete", f"/api/v1/jobs/{job.pk}", {}),
    ]


def call(client: Client, method: str, path: str, body: dict[str, Any]) -> Any:
    if method == "delete":
        return client.delete(path)
    return post_json(client, path, body)


def test_every_operation_answers_its_owner_with_a_token(alice_api: Client, job: Job) -> None:
    for path in reads(job):
        assert alice_api.get(path).status_code == 200, path
    for method, path, body in writes(job):
        assert call(alice_api, method, path, body).status_code in (200, 201, 204), path


def test_every_operation_without_a_token_is_a_401_in_json(client: Client, job: Job) -> None:
    for path in reads(job):
        response = client.get(path)
        assert response.status_code == 401, path
        assert "Authorization: Bearer" in response.json()["message"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    for method, path, body in writes(job):
        assert call(client, method, path, body).status_code == 401, path
    assert list(Job.objects.all()) == [job]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer fcd_not-a-token-at-all",
        "Bearer ",
        "Token fcd_x",
        "Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==",
        "Bearer " + "fcd_" + "x" * 5000,
    ],
)
def test_a_wrong_token_is_a_401(job: Job, header: str) -> None:
    response = Client(headers={"Authorization": header}).get("/api/v1/jobs")
    assert response.status_code == 401 and "message" in response.json()


def test_a_revoked_token_stops_working(alice: User, job: Job) -> None:
    token = token_for(alice)
    client = api_client(token)
    assert client.get("/api/v1/jobs").status_code == 200
    ApiToken.objects.filter(owner=alice).delete()
    assert client.get("/api/v1/jobs").status_code == 401


def test_the_token_of_a_deactivated_user_is_refused(alice: User, alice_api: Client) -> None:
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert alice_api.get("/api/v1/jobs").status_code == 401


def test_a_logged_in_session_does_not_authenticate_the_api(alice_client: Client, job: Job) -> None:
    for path in reads(job):
        assert alice_client.get(path).status_code == 401, path
    for method, path, body in writes(job):
        assert call(alice_client, method, path, body).status_code == 401, path


def test_the_api_sets_no_cookie_and_does_not_vary_on_one(
    alice_client: Client, alice_token: str, job: Job
) -> None:
    # A browser holding a session cookie and a CSRF cookie calls the API with a token.
    alice_client.get("/")
    client = alice_client
    responses = [
        client.get(path, headers={"Authorization": f"Bearer {alice_token}"}) for path in reads(job)
    ]
    responses += [client.get(path) for path in reads(job)]  # the 401s too
    responses.append(client.get("/api/v1/no-such-thing"))
    for response in responses:
        assert not response.cookies, response.request["PATH_INFO"]
        assert "Cookie" not in response.get("Vary", ""), response.request["PATH_INFO"]


def test_a_read_only_token_writing_is_a_403_and_changes_nothing(
    alice_reader: Client, job: Job
) -> None:
    for method, path, body in writes(job):
        response = call(alice_reader, method, path, body)
        assert response.status_code == 403, path
        assert "read-only" in response.json()["message"]
    assert list(Job.objects.all()) == [job]
    # It reads all the same.
    assert all(alice_reader.get(path).status_code == 200 for path in reads(job))


def test_another_users_job_is_a_404_everywhere(bob_api: Client, job: Job) -> None:
    for path in reads(job)[1:]:
        response = bob_api.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not found."}
    for method, path, body in writes(job):
        if f"/{job.pk}" in path:
            assert call(bob_api, method, path, body).status_code == 404, path
    assert Job.objects.filter(pk=job.pk).exists()


def test_each_token_has_its_own_rate_limit(
    alice: User, alice_api: Client, job: Job, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    other = api_client(token_for(alice, name="second"))
    answers = [alice_api.get("/api/v1/jobs").status_code for _ in range(4)]
    limited = alice_api.get("/api/v1/jobs")

    assert answers == [200, 200, 200, 429]
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert "3 requests a minute" in limited.json()["message"]
    assert other.get("/api/v1/jobs").status_code == 200


def test_the_rate_limit_opens_again_the_next_minute(
    alice: User, alice_api: Client, job: Job, settings: Any
) -> None:
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    assert alice_api.get("/api/v1/jobs").status_code == 200
    assert alice_api.get("/api/v1/jobs").status_code == 429
    ApiToken.objects.filter(owner=alice).update(
        window_started_at=timezone.now() - timedelta(minutes=1)
    )
    assert alice_api.get("/api/v1/jobs").status_code == 200


def test_a_token_records_when_it_was_last_used(alice: User, alice_api: Client) -> None:
    assert ApiToken.objects.get(owner=alice).last_used_at is None
    before = timezone.now()
    alice_api.get("/api/v1/jobs")
    used = ApiToken.objects.get(owner=alice).last_used_at
    assert used is not None and used >= before


def readable(response: Any) -> bytes:
    """A response's bytes, and those of every file inside it when it is a zip (an xlsx is one)."""
    body = body_of(response)
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            body += b"".join(archive.read(name) for name in archive.namelist())
    return bytes(body)


def test_no_response_holds_the_firecrawl_key(alice_api: Client, job: Job) -> None:
    bodies = [readable(alice_api.get(path)) for path in reads(job)]
    bodies += [readable(call(alice_api, method, path, body)) for method, path, body in writes(job)]
    assert any(b"documents.jsonl" in body and b"# Page 1" in body for body in bodies)
    for body in bodies:
        assert ALICE_KEY.encode() not in body
        assert ALICE_KEY[-4:].encode() not in body  # not even its masked form
