"""The document browser in a browser: pager, search, back button, one document's tabs, the zip,
and hostile scraped content that must stay inert."""

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, Request, expect

from jobs.models import Document
from tests.e2e.conftest import sync_until_settled

BLOCKED = re.compile(
    # The sandbox, and the preview's own CSP (the app's pages have default-src 'self').
    r"^Blocked script execution in '[^']*/preview/' because the document's frame is sandboxed"
    r"|violates the following Content Security Policy directive: "
    r"\"(default-src 'none'|img-src data:)\"\. The (action|request) has been blocked"
)

pytestmark = pytest.mark.e2e

DASH = "\u2013"  # the result count says "Documents 1–50 of 60"  # noqa: RUF003
NewBatch = Callable[..., str]
Track = Callable[..., Any]


@pytest.fixture
def sixty(track: Track, new_batch: NewBatch) -> Any:
    job = track(new_batch(n=60, state="completed", doc_size=600), label="Sixty")
    return sync_until_settled(job)


def test_it_pages_searches_and_goes_back(alice_page: Page, sixty: Any, live_server: Any) -> None:
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/")
    page.get_by_role("link", name="Browse documents").click()

    count = page.get_by_test_id("result-count")
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")
    rows = page.locator(".documents-table tbody tr")
    expect(rows).to_have_count(50)

    page.get_by_role("link", name="Next", exact=True).click()
    expect(count).to_have_text(f"Documents 51{DASH}60 of 60")
    expect(rows).to_have_count(10)
    expect(page).to_have_url(f"{live_server.url}/jobs/{sixty.pk}/documents/?page=2")

    page.go_back()
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")
    expect(page).to_have_url(f"{live_server.url}/jobs/{sixty.pk}/documents/")
    page.go_forward()
    expect(count).to_have_text(f"Documents 51{DASH}60 of 60")
    page.get_by_role("link", name="Previous", exact=True).click()
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")

    page.get_by_label("Search").fill("example.test/page/17")
    expect(count).to_contain_text("matching")
    # The simulator redirects one page in twenty, so the cell may also name the final URL.
    url_cells = page.locator(".documents-table td.url")
    expect(url_cells).to_have_count(1)
    expect(url_cells).to_contain_text("https://example.test/page/17")
    # The link goes where the page ended up (its final URL, as Firecrawl reported it).
    seventeen = Document.objects.get(job=sixty, source_url="https://example.test/page/17")
    expect(url_cells.get_by_role("link").first).to_have_attribute("href", seventeen.url)
    assert "q=" in page.url

    page.get_by_label("Search").fill("nothing-like-this-anywhere")
    expect(count).to_have_text("No documents match these filters.")


def test_it_opens_a_document_with_its_markdown_and_html_preview(
    alice_page: Page, sixty: Any
) -> None:
    document = Document.objects.get(job=sixty, position=3)
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/documents/")
    page.get_by_role("link", name=document.title, exact=True).click()

    expect(page.get_by_role("heading", level=1).first).to_have_text(document.title)
    views = page.get_by_role("navigation", name="Document views")
    views.get_by_role("link", name="Markdown").click()
    expect(views.get_by_role("link", name="Markdown")).to_have_attribute("aria-current", "page")
    first_words = (document.content.markdown or "").split("\n")[3][:40]
    expect(page.get_by_role("region", name="Markdown")).to_contain_text(first_words)

    views.get_by_role("link", name="HTML").click()
    expect(views.get_by_role("link", name="HTML")).to_have_attribute("aria-current", "page")
    expect(views.get_by_role("link", name="Markdown")).not_to_have_attribute("aria-current", "page")
    preview = page.frame_locator("iframe[title='Preview of the scraped HTML']")
    expect(preview.get_by_role("heading", level=1)).to_have_text(document.title)

    page.get_by_role("link", name="Next document →").click()
    expect(page.get_by_text("The 5th document Firecrawl listed")).to_be_visible()


def test_it_downloads_every_document_as_a_zip(alice_page: Page, sixty: Any) -> None:
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download zip").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")

    with zipfile.ZipFile(io.BytesIO(download.path().read_bytes())) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        markdown = [name for name in names if name.startswith("markdown/")]
        assert len(markdown) == 60
        assert "manifest.json" in names
        lines = archive.read("documents.jsonl").decode().splitlines()
        assert len(lines) == 60


