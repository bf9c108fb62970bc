"""Sign up, log out, log in: the account flows in a real browser."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_it_signs_up_logs_out_and_logs_in_again(anon_page: Page, live_server: Any) -> None:
    page = anon_page
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Password confirmation").fill("a long enough passphrase")
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    expect(page.get_by_text("Welcome, carol.")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="API keys")).to_have_attribute("aria-current", "page")

    nav.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(nav.get_by_role("link", name="Jobs")).to_have_count(0)

    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    expect(nav.get_by_role("link", name="carol")).to_be_visible()


def test_it_shows_why_a_login_failed(anon_page: Page, alice: Any) -> None:
    page = anon_page
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page.get_by_label("Username")).to_have_value("alice")


def test_it_sends_anonymous_visitors_to_the_login_form(anon_page: Page, live_server: Any) -> None:
    page = anon_page
    page.goto("/keys/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/keys/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
