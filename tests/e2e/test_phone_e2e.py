"""Every page at phone width (390 by 844 px), light and dark: nothing scrolls sideways, and the
tables turn into rows that can be read without a sideways swipe."""

from collections.abc import Callable
from typing import Any, Literal

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import log_in, sync_until_settled

pytestmark = pytest.mark.e2e

PHONE: ViewportSize = {"width": 390, "height": 844}
LONG_HOST = "https://documentation.an-unusually-long-hostname-for-a-docs-site.example.test"
LONG_URLS = [
    f"{LONG_HOST}/reference/api/v2/endpoints/batch-scrape/"
    f"{'segment-without-any-break-' * 4}{n}?utm_source=newsletter&utm_campaign=spring"
    for n in range(1, 25)
]

# What the page width is measured against, and the sideways-scrolling boxes a page may keep:
# scraped content (a preview, a wide markdown table) scrolls inside its own box.
MEASURE = """() => {
  const overflowing = [...document.querySelectorAll('.table-scroll, .card, main, nav, form')]
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .filter(el => getComputedStyle(el).overflowX !== 'visible')
    .map(el => (el.className || el.tagName) + ' ' + el.scrollWidth + '>' + el.clientWidth);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    overflowing,
  };
}"""


@pytest.fixture
def phone_pages(
    alice: Any, key: Any, track: Callable[..., Any], new_batch: Callable[..., str]
) -> list[tuple[str, str]]:
    """(name, path) of every page a logged-in person can reach, with data that is hard to fit:
    long labels, long URLs without breaks, failed URLs, hostile titles."""
    from jobs.models import Document

    failing = track(
        new_batch(urls=LONG_URLS, state="completed", fail_every=4),
        label="A job label long enough to need wrapping on any phone screen at all",
    )
    sync_until_settled(failing)
    hostile = sync_until_settled(track(new_batch(n=9, state="completed", hostile=True)))
    running = track(new_batch(n=300, rate=0.5), label="Still running")
    document = Document.objects.filter(job=failing).order_by("position").first()
    hostile_doc = Document.objects.filter(job=hostile, title__contains="<script>").first()
    assert document is not None and hostile_doc is not None
    jobs = f"/jobs/{failing.pk}"
    return [
        ("jobs", "/"),
        ("jobs filtered", "/?status=completed"),
        ("job with failures", f"{jobs}/"),
        ("running job", f"/jobs/{running.pk}/"),
        ("documents", f"{jobs}/documents/"),
        ("documents searched", f"{jobs}/documents/?q=segment&sort=-url&per_page=25"),
        ("hostile documents", f"/jobs/{hostile.pk}/documents/"),
        ("document markdown", f"{jobs}/documents/{document.position}/"),
        ("document source", f"{jobs}/documents/{document.position}/?tab=source"),
        ("document html", f"{jobs}/documents/{document.position}/?tab=html"),
        ("hostile markdown", f"/jobs/{hostile.pk}/documents/{hostile_doc.position}/"),
        ("hostile html", f"/jobs/{hostile.pk}/documents/{hostile_doc.position}/?tab=html"),
        ("stop tracking", f"{jobs}/delete/"),
        ("keys", "/keys/"),
        ("key rename", f"/keys/{key.pk}/rename/"),
        ("key delete", f"/keys/{key.pk}/delete/"),
        ("password change", "/accounts/password/"),
        ("400 page", f"{jobs}/documents/?sort=sideways"),
        ("404 past the end", f"{jobs}/documents/?page=999"),
        ("404 page", "/jobs/999999/"),
    ]


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
    check("log in", "/accounts/login/")
    check("sign up", "/accounts/signup/")
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
