"""Security across the whole app: isolation over every URL pattern, CSRF, the API key never leaked,
the Content-Security-Policy, `check --deploy`, and hostile scraped content through every view.

The URL tests enumerate the resolver: a new URL pattern this module does not know how to fill
fails the suite, so the isolation and CSRF checks cannot silently fall behind the app.
"""

import base64
import io
import json
import logging
import re
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.http import HttpResponseBase
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.views.debug import ExceptionReporter

import firecrawl_api
from accounts.models import ApiToken
from fakecrawl import FakeFirecrawl, Fault
from fakecrawl.content import HOSTILE_HTML, HOSTILE_MARKDOWN
from fakecrawl.screenshots import png_bytes
from firecrawl_api.client import FirecrawlClient
from jobs.models import Document, FailedUrl, Job, Screenshot, StartRequest
from jobs.sync import sync_job
from keys import clients
from keys.models import ApiKey
from notifications import unsubscribe
from notifications.models import Kind, Message, NotificationSettings
from tests.conftest import make_documents, make_failed_urls, make_job

ROOT = Path(__file__).resolve().parent.parent

# Every named route outside the admin: what its parameters are, which methods it answers.
# "job"/"key"/"api_token": <int:pk> (or the API's <int:job_id>) is that kind of object;
# "position" is a document of the job; "start": <uuid:token> is a press of Confirm (a
# StartRequest); "webhook": a key's webhook receiver, reached by the key's token
# (tests/keys/test_webhooks.py).
ROUTES: dict[str, tuple[str | None, set[str]]] = {
    "jobs:dashboard": (None, {"GET", "POST"}),
    "jobs:job": ("job", {"GET"}),
    "jobs:refresh_job": ("job", {"POST"}),
    "jobs:cancel_job": ("job", {"POST"}),
    "jobs:delete_job": ("job", {"GET", "POST"}),
    "jobs:change_job_key": ("job", {"POST"}),
    "jobs:retry_job": ("job", {"GET"}),
    "jobs:run_again": ("job", {"GET"}),
    "jobs:documents": ("job", {"GET"}),
    "jobs:document": ("job", {"GET"}),
    "jobs:document_preview": ("job", {"GET"}),
    "jobs:document_markdown": ("job", {"GET"}),
    "jobs:document_screenshot": ("job", {"GET"}),
    "jobs:download": ("job", {"GET"}),
    "jobs:download_failed": ("job", {"GET"}),
    "keys:keys": (None, {"GET", "POST"}),
    "keys:key": ("key", {"GET"}),
    "keys:key_webhooks": ("key", {"POST"}),
    "keys:webhook": ("webhook", {"POST"}),
    "keys:rename_key": ("key", {"GET", "POST"}),
    "keys:make_default_key": ("key", {"POST"}),
    "keys:delete_key": ("key", {"GET", "POST"}),
    "keys:import_jobs": ("key", {"GET", "POST"}),
    "keys:auto_import": ("key", {"POST"}),
    "jobs:start": (None, {"GET"}),
    "jobs:start_batch": (None, {"POST"}),
    "jobs:start_crawl": (None, {"POST"}),
    "jobs:confirm_start": (None, {"POST"}),
    "jobs:start_outcome": ("start", {"GET"}),
    "login": (None, {"GET", "POST"}),
    "logout": (None, {"POST"}),
    "signup": (None, {"GET", "POST"}),
    "password_change": (None, {"GET", "POST"}),
    "password_change_done": (None, {"GET"}),
    "notifications:settings": (None, {"GET", "POST"}),
    "notifications:new_webhook_secret": (None, {"POST"}),
    "notifications:mute_job": ("job", {"POST"}),
    "notifications:unsubscribe": (None, {"GET", "POST"}),
    "tokens": (None, {"GET", "POST"}),
    "revoke_token": ("api_token", {"POST"}),
    # The JSON API: a token authenticates it, never a session (tests/api/test_auth.py), so
    # its isolation is checked with Bob's token below, and it needs no CSRF token.
    "api:openapi-json": (None, {"GET"}),
    "api:openapi-view": (None, {"GET"}),
    "api:api-root": (None, set()),
    "api:list_jobs": (None, {"GET", "POST"}),
    "api:track_job": (None, {"GET", "POST"}),
    "api:job": ("job", {"GET", "DELETE"}),
    "api:stop_tracking_job": ("job", {"GET", "DELETE"}),
    "api:documents": ("job", {"GET"}),
    "api:get_document": ("job", {"GET"}),
    "api:list_screenshots": ("job", {"GET"}),
    "api:document_screenshot": ("job", {"GET"}),
    "api:export_zip": ("job", {"GET"}),
    "api:export_jsonl": ("job", {"GET"}),
    "api:export_csv": ("job", {"GET"}),
    "api:export_xlsx": ("job", {"GET"}),
    "api:failed_urls": ("job", {"GET"}),
    "api:retry_failed_urls": ("job", {"POST"}),
    "api:start_batch": (None, {"POST"}),
    "api:start_crawl": (None, {"POST"}),
}
ANONYMOUS = {"login", "signup", "notifications:unsubscribe", "api:openapi-json", "api:openapi-view"}
# Posted to without a CSRF token: the webhook receiver by Firecrawl, not a browser (no session;
# its token and signature admit a delivery instead); the unsubscribe link by a mail client's
# one-click button (its signed token is the proof: tests/notifications/test_pages.py; a forged
# one is a 404).
CSRF_EXEMPT = {"keys:webhook", "notifications:unsubscribe"}
# What each of them answers a form posted without a token: the receiver refuses it (a form is no
# Firecrawl event), the unsubscribe page confirms.
EXEMPT_ANSWER = {"keys:webhook": 400, "notifications:unsubscribe": 200}


