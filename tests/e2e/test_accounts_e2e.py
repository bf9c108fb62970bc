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

    nav.locator("summary", has_text="carol").click()  # the account menu
    nav.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(nav.get_by_role("link", name="Jobs")).to_have_count(0)

    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("a long enough passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
    expect(nav.locator("summary", has_text="carol")).to_be_visible()


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


def test_the_account_menu_opens_changes_the_password_and_closes_on_escape(
    alice_page: Page, key: Any
) -> None:
    page = alice_page
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    change = nav.get_by_role("link", name="Change password")
    expect(change).to_be_hidden()

    menu = nav.locator("summary", has_text="alice")
    menu.click()
    expect(change).to_be_visible()
    expect(nav.get_by_text("Logged in as alice")).to_be_visible()
    page.keyboard.press("Escape")
    expect(change).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    page.get_by_role("heading", name="Jobs", level=1).click()  # a click elsewhere closes it
    expect(change).to_be_hidden()

    menu.click()
    change.click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    page.get_by_label("Old password").fill("correct horse battery")
    page.get_by_label("New password", exact=True).fill("an even longer passphrase")
    page.get_by_label("New password confirmation").fill("an even longer passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()


def test_a_weak_password_is_said_under_the_password_it_is_about(
    anon_page: Page, live_server: Any
) -> None:
    page = anon_page
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password confirmation").fill("short")
    page.get_by_role("button", name="Sign up").click()

    password = page.locator(".field").filter(has=page.get_by_label("Password", exact=True))
    expect(password.locator(".field-errors")).to_contain_text("This password is too short.")
    confirmation = page.locator(".field").filter(has=page.get_by_label("Password confirmation"))
    expect(confirmation.locator(".field-errors")).to_have_count(0)
    # The password field describes its error to a screen reader too.
    described = page.get_by_label("Password", exact=True).get_attribute("aria-describedby") or ""
    assert "password1_error" in described
