"""The shapes of the API's requests and answers (pydantic, through django-ninja): the OpenAPI
document's schemas come from here. Values are read from the models' own fields and properties,
so a job's numbers here are the numbers its page shows."""

import uuid
from datetime import datetime
from typing import Any, Literal

from django.urls import reverse
from ninja import Field, Schema
from pydantic import ConfigDict

from jobs import start_options
from jobs.forms.start import MAX_HEADERS, MAX_LANGUAGES, MAX_LIST_ITEMS
from jobs.models import Job

# Database ids: a larger number in a path or body is a 400, not an overflow deep in the database.
MAX_ID = 2**63 - 1
MAX_POSITION = 2**31 - 1

JobKind = Literal["batch", "crawl"]
JobStatus = Literal["pending", "scraping", "completed", "cancelled", "failed"]
SyncState = Literal["active", "settled", "paused", "expired", "not_found"]


class KeyOut(Schema):
    """The dashboard's name for the Firecrawl key a job is read with (never the key itself)."""

    id: int
    name: str


class JobLinks(Schema):
    self: str
    page: str
    documents: str
    failed_urls: str
    export_zip: str


class ProgressOut(Schema):
    """Done (scraped, failed or cancelled) of every page the job is about: Firecrawl's `total`
    leaves failed URLs out; for a batch started here, `total` is the URLs it was started with."""

    scraped: int
    failed: int
    cancelled: int
    pending: int = Field(description="Pages Firecrawl still counts as to do.")
    total: int
    done: int
    percent: int


class JobOut(Schema):
    id: int = Field(description="The dashboard's id of the job (the {id} of /api/v1/jobs/{id}).")
    firecrawl_id: uuid.UUID = Field(alias="remote_id", description="Firecrawl's id of the job.")
    kind: JobKind
    kind_confirmed: bool = Field(description="False while the kind is a guess (a bare id).")
    label: str
    target_url: str = Field(description="A crawl's start URL, or a batch's first URL, if known.")
    key: KeyOut | None = Field(alias="api_key", description="None once the key was deleted.")
    api_url: str
    api_version: Literal["v1", "v2"]
    status: JobStatus = Field(description="What Firecrawl last said.")
    state: SyncState = Field(alias="sync_state", description="Where the dashboard's sync is.")
    active: bool = Field(alias="is_active", description="Still polled: the numbers may change.")
    settled: bool = Field(
        alias="is_settled",
        description="Over upstream, and two reads a settle interval apart agreed.",
    )
    complete: bool = Field(
        alias="is_complete",
        description="Settled with every document cached: the cache holds all the job will have.",
    )
    completed: int = Field(description="Firecrawl's count of completed pages.")
    total: int = Field(description="Firecrawl's count of pages in the job.")
    scraped: int = Field(description="Pages scraped: never less than the documents cached.")
    documents_expected: int = Field(
        description="Documents the job will have, as far as is known now (failed URLs have none)."
    )
    progress: ProgressOut = Field(
        description="How far the job has come, as its page's progress bar shows it."
    )
    failed: int = Field(alias="failed_count", description="URLs Firecrawl could not scrape.")
    cancelled: int = Field(
        alias="cancelled_count", description="URLs a cancel left unscraped (not failures)."
    )
    robots_blocked: int = Field(alias="robots_blocked_count")
    documents_cached: int
    fully_cached: bool
    credits_used: int | None
    expires_at: datetime | None = Field(description="When Firecrawl deletes the results.")
    created_upstream_at: datetime | None = Field(alias="remote_created_at")
    completed_upstream_at: datetime | None = Field(alias="remote_completed_at")
    duration: float | None
    tracked_at: datetime = Field(alias="created_at")
    last_polled_at: datetime | None
    next_poll_at: datetime
    last_error: str
    upstream_warning: str
    retry_of: int | None = Field(alias="retry_of_id")
    invalid_urls: list[str] = Field(description="URLs Firecrawl refused when started here.")
    links: JobLinks

    @staticmethod
    def resolve_key(job: Job) -> dict[str, Any] | None:
        key = job.api_key
        return None if key is None else {"id": key.pk, "name": key.name}

    @staticmethod
    def resolve_links(job: Job) -> dict[str, str]:
        def api(name: str) -> str:
            return reverse(f"api:{name}", kwargs={"job_id": job.pk})

        return {
            "self": api("job"),
            "page": reverse("jobs:job", kwargs={"pk": job.pk}),
            "documents": api("documents"),
            "failed_urls": api("failed_urls"),
            "export_zip": api("export_zip"),
        }


class JobDetailOut(JobOut):
    """A job with the rate and ETA its page shows (from its progress samples)."""

    pages_per_minute: float | None
    eta_seconds: float | None


class JobPage(Schema):
    results: list[JobOut]
    next: str | None = Field(description="The next page; None at the end of the list.")