def is_api(name: str) -> bool:
    return name.startswith("api:")


def app_routes() -> list[tuple[str, str]]:
    """(name, route) of every URL pattern but the admin's, namespaced like reverse() wants."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}:{pattern.name}" if namespace else str(pattern.name)
                found.append((name, prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "/", None)
    return found


def fill(name: str, route: str, job: Job, key: ApiKey) -> str:
    kind, _ = ROUTES[name]
    params = set(re.findall(r"<(?:\w+:)?(\w+)>", route))
    kwargs: dict[str, int | str] = {}
    if "pk" in params and kind == "api_token":
        kwargs["pk"] = ApiToken.objects.filter(owner=job.owner).values_list("pk", flat=True)[0]
    elif "pk" in params:
        kwargs["pk"] = job.pk if kind == "job" else key.pk
    if "job_id" in params:
        kwargs["job_id"] = job.pk
    if "position" in params:
        kwargs["position"] = 0
    if "shot" in params:
        kwargs["shot"] = 0
    if "token" in params and kind == "webhook":
        kwargs["token"] = key.webhook_token
    elif "token" in params and name == "notifications:unsubscribe":
        # A real unsubscribe link of the job's owner (for a user with nothing turned on).
        kwargs["token"] = unsubscribe.token(Message(owner=job.owner, kind=Kind.FINISHED))
    elif "token" in params:
        kwargs["token"] = str(StartRequest.objects.get(owner=job.owner_id).token)
    formats = {"jobs:download": "zip", "jobs:download_failed": "csv"}
    if "format" in params:
        kwargs["format"] = formats[name]
    unknown = params - {"pk", "job_id", "position", "shot", "format", "token"}
    assert not unknown, f"{name}: don't know how to fill {unknown}"
    return reverse(name, kwargs=kwargs)


def urls_answering(method: str, job: Job, key: ApiKey) -> list[tuple[str, str]]:
    """(name, URL) of every route that answers `method`, its parameters filled in."""
    return [
        (name, fill(name, route, job, key))
        for name, route in app_routes()
        if method in ROUTES[name][1]
    ]


@pytest.fixture
def alice_world(key: ApiKey, settings: Any, tmp_path: Path) -> tuple[Job, ApiKey]:
    """Alice's job with documents (markdown and HTML), a kept screenshot, a failed URL and
    progress: every object."""
    ApiKey.objects.filter(pk=key.pk).update(name="Alice-secret-key-name")
    key.refresh_from_db()
    job = make_job(
        key, str(uuid.uuid4()), label="Alice's secret project", status="scraping",
        completed=3, total=5, start_urls=["https://alice.example/a"],
        start_options={"formats": ["markdown"], "onlyMainContent": True},
    )  # fmt: skip
    make_documents(job, 3)
    settings.MEDIA_ROOT = tmp_path
    image = png_bytes("alice", 1000)
    name = storages["default"].save(f"screenshots/{job.pk}/0-0.png", ContentFile(image))
    Screenshot.objects.create(
        job=job, position=0, shot=0, state="kept", name=name, content_type="image/png", size=1000
    )
    make_failed_urls(job, "https://alice.example/failed", error="Timed out")
    job.samples.create(completed=3, total=5)
    StartRequest.objects.claim(token=uuid.uuid4(), owner=key.owner, api_key=key)
    ApiToken.objects.create_token(owner=key.owner, name="Alice's pipeline", scope="write")
    return job, key


def state_of_everyone() -> dict[str, Any]:
    """What a request could change, minus the sync-queue bookkeeping a page view may touch."""
    jobs: list[dict[str, Any]] = [dict(row) for row in Job.objects.order_by("pk").values()]
    for row in jobs:
        for name in ("sync_queued_for", "updated_at", "next_poll_at"):
            row.pop(name)
    return {
        "jobs": jobs,
        "keys": list(
            ApiKey.objects.order_by("pk").values_list("pk", "owner", "name", "is_default")
        ),
        "documents": list(Document.objects.order_by("pk").values_list("pk", "job", "position")),
        "failed": FailedUrl.objects.count(),
        "notification_settings": list(NotificationSettings.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("pk").values_list("pk", "username", "password")),
        "tokens": list(ApiToken.objects.order_by("pk").values_list("pk", "owner", "name")),
    }


def csrf_client(user: User | None) -> tuple[Client, str]:
    """A client that enforces CSRF like a browser, with the token from a page it can load."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
        client.get(reverse("keys:keys"))
    else:
        client.get(reverse("login"))
    return client, client.cookies["csrftoken"].value


