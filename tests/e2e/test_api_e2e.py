"""The API in a browser: a token made on the API tokens page works for a script, then is
revoked; the docs page renders every operation from the app alone (no CDN, nothing blocked)."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from accounts.models import ApiToken

pytestmark = pytest.mark.e2e


def test_a_token_is_created_shown_once_used_and_revoked(alice_page: Page, alice: Any) -> None:
    page = alice_page
    page.goto("/")
    page.locator(".account-menu summary").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()

    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create token").click()

    shown = page.get_by_role("textbox", name="New token")
    expect(shown).to_be_visible()
    token = shown.input_value()
    assert token.startswith("fcd_")
    row = page.get_by_role("row", name="Nightly export")
    expect(row).to_contain_text("Read and write")
    expect(row).to_contain_text(f"fcd_…{token[-4:]}")

    script = Client(headers={"Authorization": f"Bearer {token}"})
    assert script.get("/api/v1/jobs").status_code == 200

    page.reload()  # shown once: never again
    expect(page.get_by_role("textbox", name="New token")).to_have_count(0)
    assert token not in page.content()
    page.get_by_role("row", name="Nightly export").get_by_role("button", name="Revoke").click()
    expect(page.locator(".message-success")).to_contain_text("revoked")
    expect(page.get_by_role("row", name="Nightly export")).to_have_count(0)
    assert script.get("/api/v1/jobs").status_code == 401
    assert not ApiToken.objects.filter(owner=alice).exists()


def test_the_docs_page_lists_every_operation_from_the_app_alone(
    anon_page: Page, live_server: Any
) -> None:
    page = anon_page
    origin = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []
    problems: list[str] = []
    page.on(
        "request",
        lambda request: (
            elsewhere.append(request.url)
            if urlsplit(request.url).netloc not in (origin, "")
            else None
        ),
    )
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.goto("/api/v1/docs")

    expect(page.get_by_text("Firecrawl dashboard API", exact=False).first).to_be_visible()
    for operation in ("/api/v1/jobs", "/api/v1/jobs/{job_id}/documents", "/api/v1/start/batch"):
        expect(page.get_by_text(operation, exact=True).first).to_be_visible()
    # One block per operation of the app's own OpenAPI document.
    schema = page.request.get("/api/v1/openapi.json").json()
    operations = sum(len(item) for item in schema["paths"].values())
    assert operations >= 16
    expect(page.locator(".opblock")).to_have_count(operations)
    assert elsewhere == []
    assert problems == []
