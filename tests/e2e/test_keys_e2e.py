"""The API keys page in a browser: add (masked, never echoed), rename, delete."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY

pytestmark = pytest.mark.e2e


def test_it_adds_a_key_and_only_ever_shows_it_masked(alice_page: Page, sim: FakeFirecrawl) -> None:
    page = alice_page
    page.goto("/")
    expect(page.get_by_text("Add a Firecrawl API key first")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API keys").click()
    expect(page.get_by_text("No keys yet.")).to_be_visible()

    page.get_by_label("Name").fill("Main")
    page.get_by_label("API key").fill(ALICE_KEY)
    page.get_by_label("API URL").fill(sim.url)
    page.get_by_label("API version").select_option("v1")
    page.get_by_role("button", name="Add key").click()

    expect(page.locator(".message-success")).to_have_text("Key “Main” added (fc-…a1b2).")
    row = page.get_by_role("row", name="Main")
    expect(row).to_contain_text("fc-…a1b2")
    expect(row).to_contain_text("remaining")
    assert ALICE_KEY not in page.content()
    assert ALICE_KEY[3:-4] not in page.content()


def test_it_does_not_echo_a_rejected_key(alice_page: Page, sim: FakeFirecrawl) -> None:
    page = alice_page
    page.goto("/keys/")
    page.get_by_label("Name").fill("Typo")
    page.get_by_label("API key").fill("fc-not-a-key-the-simulator-knows")
    page.get_by_label("API URL").fill(sim.url)
    page.get_by_role("button", name="Add key").click()

    expect(page.get_by_role("alert")).to_contain_text("Firecrawl rejected this key (401).")
    expect(page.get_by_label("Name")).to_have_value("Typo")
    expect(page.get_by_label("API key")).to_have_value("")
    assert "fc-not-a-key-the-simulator-knows" not in page.content()


def test_it_renames_then_deletes_a_key_after_confirmation(alice_page: Page, key: Any) -> None:
    page = alice_page
    page.goto("/keys/")
    page.get_by_role("row", name="Main").get_by_role("link", name="Rename").click()
    expect(page.get_by_role("heading", name="Rename key")).to_contain_text("fc-…a1b2")
    page.get_by_label("Name").fill("Production")
    page.get_by_role("button", name="Rename").click()

    expect(page.locator(".message-success")).to_have_text("Key renamed to “Production”.")
    row = page.get_by_role("row", name="Production")
    row.get_by_role("link", name="Delete").click()

    expect(page.get_by_role("heading", name="Delete key “Production”?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("row", name="Production")).to_be_visible()

    page.get_by_role("row", name="Production").get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Delete key").click()
    expect(page.locator(".message-success")).to_contain_text("Key “Production” deleted.")
    expect(page.get_by_text("No keys yet.")).to_be_visible()


def test_a_key_for_a_server_that_cannot_be_reached_is_saved_without_checking(
    alice_page: Page, alice: Any
) -> None:
    import socket

    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        offline = f"http://127.0.0.1:{spare.getsockname()[1]}"
    page = alice_page
    page.goto("/keys/")
    page.get_by_label("Name").fill("Self-hosted")
    page.get_by_label("API key").fill(ALICE_KEY)
    page.get_by_label("API URL").fill(offline)
    page.get_by_role("button", name="Add key").click()

    problem = page.locator(".form-errors")
    expect(problem).to_contain_text(f"Could not reach Firecrawl at {offline}")
    expect(problem).to_contain_text("save the key without checking it")
    # The key is still in the form: the way on needs no retyping.
    expect(page.get_by_label("API key")).to_have_value(ALICE_KEY)
    page.get_by_role("button", name="Save without checking").click()

    expect(page.locator(".message-info")).to_contain_text("Saved without checking")
    row = page.get_by_role("row", name="Self-hosted")
    expect(row).to_contain_text("fc-…a1b2")
    assert ALICE_KEY not in page.content()