# ---------------------------------------------------------------------------------------------
# Isolation


def test_the_route_table_knows_every_url_pattern() -> None:
    names = {name for name, _ in app_routes()}
    assert names == set(ROUTES), (
        f"New URL pattern(s) {names - set(ROUTES)}: add them to ROUTES (object kind and methods) "
        f"so the isolation and CSRF tests cover them; gone: {set(ROUTES) - names}"
    )


def test_another_user_gets_404_for_every_object_of_the_first(
    alice_world: tuple[Job, ApiKey], bob: User, bob_key: ApiKey, alice_client: Client
) -> None:
    job, key = alice_world
    bob_client, token = csrf_client(bob)
    before = state_of_everyone()
    checked = 0
    for name, route in app_routes():
        kind, methods = ROUTES[name]
        if kind in (None, "webhook") or is_api(name):
            continue
        url = fill(name, route, job, key)
        for method in ("GET", "POST"):
            if method == "GET":
                responses = [
                    bob_client.get(url),
                    bob_client.get(url, headers={"HX-Request": "true"}),  # the polls
                ]
            else:
                responses = [
                    bob_client.post(
                        url,
                        {"csrfmiddlewaretoken": token, "name": "stolen"},
                        headers={"X-CSRFToken": token, "HX-Request": "true"},
                    )
                ]
            for response in responses:
                if method in methods:
                    assert response.status_code == 404, (name, method, response.status_code)
                    checked += 1
                elif response.status_code != 404:
                    # Not allowed for anyone: the owner gets the same 405.
                    assert response.status_code == 405, (name, method)
                    assert getattr(alice_client, method.lower())(url).status_code == 405
    assert checked >= 25
    assert state_of_everyone() == before