class BodyIn(Schema):
    """A request body: a field the API does not know is an error, not ignored (a typo such as
    "lable" would otherwise silently do something other than asked), and a value of another
    JSON type is an error, not converted ("dry_run": 0 is not false)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class TrackIn(BodyIn):
    job_id: str = Field(
        description="A batch scrape or crawl id from Firecrawl, or any URL that contains it "
        "(/crawl/<id> or /batch/scrape/<id> in it also says the kind).",
        examples=["0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11"],
    )
    label: str = ""
    key: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description="Which of your API keys reads it (its id on the API "
        "keys page); your default key when left out.",
    )


class DocumentOut(Schema):
    position: int = Field(description="The document's place in the job (Firecrawl's offset).")
    url: str
    source_url: str
    title: str
    status_code: int | None
    error: str
    warning: str
    size: int = Field(description="Characters of the document as received.")
    scrape_id: str
    document: dict[str, Any] | None = Field(
        None,
        description="With fields=full: the document exactly as Firecrawl sent it (markdown, "
        "html, links, metadata… whatever it held).",
    )


class ScreenshotOut(Schema):
    shot: int = Field(
        description="0: the document's own screenshot; 1, 2…: those its page actions took."
    )
    state: Literal["pending", "kept", "failed"] = Field(
        description="pending: not kept yet (retried); kept: in the dashboard's storage; failed: "
        "never will be (`reason` says why)."
    )
    reason: str
    content_type: str = Field(description="A kept image's type, read from its first bytes.")
    size: int = Field(description="A kept image's bytes.")
    url: str | None = Field(description="Where a kept image is downloaded; None otherwise.")


class ScreenshotList(Schema):
    results: list[ScreenshotOut]


class DocumentPage(Schema):
    results: list[DocumentOut]
    next: str | None = Field(
        description="The next page; None when this page reached the end of the list as it is "
        "now (a job still active may cache more: see `resume`)."
    )
    resume: str = Field(
        description="The address that goes on after this page's last document, now or later: "
        "follow it once the job has cached more."
    )


class FailedUrlOut(Schema):
    url: str
    robots_blocked: bool = Field(description="Kept from it by robots.txt, not failed.")
    code: str
    error: str
    id: str = Field(alias="remote_id", description="Firecrawl's id of the failure.")
    failed_at: datetime | None


class FailedUrlPage(Schema):
    results: list[FailedUrlOut]
    next: str | None
    resume: str


Format = Literal["markdown", "html", "rawHtml", "links", "screenshot"]


class StartOptionsIn(BodyIn):
    """What both kinds of start take: the Start page's fields, its advanced options included,
    each checked as the page checks it. An option left out is Firecrawl's default."""

    key: int | None = Field(None, ge=1, le=MAX_ID, description="Your default key when left out.")
    formats: list[Format] = Field(["markdown"], min_length=1)
    only_main_content: bool = True
    label: str = ""
    include_tags: list[str] = Field(
        [], max_length=MAX_LIST_ITEMS, description="Keep only these elements (CSS selectors)."
    )
    exclude_tags: list[str] = Field(
        [], max_length=MAX_LIST_ITEMS, description="Leave these elements out (CSS selectors)."
    )
    wait_for: int | None = Field(
        None,
        ge=0,
        le=start_options.MAX_WAIT_FOR_MS,
        description="Milliseconds for a page's scripts to run, at most half the timeout.",
    )
    timeout: int | None = Field(
        None,
        ge=start_options.MIN_TIMEOUT_MS,
        le=start_options.MAX_TIMEOUT_MS,
        description="Milliseconds per page.",
    )
    mobile: bool = Field(False, description="Read each page as a phone would.")
    keep_ads: bool = Field(
        False, description="Keep ads and cookie banners, which Firecrawl blocks by default."
    )
    proxy: Literal["basic", "enhanced", "auto"] | None = None
    country: str | None = Field(
        None, min_length=2, max_length=2, description="Read from there: ISO 3166-1, e.g. DE."
    )
    languages: list[str] = Field(
        [], max_length=MAX_LANGUAGES, description="Preferred languages, most wanted first."
    )
    headers: dict[str, str] = Field(
        {}, max_length=MAX_HEADERS, description="HTTP headers sent with every request."
    )
    max_concurrency: int | None = Field(
        None,
        ge=1,
        le=start_options.MAX_CONCURRENCY,
        description="Pages read at once; your team's limit when left out.",
    )
    dry_run: bool = Field(
        False,
        description="Only check the start: the URL count and the credit estimate, nothing "
        "started (the confirmation step of the Start page).",
    )


class BatchIn(StartOptionsIn):
    urls: list[str] = Field(
        min_length=1,
        description="The URLs, each once (duplicates are "
        "sent once); at most FIRECRAWL_START_MAX_URLS.",
    )


class CrawlIn(StartOptionsIn):
    url: str = Field(description="The start URL.")
    limit: int = Field(100, ge=1, description="The most pages to crawl (one credit each).")
    max_depth: int | None = Field(None, ge=0, le=100)
    include_paths: list[str] = Field([], max_length=100)
    exclude_paths: list[str] = Field([], max_length=100)
    regex_on_full_url: bool = Field(False, description="Match the paths against the full URL.")
    crawl_entire_domain: bool = Field(
        False, description="Follow links anywhere on the domain, not only below the start URL."
    )
    allow_subdomains: bool = Field(False, description="Follow links to subdomains.")
    allow_external_links: bool = Field(False, description="Follow links to other sites.")
    sitemap: Literal["include", "skip", "only"] = Field(
        "include",
        description="Use the sitemap and follow links; ignore it; or only its pages (v2).",
    )
    ignore_query_parameters: bool = False
    delay: float | None = Field(
        None,
        ge=0,
        le=start_options.MAX_DELAY_SECONDS,
        description="Seconds between pages.",
    )


class RetryIn(BodyIn):
    key: int | None = Field(
        None, ge=1, le=MAX_ID, description="Another of your keys; the job's own when left out."
    )
    dry_run: bool = False


class StartCheckOut(Schema):
    """What a start would be (dry_run): nothing was started."""

    dry_run: Literal[True] = True
    kind: JobKind
    urls: int = Field(description="URLs a batch would start (each once), 1 for a crawl.")
    duplicates: int = Field(description="URLs given more than once, which are sent once.")
    estimated_credits: int
    remaining_credits: int | None = Field(description="The key's, when its server says.")
    credits_note: str