def test_hostile_content_stays_inert(
    alice_page: Page, track: Track, new_batch: NewBatch, live_server: Any
) -> None:
    job = sync_until_settled(track(new_batch(n=9, state="completed", hostile=True)))
    page = alice_page
    dialogs: list[str] = []
    errors: list[str] = []
    blocked: list[str] = []  # the sandboxed preview reporting what it stopped
    unexpected: list[str] = []
    allowed = (f"{live_server.url}/jobs/{job.pk}/", f"{live_server.url}/static/")

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if BLOCKED.search(message.text):
            blocked.append(message.text)
        else:
            errors.append(message.text)

    def on_request(request: Request) -> None:
        if not request.url.startswith(allowed) and not request.url.startswith("data:"):
            unexpected.append(f"{request.method} {request.url}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("request", on_request)

    page.goto(f"/jobs/{job.pk}/documents/")
    expect(page.get_by_test_id("result-count")).to_have_text(f"Documents 1{DASH}9 of 9")
    hostile = Document.objects.filter(job=job, title__contains="<script>").order_by("position")
    first = hostile.first()
    assert first is not None
    expect(page.get_by_role("link", name="<script>alert('title')</script>").first).to_be_visible()

    for tab in ("markdown", "source", "html"):
        page.goto(f"/jobs/{job.pk}/documents/{first.position}/?tab={tab}")
        expect(page.get_by_role("heading", level=1).first).to_contain_text("<script>alert('title')")
        page.wait_for_timeout(300)  # a window for a script to run, if one could: none may
    preview = page.frame_locator("iframe[title='Preview of the scraped HTML']")
    expect(preview.get_by_role("link", name="click me")).to_be_visible()
    page.wait_for_timeout(500)  # the same window for the preview's scripts

    assert dialogs == []
    assert errors == []
    # The preview's sandbox and CSP say what they stopped: every script, the <img onerror>
    # and the evil.invalid iframe. Anything else in the frame's console is a surprise.
    assert any("sandboxed" in text for text in blocked), blocked
    assert any("evil.invalid" in text for text in blocked), blocked
    assert unexpected == []


def titles(page: Page) -> list[str]:
    return page.locator(".documents-table td.title a").all_inner_texts()


def test_column_headers_sort_with_htmx_and_without_javascript(
    alice_page: Page, sixty: Any, browser_context: Any, chromium: Any, live_server: Any
) -> None:
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/documents/")
    title = page.get_by_role("columnheader", name="Title")
    position = page.get_by_role("columnheader", name="Position")
    expect(position).to_have_attribute("aria-sort", "ascending")
    expect(title).not_to_have_attribute("aria-sort", re.compile(".*"))

    title.get_by_role("link").click()
    expect(title).to_have_attribute("aria-sort", "ascending")
    expect(position).not_to_have_attribute("aria-sort", re.compile(".*"))
    expect(page).to_have_url(re.compile(r"[?&]sort=title(&|$)"))
    shown = titles(page)
    assert shown == sorted(shown, key=str.casefold) and len(shown) == 50
    # The form outside the results says the same.
    expect(page.get_by_label("Sort by")).to_have_value("title")

    title.get_by_role("link").click()
    expect(title).to_have_attribute("aria-sort", "descending")
    expect(page).to_have_url(re.compile(r"[?&]sort=-title(&|$)"))
    shown = titles(page)
    assert shown == sorted(shown, key=str.casefold, reverse=True)
    page.go_back()
    expect(title).to_have_attribute("aria-sort", "ascending")

    # Without JavaScript the same headers are plain links to the sorted page.
    from tests.e2e.conftest import log_in

    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    log_in(context, sixty.owner, live_server.url)
    plain = context.new_page()
    plain.goto(f"/jobs/{sixty.pk}/documents/")
    plain.get_by_role("columnheader", name="URL").get_by_role("link").click()
    expect(plain.get_by_role("columnheader", name="URL")).to_have_attribute(
        "aria-sort", "ascending"
    )
    urls = plain.locator(".documents-table td.url a .visually-hidden").all_inner_texts()
    assert urls == sorted(urls)
    context.close()


def test_per_page_the_count_and_the_form_always_agree(
    alice_page: Page, sixty: Any, live_server: Any
) -> None:
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/documents/")
    count = page.get_by_test_id("result-count")
    per_page = page.get_by_label("Per page")
    expect(per_page).to_have_value("50")
    rows = page.locator(".documents-table tbody tr")

    per_page.select_option("25")
    expect(count).to_have_text(f"Documents 1{DASH}25 of 60")
    expect(rows).to_have_count(25)
    expect(page).to_have_url(re.compile(r"per_page=25"))
    page.get_by_role("link", name="Next", exact=True).click()
    expect(count).to_have_text(f"Documents 26{DASH}50 of 60")
    expect(per_page).to_have_value("25")

    # Back to the first address: the list and the select both say 50 again. Each step back is
    # awaited before the next (htmx may reload a page it has no history for, and a second step
    # issued meanwhile would be aborted).
    page.go_back()
    expect(count).to_have_text(f"Documents 1{DASH}25 of 60")
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/jobs/{sixty.pk}/documents/")
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")
    expect(per_page).to_have_value("50")
    page.reload()
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")
    expect(per_page).to_have_value("50")


def test_typing_a_search_replaces_the_history_entry_and_announces_only_the_count(
    alice_page: Page, sixty: Any, live_server: Any
) -> None:
    page = alice_page
    page.goto(f"/jobs/{sixty.pk}/")
    page.get_by_role("link", name="Browse documents").click()
    count = page.get_by_test_id("result-count")
    expect(count).to_have_text(f"Documents 1{DASH}50 of 60")
    # The count line is the page's live region, and it stays the same element across swaps.
    live = page.locator("main [aria-live]")
    expect(live).to_have_count(1)
    expect(live).to_have_attribute("id", "result-count")
    page.evaluate("window.countLine = document.getElementById('result-count')")
    history = page.evaluate("history.length")

    search = page.get_by_label("Search")
    for text in ("page/1", "page/12"):
        search.fill(text)
        # The pause in the typing sent the search: its results are on the page.
        expect(page).to_have_url(re.compile(rf"q={re.escape(quote(text, safe=''))}(&|$)"))
    expect(count).to_have_text(f"Documents 1{DASH}1 of 1 matching")
    assert page.evaluate("history.length") == history
    assert page.evaluate("document.getElementById('result-count') === window.countLine")
    scope = page.get_by_test_id("download-scope")
    expect(scope).to_have_text("Downloads follow the filters: only the 1 matching document.")
    href = page.get_by_role("link", name="Download zip").get_attribute("href") or ""
    assert "q=page%2F12" in href and "per_page" not in href

    # Back leaves the list for the job page: no stop at every pause in the typing.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/jobs/{sixty.pk}/")
