"""Starting jobs through the API: a batch, a crawl, or a batch of a job's failed URLs, through
the Start page's forms and jobs.starting. The confirmation step is `dry_run`; an Idempotency-Key
header makes a retried request start one job (jobs.starting's claim on the form token)."""

import hashlib
import json
import uuid
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpResponse
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from ninja import Header, Router, Status

import firecrawl_api
from api.auth import write
from api.errors import ApiError, error_responses
from api.jobs import JobId
from api.schemas import BatchIn, CrawlIn, JobOut, RetryIn, StartCheckOut, StartOptionsIn
from firecrawl_dash.forms import error_text
from jobs import starting
from jobs.forms.start import TOO_MANY_URLS, BatchStartForm, CrawlStartForm, StartForm, retry_data
from jobs.models import Job
from jobs.tasks import request_sync
from jobs.views.common import get_job_for_user
from keys.views.common import get_key_for_user

router = Router(tags=["Starting jobs"])

# When a request whose twin is still waiting for Firecrawl should ask again (seconds).
RETRY_PENDING_SECONDS = 2
# Names the form tokens and Firecrawl idempotency keys made from a client's Idempotency-Key.
API_STARTS = uuid.UUID("6f1d2b0e-3c44-4d0b-9a57-2f4c8e1b7a90")
IDEMPOTENCY_KEY = Header(
    None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=255,
    pattern=r"^[\x21-\x7e]+$",
    description="Any unique text of yours (a UUID): sending the same request again with it "
    "starts nothing more and answers with the same job, for two hours (409 with Retry-After "
    "while the first is still waiting for Firecrawl).",
)
RESPONSES: dict[int, Any] = {
    200: StartCheckOut,
    201: JobOut,
    **error_responses(402, 403, 404, 409, 413, 502),
}


def _tokens(owner: Any, key: str | None) -> tuple[uuid.UUID, uuid.UUID]:
    """The form token and Firecrawl's idempotency key of a start: made from the client's
    Idempotency-Key (the same for a retried request), else new."""
    if key is None:
        return uuid.uuid4(), uuid.uuid4()
    return (
        uuid.uuid5(API_STARTS, f"token\n{owner.pk}\n{key}"),
        uuid.uuid5(API_STARTS, f"firecrawl\n{owner.pk}\n{key}"),
    )