def test_another_users_token_gets_404_for_every_api_object(
    alice_world: tuple[Job, ApiKey], bob: User, bob_key: ApiKey
) -> None:
    job, key = alice_world
    _row, token = ApiToken.objects.create_token(owner=bob, name="Bob's", scope="write")
    bob_api = Client(headers={"Authorization": f"Bearer {token}"})
    before = state_of_everyone()
    checked = 0
    for name, route in app_routes():
        kind, methods = ROUTES[name]
        if kind is None or not is_api(name):
            continue
        url = fill(name, route, job, key)
        for method in sorted(methods):
            response = getattr(bob_api, method.lower())(url, {}, content_type="application/json")
            assert response.status_code == 404, (name, method, response.status_code)
            assert response.json() == {"message": "Not found."}
            checked += 1
    assert checked >= 12
    assert state_of_everyone() == before


def test_lists_and_forms_never_offer_another_users_objects(
    alice_world: tuple[Job, ApiKey], bob: User, bob_key: ApiKey
) -> None:
    job, key = alice_world
    bob_client, token = csrf_client(bob)
    for path in ("/", "/?status=scraping", "/keys/", f"/jobs/{job.pk}/documents/", "/start/"):
        html = bob_client.get(path).content.decode()
        for secret in (job.label, str(job.remote_id), key.name, key.key_hint, "alice"):
            assert secret not in html, (path, secret)
    # Tracking a batch with Alice's key id: the key is not Bob's to choose.
    response = bob_client.post(
        "/", {"csrfmiddlewaretoken": token, "job_id": str(uuid.uuid4()), "api_key": key.pk}
    )
    assert response.status_code == 200
    assert not Job.objects.filter(owner=bob).exists()
    assert not Job.objects.filter(api_key=key).exclude(owner=key.owner).exists()
    # Nor can Alice read her job with Bob's key.
    alice_client = Client()
    alice_client.force_login(key.owner)
    alice_client.post(f"/jobs/{job.pk}/key/", {"api_key": bob_key.pk})
    job.refresh_from_db()
    assert job.api_key_id == key.pk


