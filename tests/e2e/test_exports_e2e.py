"""Search snippets and the table exports in a browser: where the words matched, highlighted and
inert; a CSV of the columns chosen; an Excel file holding what the list shows."""

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import sync_until_settled

pytestmark = pytest.mark.e2e

Track = Callable[..., Any]
NewBatch = Callable[..., str]


def test_search_results_show_where_the_words_matched_and_hostile_text_stays_text(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    job = sync_until_settled(track(new_batch(n=9, state="completed", hostile=True)))
    page = alice_page
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(f"/jobs/{job.pk}/documents/")
    page.get_by_label("Search").fill("alert")
    expect(page.get_by_test_id("result-count")).to_contain_text("matching")

    snippets = page.get_by_test_id("snippet")
    expect(snippets.first).to_be_visible()
    marks = snippets.locator("mark")
    expect(marks.first).to_have_text("alert", ignore_case=True)
    # The scraped markup is shown as text: a <script> in a snippet is characters, not an element.
    assert snippets.locator("script, img, [hx-get], [onerror]").count() == 0
    page.wait_for_timeout(500)  # a window for a script to run, if one could: none may
    assert dialogs == []


def test_the_csv_holds_the_columns_chosen_content_included(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    job = sync_until_settled(track(new_batch(n=12, state="completed")))
    page = alice_page
    page.goto(f"/jobs/{job.pk}/documents/")
    page.get_by_text("CSV or Excel with chosen columns").click()
    options = page.locator(".export-options")
    options.get_by_label("Warning").uncheck()
    options.get_by_label("Scrape id").uncheck()
    options.get_by_label("Content (markdown)").check()
    with page.expect_download() as download:
        options.get_by_role("button", name="Download CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert "markdown" in header and "warning" not in header and "scrape_id" not in header
    assert "title" in header and len(rows) == 13
    assert "page" in rows[1][header.index("markdown")]  # the content itself, not a file name


def test_the_excel_download_opens_with_the_rows_the_filters_select(
    alice_page: Page, track: Track, new_batch: NewBatch
) -> None:
    job = sync_until_settled(track(new_batch(n=30, state="completed")))
    page = alice_page
    page.goto(f"/jobs/{job.pk}/documents/?q=page%2F2")
    count = page.get_by_test_id("result-count").inner_text()
    matching = int(count.split(" of ")[1].split()[0])
    assert 0 < matching < 30, count
    expect(page.get_by_test_id("download-scope")).to_contain_text("Downloads follow the filters")
    page.get_by_text("CSV or Excel with chosen columns").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("position", "url")
    assert len(rows) == matching + 1
    shown = page.locator(".documents-table tbody td.pos").all_inner_texts()
    assert [str(row[0]) for row in rows[1:]] == shown
