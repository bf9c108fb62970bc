"""Keyboard use and layout: the skip link, visible focus, and tables that scroll on a phone."""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fakecrawl import FakeFirecrawl
from tests.e2e.conftest import log_in
from tests.e2e.pages import LOGGED_OUT, MEASURE, every_page

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


# Every page at desktop widths, and its tap targets at phone width (tests/e2e/pages.py).

DESKTOP_WIDTHS = (1024, 1280, 1440)
# Interactive elements at least 24 by 24 px (WCAG 2.5.8), unless a 24 px square centred on one
# touches no other target; a link inside a sentence is exempt. Checkboxes count with their label.
TARGETS = """() => {
  const selector = 'a[href], button, input:not([type="hidden"]), select, textarea, summary, '
    + '[role="tab"]';
  const clipped = (el) => {
    // Inside a box hidden from sight but not from screen readers (a phone table's headers).
    for (let node = el; node; node = node.parentElement) {
      if (getComputedStyle(node).clipPath !== 'none') return true;
    }
    return false;
  };
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('.visually-hidden, .markdown-body, .source, noscript') && !clipped(el);
  };
  const inSentence = (el) => {
    const block = el.tagName === 'A' && el.closest('p, dd, li, small, td');
    if (!block || block.closest('nav, .crumbs, .pager, .actions')) return false;
    return block.textContent.trim().length - el.textContent.trim().length > 15;
  };
  const name = (el) => (el.tagName + ' ' + (el.textContent || el.name || el.id || '').trim())
    .slice(0, 60);
  const targets = [...document.querySelectorAll(selector)].filter(shown).map((el) => {
    let box = el.getBoundingClientRect();
    let { left, top, right, bottom } = box;
    if (el.matches('input[type="checkbox"], input[type="radio"]')) {
      const label = el.closest('label')
        || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) {
        const l = label.getBoundingClientRect();
        left = Math.min(left, l.left); top = Math.min(top, l.top);
        right = Math.max(right, l.right); bottom = Math.max(bottom, l.bottom);
      }
    }
    return { el, left, top, right, bottom, exempt: inSentence(el) };
  });
  const small = [];
  for (const t of targets) {
    const w = t.right - t.left, h = t.bottom - t.top;
    if ((w >= 23.5 && h >= 23.5) || t.exempt) continue;
    const cx = (t.left + t.right) / 2, cy = (t.top + t.bottom) / 2;
    const near = targets.some((o) => o !== t && !o.el.contains(t.el) && !t.el.contains(o.el)
      && o.left < cx + 12 && o.right > cx - 12 && o.top < cy + 12 && o.bottom > cy - 12);
    if (near) small.push(`${name(t.el)} ${Math.round(w)}x${Math.round(h)}`);
  }
  const buttons = targets
    .filter((t) => t.el.matches('button, .button, [role="button"], input[type="submit"]'))
    .filter((t) => t.bottom - t.top < 43.5)
    .map((t) => `${name(t.el)} ${Math.round(t.bottom - t.top)} px tall`);
  return { small, buttons };
}"""


@pytest.fixture
def pages(key: Any, sim: FakeFirecrawl, settings: Any, tmp_path: Path) -> list[tuple[str, str]]:
    settings.MEDIA_ROOT = tmp_path / "media"  # the kept screenshots
    return every_page(key, sim)


def test_no_page_is_wider_than_the_screen_on_a_desktop(
    anon_page: Page, pages: list[tuple[str, str]], alice: Any, live_server: Any
) -> None:
    """At 1024, 1280 and 1440 px no table is wider than its box: every column, and the actions
    at the end of a row (Delete), are in view without a sideways scroll."""
    page = anon_page
    problems: list[str] = []
    for width in DESKTOP_WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in LOGGED_OUT:
            page.goto(path)
            measured = page.evaluate(MEASURE)
            if measured["overflowing"] or measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(f"{width} px {name}: {measured}")
    log_in(page.context, alice, live_server.url)
    for width in DESKTOP_WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages:
            page.goto(path)
            measured = page.evaluate(MEASURE)
            if measured["overflowing"] or measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(f"{width} px {name} ({path}): {measured}")
        page.goto("/keys/")
        delete = page.get_by_role("link", name="Delete").last
        box = delete.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width, f"{width} px: Delete {box}"
    assert not problems, "\n".join(problems)


def test_every_target_is_big_enough_to_tap_on_a_phone(
    anon_page: Page, pages: list[tuple[str, str]], alice: Any, live_server: Any
) -> None:
    """At 390 px every link, button and field is at least 24 by 24 px (or alone in its 24 px
    square), and every button at least 44 px tall."""
    page = anon_page
    page.set_viewport_size({"width": 390, "height": 844})
    problems: list[str] = []

    def check(name: str, path: str) -> None:
        page.goto(path)
        for menu in page.locator("details.account-menu").all():
            menu.evaluate("el => el.open = true")  # its items too
        found = page.evaluate(TARGETS)
        for kind in ("small", "buttons"):
            if found[kind]:
                problems.append(f"{name} ({path}) {kind}: {found[kind]}")

    for name, path in LOGGED_OUT:
        check(name, path)
    log_in(page.context, alice, live_server.url)
    for name, path in pages:
        check(name, path)
    assert not problems, "\n".join(problems)


def test_a_confirmation_opens_where_the_person_is_looking(
    alice_page: Page, track: Any, new_batch: Any
) -> None:
    """Cancel job at the bottom of a 1280 by 800 window: its confirmation comes into view."""
    from tests.conftest import make_failed_urls

    page = alice_page
    page.set_viewport_size({"width": 1280, "height": 800})
    job = track(new_batch(n=500, rate=0.5), label="Long one")
    make_failed_urls(job, *(f"https://shop.example.test/{n}" for n in range(30)))
    page.goto(f"/jobs/{job.pk}/")
    opener = page.get_by_text("Cancel job", exact=True)
    # The button sits on the window's bottom edge, as after scrolling down to it.
    opener.evaluate("el => el.scrollIntoView({block: 'end'})")
    opener.click()
    expect(page.get_by_role("button", name="Yes, cancel the job")).to_be_in_viewport()
