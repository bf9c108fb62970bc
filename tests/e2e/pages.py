"""Every page a person can reach, filled with what is hard to lay out: for the layout tests at
phone and desktop widths (tests/e2e/test_phone_e2e.py, test_layout_e2e.py).

Many keys with long names and URLs, unlabelled jobs of every kind and state, long labels, long
unbroken URLs, failed and cancelled URLs, hostile titles, kept screenshots; and the pages of this
round's features (a key's page, Notifications, API tokens) whenever their URLs exist.
"""

import contextlib
import uuid
from datetime import timedelta
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fakecrawl import FakeFirecrawl
from tests.conftest import ALICE_KEY, make_job
from tests.e2e.conftest import sync_until_settled

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


def every_page(key: Any, sim: FakeFirecrawl) -> list[tuple[str, str]]:
    """(name, path) of every page a logged-in person reaches, its data made here."""
    from jobs import screenshots
    from jobs.models import Document, Job
    from keys.models import ApiKey

    owner = key.owner
    failing = make_job(
        key,
        sim.create_batch(ALICE_KEY, urls=LONG_URLS, state="completed", fail_every=4),
        label="A job label long enough to need wrapping on any phone screen at all",
    )
    sync_until_settled(failing)
    hostile = sync_until_settled(
        make_job(key, sim.create_batch(ALICE_KEY, n=9, state="completed", hostile=True))
    )
    running = make_job(key, sim.create_batch(ALICE_KEY, n=300, rate=0.5), label="Still running")
    cancelled_id = sim.create_batch(ALICE_KEY, n=80, rate=40)
    sim.cancel(cancelled_id)
    cancelled = sync_until_settled(make_job(key, cancelled_id))
    # Unlabelled jobs of each kind, and one Firecrawl never knew.
    crawl = make_job(
        key,
        sim.create_crawl(ALICE_KEY, f"{LONG_HOST}/docs", limit=5, state="completed"),
        kind=Job.Kind.CRAWL,
        target_url=f"{LONG_HOST}/docs/{'deep-path-segment-' * 5}",
    )
    sync_until_settled(crawl)
    for _ in range(3):
        make_job(key, str(uuid.uuid4()), kind_confirmed=False)
    lost = make_job(
        key,
        str(uuid.uuid4()),
        sync_state=Job.SyncState.NOT_FOUND,
        last_error="Not found on Firecrawl: no job with this id answers to this key.",
    )
    Job.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=3))
    # A job started here: its options, and Run again.
    started = make_job(
        key,
        str(uuid.uuid4()),
        start_options={
            "formats": ["markdown", "html", "links", "rawHtml", "screenshot"],
            "onlyMainContent": False,
            "ignoreInvalidURLs": True,
            "includeTags": ["article", "main", ".content-with-a-long-selector-name"],
            "headers": {"Cookie": "a=b", "X-A-Rather-Long-Header-Name": "yes"},
            "location": {"country": "DE", "languages": ["de-DE", "en-GB", "fr"]},
        },
        start_urls=LONG_URLS[:5],
        url_count=5,
        label="Started here",
    )
    for n in range(8):
        ApiKey.objects.create(
            owner=owner,
            name=f"Key number {n} with a long descriptive name",
            key=f"fc-{uuid.uuid4().hex}",
            api_url=f"https://firecrawl-{n}.self-hosted.internal.example.test:3002",
            api_version="v2",
        )
    # Screenshots kept here (its own and an action's per page), as the worker keeps them.
    shots = make_job(
        key,
        sim.create_batch(
            ALICE_KEY,
            urls=LONG_URLS[:3],
            state="completed",
            formats=("markdown", "screenshot"),
            actions=[{"type": "screenshot"}],
        ),
        label="With screenshots",
    )
    sync_until_settled(shots)
    screenshots.fetch_due(key.pk, seconds=60)
    document = Document.objects.filter(job=failing).order_by("position").first()
    hostile_doc = Document.objects.filter(job=hostile, title__contains="<script>").first()
    assert document is not None and hostile_doc is not None
    jobs = f"/jobs/{failing.pk}"
    pages = [
        ("jobs", "/"),
        ("jobs filtered", "/?status=completed"),
        ("jobs needing attention", "/?status=attention"),
        ("jobs searched", "/?q=long"),
        ("job with failures", f"{jobs}/"),
        ("running job", f"/jobs/{running.pk}/"),
        ("cancelled job", f"/jobs/{cancelled.pk}/"),
        ("crawl", f"/jobs/{crawl.pk}/"),
        ("not found", f"/jobs/{lost.pk}/"),
        ("started here", f"/jobs/{started.pk}/"),
        ("documents", f"{jobs}/documents/"),
        ("documents searched", f"{jobs}/documents/?q=segment&sort=-url&per_page=25"),
        ("hostile documents", f"/jobs/{hostile.pk}/documents/"),
        ("document markdown", f"{jobs}/documents/{document.position}/"),
        ("document source", f"{jobs}/documents/{document.position}/?tab=source"),
        ("document html", f"{jobs}/documents/{document.position}/?tab=html"),
        ("hostile markdown", f"/jobs/{hostile.pk}/documents/{hostile_doc.position}/"),
        ("hostile html", f"/jobs/{hostile.pk}/documents/{hostile_doc.position}/?tab=html"),
        ("screenshots job", f"/jobs/{shots.pk}/"),
        ("document with screenshots", f"/jobs/{shots.pk}/documents/0/"),
        ("stop tracking", f"{jobs}/delete/"),
        ("start", "/start/"),
        ("start a crawl", "/start/?tab=crawl"),
        ("retry", f"{jobs}/retry/"),
        ("run again", f"/jobs/{started.pk}/again/"),
        ("keys", "/keys/"),
        ("key rename", f"/keys/{key.pk}/rename/"),
        ("key delete", f"/keys/{key.pk}/delete/"),
        ("import", f"/keys/{key.pk}/import/"),
        ("password change", "/accounts/password/"),
        ("400 page", f"{jobs}/documents/?sort=sideways"),
        ("404 past the end", f"{jobs}/documents/?page=999"),
        ("404 page", "/jobs/999999/"),
    ]
    # This round's other pages, where they exist.
    for name, url_name, kwargs in (
        ("key page", "keys:key", {"pk": key.pk}),
        ("notifications", "notifications:settings", {}),
        ("api tokens", "accounts:tokens", {}),
        ("api tokens", "tokens", {}),
    ):
        with contextlib.suppress(NoReverseMatch):
            pages.append((name, reverse(url_name, kwargs=kwargs)))
    return pages


LOGGED_OUT = [("log in", "/accounts/login/"), ("sign up", "/accounts/signup/")]