def test_the_admin_is_closed_to_ordinary_users(alice_world: tuple[Job, ApiKey], bob: User) -> None:
    job, key = alice_world
    client = Client()
    client.force_login(bob)
    for path in (
        "/admin/",
        f"/admin/jobs/job/{job.pk}/change/",
        f"/admin/keys/apikey/{key.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


# ---------------------------------------------------------------------------------------------
# CSRF, and state changes only on POST


def test_every_state_changing_request_needs_a_csrf_token(
    alice_world: tuple[Job, ApiKey], alice: User
) -> None:
    job, key = alice_world
    client, token = csrf_client(alice)
    anonymous, _ = csrf_client(None)
    before = state_of_everyone()
    checked = 0
    for name, url in urls_answering("POST", job, key):
        if is_api(name):
            continue  # no cookie authenticates it, so no CSRF token protects it
        who = anonymous if name in ANONYMOUS | CSRF_EXEMPT else client
        data = {"name": "x", "username": "alice", "password": "correct horse battery"}
        for headers in ({}, {"HX-Request": "true"}, {"X-CSRFToken": "x" * 64}):
            response = who.post(url, data, headers=headers)
            expected = EXEMPT_ANSWER.get(name, 403)
            assert response.status_code == expected, (name, headers, response.status_code)
            checked += 1
    posts = [name for name, (_, methods) in ROUTES.items() if "POST" in methods]
    assert checked == 3 * sum(not is_api(name) for name in posts)
    assert state_of_everyone() == before
    # The same requests with the token htmx sends (hx-headers on <body>) go through.
    response = client.post(f"/jobs/{job.pk}/refresh/", headers={"X-CSRFToken": token})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page


def test_no_other_method_changes_anything(alice_world: tuple[Job, ApiKey], alice: User) -> None:
    job, key = alice_world
    client = Client()
    client.force_login(alice)
    before = state_of_everyone()
    for name, route in app_routes():
        url = fill(name, route, job, key)
        data = {"name": "changed", "job_id": str(uuid.uuid4()), "key": "fc-x"}
        for method in ("get", "head"):
            assert getattr(client, method)(url, data).status_code < 500, (name, method)
        for method in ("options", "put", "patch", "delete"):
            response = getattr(client, method)(
                url, "&".join(f"{k}={v}" for k, v in data.items()),
                content_type="application/x-www-form-urlencoded",
            )  # fmt: skip
            assert response.status_code < 500, (name, method)
        client.force_login(alice)  # in case a route logged us out
    assert state_of_everyone() == before


# ---------------------------------------------------------------------------------------------
# The plain API key never leaves the process


LEAK_KEY = "fc-7d1e9a3c5b2f48e6a0c4d8b1e3f5a7c9"
BAD_KEY = "fc-0f9e8d7c6b5a49382716a5b4c3d2e1f0"
REVOKED_KEY = "fc-5e4d3c2b1a0948f7e6d5c4b3a2918070"
ECHO_KEY = "fc-a9b8c7d6e5f4403e2d1c0b9a8f7e6d5c"
SECRETS = (LEAK_KEY, BAD_KEY, REVOKED_KEY, ECHO_KEY)


def leak_patterns() -> dict[str, str]:
    patterns = {}
    for secret in SECRETS:
        for text in (secret, f"Bearer {secret}"):
            raw = text.encode()
            patterns[text] = text
            patterns[f"b64({text})"] = base64.b64encode(raw).decode().rstrip("=")
            patterns[f"b64url({text})"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        patterns[f"{secret} without prefix"] = secret[3:]
    return patterns


class EchoHandler(BaseHTTPRequestHandler):
    """A hostile upstream that echoes the caller's Authorization header in its errors."""

    statuses = [500, 429, 400, 401]
    calls = 0

    def do_GET(self) -> None:
        status = self.statuses[EchoHandler.calls % len(self.statuses)]
        EchoHandler.calls += 1
        auth = self.headers.get("Authorization", "")
        body = json.dumps({"success": False, "error": f"Bad request with {auth} retry after 1s"})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def body_of(response: HttpResponseBase) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]
    content: bytes = response.content  # type: ignore[attr-defined]
    return content


def everything_in_the_database() -> str:
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # our own table names
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    texts.append(str(value))
    return "\n".join(texts)


def test_the_plain_api_key_never_appears_anywhere(
    alice: User, sim: FakeFirecrawl, settings: Any, caplog: pytest.LogCaptureFixture,
    echo_server: str, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    settings.FIRECRAWL_API_URLS = ["*"]
    monkeypatch.setattr(clients, "MAX_RETRY_WAIT", 0)
    caplog.set_level(logging.DEBUG)
    sim.add_key(LEAK_KEY, team="leak")
    seen: list[str] = []  # every response body and header, every report

    def keep(response: HttpResponseBase) -> HttpResponseBase:
        seen.append(body_of(response).decode("utf-8", "replace"))
        seen.append(repr(response.items()) + str(getattr(response, "cookies", "")))
        return response

    client = Client()
    client.force_login(alice)
    # Add a key: a rejected one (401 from Firecrawl) first, then the real one.
    form = {"name": "Leaky", "api_url": sim.url, "api_version": "v1"}
    bad = keep(client.post("/keys/", {**form, "key": BAD_KEY}))
    assert "rejected this key (401)" in body_of(bad).decode()
    keep(client.post("/keys/", {**form, "key": LEAK_KEY}))
    key = ApiKey.objects.get(owner=alice, name="Leaky")
    # Track a batch and sync it through a 429, a 500 burst, then to its end.
    remote_id = sim.create_batch(LEAK_KEY, n=60, state="completed", fail_every=10)
    keep(client.post("/", {"job_id": f"https://api.firecrawl.dev/v1/batch/scrape/{remote_id}"}))
    job = Job.objects.get(owner=alice, remote_id=remote_id)
    sim.inject(Fault.rate_limit(retry_after=90), job_id=remote_id, count=1)
    sync_job(job.pk)
    sim.inject(Fault.server_error(500), job_id=remote_id, count=5)
    sync_job(job.pk)
    for _ in range(4):
        sync_job(job.pk)
    job.refresh_from_db()
    assert job.is_settled and job.documents_cached == 54
    # A key Firecrawl revoked (401 during the sync), and an upstream echoing our header back.
    revoked = ApiKey.objects.create(owner=alice, name="Revoked", key=REVOKED_KEY, api_url=sim.url)
    revoked_job = make_job(revoked, str(uuid.uuid4()))
    sync_job(revoked_job.pk)
    echo = ApiKey.objects.create(owner=alice, name="Echo", key=ECHO_KEY, api_url=echo_server)
    echo_job = make_job(echo, str(uuid.uuid4()))
    echoed = []
    for _ in range(3):
        sync_job(echo_job.pk)
        echo_job.refresh_from_db()
        echoed.append(echo_job.last_error)
        Job.objects.filter(pk=echo_job.pk).update(sync_state=Job.SyncState.ACTIVE)
    # Upstream's text is shown to the user, with our key masked in it.
    assert any("Bearer fc-…6d5c" in message for message in echoed), echoed
    # Cancel: a DELETE with the key (409 from Firecrawl: the job is complete).
    keep(client.post(f"/jobs/{job.pk}/cancel/", follow=True))
    # Browse and download everything.
    pages = [
        "/", "/keys/", f"/keys/{key.pk}/rename/", f"/keys/{key.pk}/delete/",
        f"/jobs/{job.pk}/", f"/jobs/{revoked_job.pk}/", f"/jobs/{echo_job.pk}/",
        f"/jobs/{job.pk}/delete/", f"/jobs/{job.pk}/documents/",
        f"/jobs/{job.pk}/documents/?q=page",
        f"/jobs/{job.pk}/documents/0/", f"/jobs/{job.pk}/documents/0/?tab=source",
        f"/jobs/{job.pk}/documents/0/?tab=html", f"/jobs/{job.pk}/documents/0/preview/",
        f"/jobs/{job.pk}/documents/0/markdown/", f"/jobs/{job.pk}/download.jsonl",
        f"/jobs/{job.pk}/download.csv",
    ]  # fmt: skip
    for path in pages:
        assert keep(client.get(path)).status_code == 200, path
        keep(client.get(path, headers={"HX-Request": "true"}))
    archive = zipfile.ZipFile(io.BytesIO(body_of(client.get(f"/jobs/{job.pk}/download.zip"))))
    seen.extend(archive.read(name).decode() for name in archive.namelist())
    # The admin, as staff.
    admin = User.objects.create_superuser("root", password="root password 123")
    staff = Client()
    staff.force_login(admin)
    document = job.documents.first()
    assert document is not None
    for path in [
        "/admin/", "/admin/keys/apikey/", f"/admin/keys/apikey/{key.pk}/change/",
        f"/admin/keys/apikey/{revoked.pk}/change/", "/admin/keys/apikey/?q=fc-",
        "/admin/jobs/job/", f"/admin/jobs/job/{job.pk}/change/",
        f"/admin/jobs/job/{echo_job.pk}/change/", "/admin/jobs/document/",
        f"/admin/jobs/document/{document.pk}/change/", "/admin/jobs/failedurl/",
        f"/admin/keys/apikey/{key.pk}/delete/", f"/admin/auth/user/{alice.pk}/change/",
    ]:  # fmt: skip
        assert keep(staff.get(path)).status_code == 200, path
    # An exception while a key is being added: what an error e-mail or tracker would receive.
    factory = RequestFactory()
    from keys.views.keys import keys

    for target in ("firecrawl_api.client.FirecrawlClient.credit_usage", "keys.models.ApiKey.save"):
        request = factory.post("/keys/", {**form, "name": f"Boom {target}", "key": LEAK_KEY})
        request.user = alice
        with mock.patch(target, side_effect=RuntimeError("deliberate")):
            try:
                keys(request)  # type: ignore[arg-type]
            except RuntimeError:
                reporter = ExceptionReporter(request, *sys.exc_info())
                seen.append(reporter.get_traceback_html())
                seen.append(reporter.get_traceback_text())
            else:
                raise AssertionError("the view should have raised")
    # The same through the handler (DEBUG off): the "Internal Server Error" log record.
    client.raise_request_exception = False
    with mock.patch("keys.models.ApiKey.save", side_effect=RuntimeError("deliberate")):
        assert (
            keep(client.post("/keys/", {**form, "name": "Boom 3", "key": LEAK_KEY})).status_code
            == 500
        )
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    seen.extend(formatter.format(record) for record in caplog.records)
    seen.append(caplog.text)
    assert any("Internal Server Error: /keys/" in text for text in seen)
    assert len(caplog.records) > 20

    leaks = [
        (label, index, text[max(0, text.find(pattern) - 300) : text.find(pattern) + 100])
        for label, pattern in leak_patterns().items()
        for index, text in enumerate(seen)
        if pattern in text
    ]
    assert leaks == [], f"the plain key leaked: {leaks[:3]}"
    # At rest: only Fernet tokens in the key column, and the key nowhere in any table.
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM jobs_apikey")
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 3 and all(token.startswith("gAAAA") for token in stored)
    dump = everything_in_the_database()
    in_db = [label for label, pattern in leak_patterns().items() if pattern in dump]
    assert in_db == [], f"the plain key is in the database: {in_db}"
    # And the flow really went through the error paths it claims to.
    revoked_job.refresh_from_db()
    assert revoked_job.last_error == "Firecrawl rejected the API key (401)"


# ---------------------------------------------------------------------------------------------
# Content-Security-Policy, and production settings


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))