def _fingerprint(form: StartForm) -> str:
    """What the request asks to start, whatever the order of its fields."""
    payload = json.dumps([form.kind, form.payload_data()], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _options(request: Any, payload: StartOptionsIn) -> dict[str, Any]:
    """The Start form's data from the request's options: lists and headers as the form's lines,
    an option left out as the form's empty field."""
    if payload.key is not None:
        get_key_for_user(request, payload.key)  # another user's key is a 404
    lists = ("include_tags", "exclude_tags", "languages")
    listed = {name: getattr(payload, name) for name in lists}
    for name, items in listed.items():
        _one_per_item(name, items)
    _one_per_item("headers", [*payload.headers, *payload.headers.values()])
    return {
        "api_key": str(payload.key or ""),
        "formats": list(payload.formats),
        "only_main_content": payload.only_main_content,
        "label": payload.label,
        **{name: "\n".join(items) for name, items in listed.items()},
        "wait_for": _blank(payload.wait_for),
        "timeout": _blank(payload.timeout),
        "mobile": payload.mobile,
        "keep_ads": payload.keep_ads,
        "proxy": payload.proxy or "",
        "country": payload.country or "",
        "headers": "\n".join(f"{name}: {value}" for name, value in payload.headers.items()),
        "max_concurrency": _blank(payload.max_concurrency),
    }


def _one_per_item(name: str, items: list[str]) -> None:
    # The form reads one item a line: a line break would make two of one.
    if any("\n" in item or "\r" in item for item in items):
        raise ApiError(400, f"{name}: one item per entry, without line breaks.")


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _start(request: Any, form: StartForm, *, dry_run: bool, key: str | None, response: Any) -> Any:
    if not form.is_valid():
        too_big = any(form.has_error(field, TOO_MANY_URLS) for field in (NON_FIELD_ERRORS, "urls"))
        raise ApiError(413 if too_big else 400, error_text(form))
    plan = form.plan()
    if dry_run:
        credits, note = starting.remaining_credits(plan.api_key)
        return Status(
            200,
            {
                "kind": plan.kind,
                "urls": len(plan.urls),
                "duplicates": plan.duplicates,
                "estimated_credits": plan.estimated_credits,
                "remaining_credits": credits,
                "credits_note": note,
            },
        )
    token, idempotency_key = _tokens(request.user, key)
    outcome = starting.start(
        request.user,
        plan,
        token=token,
        idempotency_key=idempotency_key,
        fingerprint=_fingerprint(form) if key is not None else "",
    )
    if outcome.job is None:
        raise _refusal(outcome)
    if outcome.duplicate:
        response["Idempotent-Replayed"] = "true"
    else:
        request_sync(outcome.job)
    response["Location"] = reverse("api:job", kwargs={"job_id": outcome.job.pk})
    return Status(201, outcome.job)


def _refusal(outcome: starting.StartOutcome) -> ApiError:
    """Why nothing was started, with the status a client can act on."""
    if outcome.key_reused:
        return ApiError(
            409, "This Idempotency-Key was sent with a different start; use a new key for it."
        )
    if outcome.pending:
        # The first request with this key is waiting for Firecrawl: this one does not wait in
        # a web worker, it says when to ask again.
        return ApiError(
            409,
            "A request with this Idempotency-Key is still waiting for Firecrawl's answer; send "
            "it again shortly to get its job.",
            headers={"Retry-After": str(RETRY_PENDING_SECONDS)},
        )
    if outcome.duplicate:
        return ApiError(
            409,
            f"This Idempotency-Key was used already, and that start gave no job: "
            f"{outcome.error} Use a new key to start again.",
            uncertain=outcome.uncertain,
        )
    cause = outcome.cause
    if isinstance(cause, firecrawl_api.BadRequest):
        return ApiError(400, outcome.error, details=outcome.details or None)
    if isinstance(cause, firecrawl_api.PaymentRequired):
        return ApiError(402, outcome.error)
    if isinstance(cause, firecrawl_api.RateLimited):
        wait = str(max(1, round(cause.retry_after)))
        message = f"{cause.message.rstrip('.')}. Nothing was started."
        return ApiError(429, message, headers={"Retry-After": wait})
    if isinstance(cause, firecrawl_api.Conflict):
        return ApiError(409, outcome.error, uncertain=True)
    if outcome.uncertain:
        reason = cause.message.rstrip(".") if cause is not None else "No answer"
        return ApiError(
            502,
            f"{reason}. Firecrawl may have started the job. Sending this request again with "
            "the same Idempotency-Key starts nothing more; look for the job under Import "
            "recent jobs (API keys page) before starting it with another.",
            uncertain=True,
        )
    return ApiError(502, outcome.error)


@router.post(
    "/start/batch",
    response=RESPONSES,
    auth=write,
    operation_id="start_batch",
    summary="Start a batch scrape (or check one with dry_run)",
)
def start_batch(
    request: Any, payload: BatchIn, response: HttpResponse, key: str | None = IDEMPOTENCY_KEY
) -> Any:
    for index, url in enumerate(payload.urls):
        # The form reads one URL a line; a line break or a leading # would change the list.
        if "\n" in url or "\r" in url or url.lstrip().startswith("#"):
            raise ApiError(400, f"urls[{index}]: one web address per item.")
    data = {**_options(request, payload), "urls": "\n".join(payload.urls)}
    form = BatchStartForm(data, owner=request.user)
    return _start(request, form, dry_run=payload.dry_run, key=key, response=response)


@router.post(
    "/start/crawl",
    response=RESPONSES,
    auth=write,
    operation_id="start_crawl",
    summary="Start a crawl (or check one with dry_run)",
)
def start_crawl(
    request: Any, payload: CrawlIn, response: HttpResponse, key: str | None = IDEMPOTENCY_KEY
) -> Any:
    for name in ("include_paths", "exclude_paths"):
        if any("\n" in pattern or "\r" in pattern for pattern in getattr(payload, name)):
            raise ApiError(400, f"{name}: one pattern per item.")
    data = {
        **_options(request, payload),
        "url": payload.url,
        "limit": payload.limit,
        "max_depth": _blank(payload.max_depth),
        "include_paths": "\n".join(payload.include_paths),
        "exclude_paths": "\n".join(payload.exclude_paths),
        "regex_on_full_url": payload.regex_on_full_url,
        "crawl_entire_domain": payload.crawl_entire_domain,
        "allow_subdomains": payload.allow_subdomains,
        "allow_external_links": payload.allow_external_links,
        "sitemap": payload.sitemap,
        "ignore_query_parameters": payload.ignore_query_parameters,
        "delay": _blank(payload.delay),
    }
    form = CrawlStartForm(data, owner=request.user)
    return _start(request, form, dry_run=payload.dry_run, key=key, response=response)


@router.post(
    "/jobs/{int:job_id}/retry",
    response=RESPONSES,
    auth=write,
    operation_id="retry_failed_urls",
    summary="Start a batch of the job's failed URLs (Retry N failed URLs)",
    description="With the job's own scrape options when it was started here. 409 when the "
    "job has no failed URLs.",
)
def retry_failed_urls(
    request: Any,
    payload: RetryIn,
    response: HttpResponse,
    job_id: int = JobId,
    key: str | None = IDEMPOTENCY_KEY,
) -> Any:
    job: Job = get_job_for_user(request, job_id)
    data = retry_data(job)
    if data is None:
        raise ApiError(409, "This job has no failed URLs to retry.")
    if payload.key is not None:
        data["api_key"] = [str(get_key_for_user(request, payload.key).pk)]
    form = BatchStartForm(MultiValueDict(data), owner=request.user)
    return _start(request, form, dry_run=payload.dry_run, key=key, response=response)
