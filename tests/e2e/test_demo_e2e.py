"""`make demo` in a browser: the product against its simulator, in a database of its own, and
Ctrl-C ends it without a traceback or a make error."""

import os
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from playwright.sync_api import expect

from fakecrawl.management.commands import demo
from tests.e2e.conftest import TIMEOUT_MS
from tests.waiting import answers, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.e2e

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fingerprint(path: Path) -> tuple[int, int] | None:
    return (path.stat().st_size, path.stat().st_mtime_ns) if path.exists() else None


def test_make_demo_runs_on_a_database_of_its_own(chromium: "Browser", tmp_path: Path) -> None:
    development = [ROOT / name for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm")]
    before = [fingerprint(path) for path in development]
    port = free_port()
    output = tmp_path / "make.out"
    demo_dir = tmp_path / "demo"
    with output.open("wb") as out:
        # -o: the virtualenv is there already (this test runs in it); never install from here.
        make = subprocess.Popen(
            ["make", "-o", ".venv/.installed-run", "demo", f"PORT={port}", f"DEMO_DIR={demo_dir}"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "DATABASE_URL": "sqlite:///" + str(ROOT / "db.sqlite3")},
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: answers(f"{base}/accounts/login/"), "make demo answered", process=make)
        context = chromium.new_context(base_url=base)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Username").fill("demo")
        page.get_by_label("Password").fill("demo-password-123")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Jobs", level=1)).to_be_visible()
        expect(page.locator(".jobs-table tbody tr")).to_have_count(
            len(demo.BATCHES) + len(demo.CRAWLS)
        )
        # The demo's worker syncs the running batch from the demo's simulator: the list moves.
        running = page.get_by_role("row", name="Product catalogue").locator(
            "td[data-label='Cached']"
        )
        first = running.inner_text()
        expect(running).not_to_have_text(first, timeout=60_000)
        # One batch's pages are announced by the simulator's webhook, signed, to the demo.
        page.get_by_role("link", name="Price list (pages arrive by webhook)").click()
        expect(page.get_by_test_id("webhook-event")).to_contain_text("last event", timeout=30_000)
        page.goto("/")
        # The worker keeps the screenshots of the batch that has them; the job page follows.
        page.get_by_role("link", name=demo.SCREENSHOT_BATCH).click()
        expect(page.get_by_test_id("screenshot-counts")).to_have_text(
            "24 kept · 0 pending · 0 failed", timeout=60_000
        )
        page.get_by_role("link", name="Browse documents").click()
        page.locator("table tbody tr a").first.click()
        expect(page.get_by_role("img", name="Screenshot", exact=True)).to_be_visible()
        # Loaded and decoded by the browser: the simulator's PNGs are 256 pixels wide.
        page.wait_for_function(
            "() => { const image = document.querySelector('img[alt=Screenshot]');"
            " return image.complete && image.naturalWidth === 256; }"
        )
        # The jobs that completed settle, and the demo user is told (the console's email).
        sent = page.get_by_test_id("notification-row").filter(has_text="finished")
        sent = sent.filter(has=page.get_by_test_id("notification-status").get_by_text("Sent"))

        def told() -> bool:
            page.goto("/notifications/")  # the page is not live: look again
            return sent.count() > 0

        wait_until(told, "the demo user's 'finished' email listed as sent")
        expect(sent.first).to_be_visible()
        context.close()
    finally:
        # Ctrl-C, as a terminal sends it: to the whole foreground process group.
        os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            raise
    text = output.read_text()
    assert make.returncode in (0, -signal.SIGINT), text
    assert "Traceback" not in text and "make: ***" not in text, text
    assert f"Worker log: {demo_dir / 'worker.log'}" in text
    log = (demo_dir / "worker.log").read_text(errors="replace")
    assert "To: demo@example.test" in log and "finished" in log

    # Everything went to the demo's database; the development one was not even opened.
    with sqlite3.connect(demo_dir / "db.sqlite3") as db:
        (users,) = db.execute("SELECT count(*) FROM auth_user WHERE username = 'demo'").fetchone()
        (jobs,) = db.execute("SELECT count(*) FROM jobs_job").fetchone()
    assert (users, jobs) == (1, len(demo.BATCHES) + len(demo.CRAWLS))
    assert [fingerprint(path) for path in development] == before
    # The screenshots went to the demo's folder too.
    assert len(list((demo_dir / "media" / "screenshots").glob("*/*.png"))) == 24