def tags_of(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def csp_of(response: HttpResponseBase) -> dict[str, list[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"no CSP on {response}"
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


HOSTILE_PAIRS = {
    (name, value)
    for snippet in HOSTILE_HTML + HOSTILE_MARKDOWN
    for _, attrs in tags_of(snippet)
    for name, value in attrs.items()
    if name.startswith("hx-")
}


def assert_page_is_inert(response: HttpResponseBase, where: str) -> None:
    """No script runs but ours (with the nonce), no handler, no javascript: URL, no htmx
    attribute from scraped content, and no iframe but our sandboxed preview."""
    policy = csp_of(response)
    scripts = policy.get("script-src", policy.get("default-src", []))
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    nonces = {source[7:-1] for source in scripts if source.startswith("'nonce-")}
    html = body_of(response).decode()
    for tag, attrs in tags_of(html):
        if tag == "script":
            assert attrs.get("nonce") in nonces, (where, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (where, tag, name)
            if name in {"href", "src", "action", "formaction", "xlink:href", "data"}:
                squashed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
                assert not squashed.startswith(("javascript:", "vbscript:")), (where, tag, value)
            assert (name, value) not in HOSTILE_PAIRS, (where, tag, name, value)
        if tag in {"iframe", "frame", "object", "embed"}:
            assert tag == "iframe" and "sandbox" in attrs, (where, attrs)
            assert attrs.get("src", "").startswith("/jobs/"), (where, attrs)


def test_every_page_sends_a_csp_without_unsafe_inline_scripts(
    alice_world: tuple[Job, ApiKey], alice: User, admin_client: Client
) -> None:
    job, key = alice_world
    client = Client()
    client.force_login(alice)
    _row, token = ApiToken.objects.create_token(owner=alice, name="CSP", scope="read")
    api_client = Client(headers={"Authorization": f"Bearer {token}"})
    checked = 0
    for name, url in urls_answering("GET", job, key):
        who = Client() if name in ANONYMOUS else api_client if is_api(name) else client
        for headers in ({}, {"HX-Request": "true"}):
            response = who.get(url, headers=headers)
            assert response.status_code in (200, 286), (name, response.status_code)
            csp_of(response)  # on every response, downloads included
            if response["Content-Type"].startswith("text/html"):
                assert_page_is_inert(response, name)
                checked += 1
    for path in ("/admin/", "/admin/jobs/job/", f"/admin/jobs/job/{job.pk}/change/"):
        assert_page_is_inert(admin_client.get(path), path)
    assert checked >= 18


def test_the_preview_of_scraped_html_can_run_nothing(
    alice_world: tuple[Job, ApiKey], alice_client: Client
) -> None:
    job, _ = alice_world
    response = alice_client.get(f"/jobs/{job.pk}/documents/0/preview/")
    policy = csp_of(response)
    assert policy["default-src"] == ["'none'"] and "sandbox" in policy
    assert "script-src" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def documented_production_settings() -> dict[str, str]:
    """The NAME=value pairs of README's "Production deployment" step 2, as written there."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Production deployment", 1)[1].split("\n3. ", 1)[0]
    return dict(re.findall(r"\b([A-Z][A-Z_]+)=([^\s`]+)", section.split("\n2. ", 1)[1]))


def test_check_deploy_passes_with_the_documented_production_settings(tmp_path: Path) -> None:
    documented = documented_production_settings()
    assert documented["DEBUG"] == "false" and "SECURE_HSTS_SECONDS" in documented
    env = {
        "PATH": "/usr/bin:/bin",
        **documented,
        # What step 2 names without a value: the secrets (as step 1 makes them), hosts, database.
        "SECRET_KEY": base64.urlsafe_b64encode(uuid.uuid4().bytes * 3).decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "dash.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "FIRECRAWL_API_URLS": "https://api.firecrawl.dev",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # And the cookies and headers that makes, seen on a response of that configuration.
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    facts = json.loads(probe.stdout.strip().splitlines()[-1])
    assert facts["session_secure"] and facts["csrf_secure"] and facts["session_httponly"]
    assert facts["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert "'unsafe-inline'" not in facts["csp"].split("script-src", 1)[1].split(";")[0]


PROBE = """
import json, django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firecrawl_dash.settings")
django.setup()
from django.conf import settings
from django.test import Client, override_settings
# No collectstatic here: the manifest storage is swapped for the plain one, nothing else.
plain = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=plain):
    response = Client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"},
                            HTTP_HOST="dash.example.com", secure=True)
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE, "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "hsts": response.get("Strict-Transport-Security", ""),
    "csp": response.get("Content-Security-Policy", ""),
}))
"""


# ---------------------------------------------------------------------------------------------
# Hostile content through every view that shows scraped data


def test_hostile_scraped_content_stays_inert_in_every_view(
    alice_client: Client, key: ApiKey, sim: FakeFirecrawl, settings: Any
) -> None:
    from tests.conftest import ALICE_KEY

    remote_id = sim.create_batch(ALICE_KEY, n=15, state="completed", hostile=True, fail_every=5)
    job = make_job(key, remote_id, label="<script>alert('label')</script>")
    for _ in range(3):
        sync_job(job.pk)
    job.refresh_from_db()
    assert job.documents_cached == 12
    # Failed URLs and documents with hostile metadata as well.
    make_failed_urls(job, "javascript:alert(1)", error='<img src=x onerror="alert(9)">')
    paths = ["/", f"/jobs/{job.pk}/", f"/jobs/{job.pk}/delete/", f"/jobs/{job.pk}/documents/"]
    paths += [f"/jobs/{job.pk}/documents/?q=alert", f"/jobs/{job.pk}/documents/?sort=title"]
    for position in range(job.documents_cached):
        for tab in ("markdown", "source", "html"):
            paths.append(f"/jobs/{job.pk}/documents/{position}/?tab={tab}")
    for path in paths:
        for headers in ({}, {"HX-Request": "true"}):
            response = alice_client.get(path, headers=headers)
            assert response.status_code in (200, 286), path
            assert_page_is_inert(response, path)
            assert "<script>alert" not in body_of(response).decode(), path
    # The raw HTML is only ever served to the sandboxed frame, and files are attachments.
    preview = alice_client.get(f"/jobs/{job.pk}/documents/0/preview/")
    assert "sandbox" in csp_of(preview) and "script-src" not in csp_of(preview)
    for path in (f"/jobs/{job.pk}/documents/0/markdown/", f"/jobs/{job.pk}/download.csv"):
        response = alice_client.get(path)
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"


def test_an_api_url_that_redirects_never_carries_the_key_elsewhere() -> None:
    hits: list[str] = []

    class Trap(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    trap = ThreadingHTTPServer(("127.0.0.1", 0), Trap)

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{trap.server_address[1]}{self.path}")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    redirect = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    for server in (trap, redirect):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = FirecrawlClient(
            f"http://127.0.0.1:{redirect.server_address[1]}", LEAK_KEY, backoff_base=0.001
        )
        with pytest.raises(firecrawl_api.InvalidResponse, match="redirect"):
            client.job_status(str(uuid.uuid4()), kind="batch")
    finally:
        for server in (trap, redirect):
            server.shutdown()
            server.server_close()
    assert hits == []
