"""Keyboard use and layout: the skip link, visible focus, and tables that scroll on a phone."""

from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_the_keyboard_reaches_the_content_first(alice_page: Page, key: Any) -> None:
    page = alice_page
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"

    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Job ID")).to_be_focused()


def test_a_tablet_scrolls_the_jobs_table_not_the_page(
    alice_page: Page, track: Any, new_batch: Any
) -> None:
    """Between phone and desktop the jobs table keeps its columns and scrolls in its own box
    (with shadows at the edges saying so); the page itself never scrolls sideways."""
    page = alice_page
    track(new_batch(n=3, state="completed"), label="A job with a rather long label")
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto("/")
    region = page.get_by_role("region", name="Your jobs")
    expect(region).to_be_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page itself scrolls sideways: {widths}"
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    shadows = region.evaluate("el => getComputedStyle(el).backgroundImage")
    assert shadows.count("gradient") == 4
    expect(page.get_by_role("columnheader", name="Updated")).to_be_attached()
