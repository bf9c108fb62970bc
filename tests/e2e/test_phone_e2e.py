"""Every page at phone width (390 by 844 px), light and dark: nothing scrolls sideways, and the
tables turn into rows that can be read without a sideways swipe."""

from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import log_in
from tests.e2e.pages import LOGGED_OUT, MEASURE, every_page

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
def phone_pages(
    key: Any, sim: FakeFirecrawl, settings: Any, tmp_path: Path
) -> list[tuple[str, str]]:
    settings.MEDIA_ROOT = tmp_path / "media"  # the kept screenshots
    return every_page(key, sim)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_scrolls_sideways_on_a_phone(
    anon_page: Page,
    phone_pages: list[tuple[str, str]],
    alice: Any,
    live_server: Any,
    scheme: Literal["light", "dark"],
) -> None:
    page = anon_page
    page.set_viewport_size(PHONE)
    page.emulate_media(color_scheme=scheme)
    problems: list[str] = []

    def check(name: str, path: str) -> None:
        page.goto(path)
        measured = page.evaluate(MEASURE)
        if measured["scrollWidth"] > measured["innerWidth"]:
            problems.append(f"{name} ({path}): page {measured['scrollWidth']} px wide")
        if measured["overflowing"]:
            problems.append(f"{name} ({path}): boxes scroll sideways {measured['overflowing']}")

    # Logged out first: the log-in and sign-up forms.
    for name, path in LOGGED_OUT:
        check(name, path)
    log_in(page.context, alice, live_server.url)
    for name, path in phone_pages:
        check(name, path)
    assert not problems, "\n".join(problems)


def test_phone_rows_keep_titles_readable_and_failures_short(
    alice_page: Page, phone_pages: list[tuple[str, str]]
) -> None:
    paths = dict(phone_pages)
    page = alice_page
    page.set_viewport_size(PHONE)

    page.goto(paths["documents"])
    title = page.locator(".documents-table td.title a").first
    expect(title).to_be_visible()
    box = title.bounding_box()
    assert box is not None and box["width"] >= 200, f"the title is squeezed to {box}"
    # One line each for the title and the URL: the rest is cut with an ellipsis.
    url = page.locator(".documents-table td.url .url-path").first
    assert url.evaluate("el => getComputedStyle(el).textOverflow") == "ellipsis"
    url_box = url.bounding_box()
    assert url_box is not None and url_box["height"] < 30, f"the URL wraps: {url_box}"

    page.goto(paths["job with failures"])
    row = page.locator(".failure-urls li").first
    expect(row).to_be_visible()
    row_box = row.bounding_box()
    assert row_box is not None and row_box["height"] < 60, f"a failed URL is {row_box} tall"

    page.goto(paths["jobs"])
    # Every column of the jobs table is on screen, none behind a sideways scroll.
    for heading in ("Cached", "Failed", "Expiry", "Updated"):
        cell = page.locator(f".jobs-table td[data-label='{heading}']").first
        expect(cell).to_be_in_viewport()
