"""Starting batch scrapes and crawls from the dashboard: the request body, the credit estimate,
and one press of Confirm turned into at most one job on Firecrawl, tracked here at once.

A double submit starts one job, by two means:
- Our form token (jobs.models.start_requests): the confirmation page carries a UUID; the request
  that creates its row (a unique constraint) is the only one to send the start, and any other press
  of that form gets its outcome and lands on the same job: at once when the outcome is known,
  else through a page that asks again until it is. A token is used once: after any answer the
  page comes back with a new one.
- Firecrawl's `x-idempotency-key`, for what our token cannot see: a start whose answer was lost
  (a timeout, a dropped connection, a 5xx). Firecrawl's server checks it on v1 `POST
  /batch/scrape` and `POST /crawl` (v1 and v2), never on v2 `POST /batch/scrape`, and needs its
  database to do so: on a self-hosted server without one, a start that carries the header
  crashes the whole API process (no answer; the server is down until restarted). So it is sent
  only to servers listed in FIRECRAWL_IDEMPOTENCY_URLS (hosted Firecrawl by default), on the
  routes that honour it. When it was sent, pressing Confirm again after a lost
  answer reuses it, and Firecrawl refuses (409) instead of starting the job twice; when it was
  not, the page says the job may have started and a new press uses a new key.

With PUBLIC_URL set and the key's webhooks on, the start request registers the key's webhook URL
(jobs.webhooks), carrying the form token in its metadata: the job row does not exist before
Firecrawl answers, the token does, so an event that overtakes the answer, or comes after an
answer that was lost, is matched to this press of Confirm.
"""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

import firecrawl_api
from firecrawl_api.text import clean_text
from firecrawl_api.webhooks import webhook_request
from jobs.models import Job, StartRequest
from jobs.webhooks import START_TOKEN
from keys import clients
from keys.allowlist import url_listed
from keys.models import ApiKey

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartPlan:
    """What Confirm will ask Firecrawl to start, validated (jobs.forms.start builds it)."""

    kind: str  # Job.Kind
    api_key: ApiKey
    # A batch's URLs, or a crawl's start URL alone.
    urls: list[str]
    # The rest of the request body, in Firecrawl's own names (formats, limit, scrapeOptions…).
    options: dict[str, Any]
    label: str = ""
    retry_of: Job | None = None
    # URLs given more than once, sent once.
    duplicates: int = 0
    # The file a batch's URLs came from (its name titles the job).
    source_name: str = ""

    @property
    def target_url(self) -> str:
        return self.urls[0] if self.urls else ""

    @property
    def estimated_credits(self) -> int:
        """One credit per page: a batch's URLs, or a crawl's page limit (its most)."""
        if self.kind == Job.Kind.CRAWL:
            return int(self.options.get("limit") or 0)
        return len(self.urls)


def sends_idempotency_key(key: ApiKey, kind: str) -> bool:
    """Whether a start with this key carries Firecrawl's x-idempotency-key (see the module)."""
    if kind == Job.Kind.BATCH and key.api_version == ApiKey.Version.V2:
        # No idempotency check on v2 POST /batch/scrape: the header would be ignored, and a
        # retry trusting it could start the batch twice.
        return False
    return url_listed(key.api_url, settings.FIRECRAWL_IDEMPOTENCY_URLS)


@dataclass
class StartOutcome:
    job: Job | None = None
    error: str = ""
    # Firecrawl's own list of what was wrong with the request (a 400's `details`).
    details: list[str] = field(default_factory=list)
    # No usable answer: Firecrawl may have started the job.
    uncertain: bool = False
    # This press found the form already pressed, and its outcome is the first press's.
    duplicate: bool = False
    # That first press is still waiting for Firecrawl's answer.
    pending: bool = False
    # The token was claimed before for a different start (an API client reusing its
    # Idempotency-Key for another request): nothing was sent.
    key_reused: bool = False
    # What Firecrawl (or the way to it) answered, when this press asked it and it failed.
    cause: firecrawl_api.FirecrawlError | None = None


def start(
    owner: Any,
    plan: StartPlan,
    *,
    token: uuid.UUID,
    idempotency_key: uuid.UUID,
    fingerprint: str = "",
) -> StartOutcome:
    """Press Confirm: claim the form token, then ask Firecrawl to start the job and track it.

    `fingerprint` names what is started (the API's requests; the confirmation page's token
    names one start already): a token claimed for another fingerprint starts nothing.
    Nothing is tracked unless Firecrawl started the job; the caller queues the sync of the job
    it returns (jobs.tasks.request_sync). Never called inside a transaction (the request to
    Firecrawl must not hold one open).
    """
    try:
        claim, mine = StartRequest.objects.claim(
            token=token, owner=owner, api_key=plan.api_key, fingerprint=fingerprint
        )
    except StartRequest.DoesNotExist:
        return StartOutcome(error="This confirmation cannot be used. Start again from the form.")
    if not mine and claim.fingerprint != fingerprint:
        return StartOutcome(error="This key was used for a different start.", key_reused=True)
    if not mine:
        return outcome_of_earlier_press(claim)
    header = str(idempotency_key) if sends_idempotency_key(plan.api_key, plan.kind) else None
    options = request_options(plan, token)
    try:
        with clients.for_key_on_web(plan.api_key) as client:
            if plan.kind == Job.Kind.CRAWL:
                started = client.start_crawl(
                    plan.target_url, options=options, idempotency_key=header
                )
            else:
                started = client.start_batch(plan.urls, options=options, idempotency_key=header)
    except firecrawl_api.FirecrawlError as exc:
        outcome = _failure(exc, plan)
        outcome.cause = exc
        state = StartRequest.State.UNCERTAIN if outcome.uncertain else StartRequest.State.FAILED
        claim.finish(state, message=outcome.error)
        logger.info("Start of a %s with key %s failed: %s", plan.kind, plan.api_key.pk, exc)
        return outcome
    except BaseException:
        # A bug, or the process being stopped, after the request may have gone out.
        claim.finish(StartRequest.State.UNCERTAIN, message=UNCERTAIN)
        raise
    job = _track(owner, plan, started)
    claim.finish(StartRequest.State.STARTED, job=job)
    return StartOutcome(job=job)


def request_options(plan: StartPlan, token: uuid.UUID) -> dict[str, Any]:
    """The start request's body but its URLs: the plan's options (what the job keeps, for Run
    again and Retry), and the key's webhook when it registers one."""
    if not plan.api_key.registers_webhooks:
        return plan.options
    webhook = webhook_request(plan.api_key.webhook_url, {START_TOKEN: str(token)})
    return {**plan.options, "webhook": webhook}


def _track(owner: Any, plan: StartPlan, started: firecrawl_api.StartedJob) -> Job:
    with transaction.atomic():
        job, _ = Job.objects.track(
            owner=owner,
            api_key=plan.api_key,
            remote_id=started.id,
            kind=plan.kind,
            label=plan.label,
            target_url=plan.target_url,
            retry_of=plan.retry_of,
            start_options=plan.options,
            invalid_urls=[clean_text(url)[:2048] for url in started.invalid_urls[:10_000]],
            start_urls=plan.urls if plan.kind == Job.Kind.BATCH else None,
            source_name=plan.source_name,
            origin=Job.Origin.STARTED,
        )
        ApiKey.objects.filter(pk=plan.api_key.pk).update(last_used_at=timezone.now())
    return job


UNCERTAIN = (
    "Firecrawl did not answer, so it may or may not have started the job. Look for it under "
    "Import recent jobs (API keys) before starting it again."
)


def _failure(exc: firecrawl_api.FirecrawlError, plan: StartPlan) -> StartOutcome:
    """What the person is told, and whether Firecrawl may have started the job anyway (the
    error's own `may_have_acted`)."""
    what = "crawl" if plan.kind == Job.Kind.CRAWL else "batch"
    if not exc.may_have_acted:
        return StartOutcome(error=_refusal(exc, what), details=_details(exc))
    if isinstance(exc, firecrawl_api.Conflict):
        # A reused idempotency key: an earlier press of this form reached Firecrawl, which
        # does not say what it started.
        return StartOutcome(
            error="Firecrawl has already received this start once (409: idempotency key "
            "already used) and does not say which job it started. Look for it under Import "
            "recent jobs (API keys) before starting it again.",
            uncertain=True,
        )
    if not sends_idempotency_key(plan.api_key, plan.kind):
        return StartOutcome(error=f"{exc.message.rstrip('.')}. {UNCERTAIN}", uncertain=True)
    hint = ""
    if exc.status_code in (None, 500):
        # No answer at all, or a 500 from whatever stands in front of the server.
        hint = (
            " (A self-hosted Firecrawl without its database crashes on every start that "
            "carries an idempotency key, and answers nothing until it is restarted: if that is "
            "this server, its administrator should remove it from FIRECRAWL_IDEMPOTENCY_URLS.)"
        )
    return StartOutcome(
        error=f"{exc.message.rstrip('.')}. Firecrawl may have started the {what}; pressing "
        f"Confirm again is safe, Firecrawl will not start it twice.{hint}",
        uncertain=True,
    )


def _refusal(exc: firecrawl_api.FirecrawlError, what: str) -> str:
    """Why Firecrawl (or this server: a URL no longer allowed, the key's budget) started
    nothing, in the words of a start."""
    if isinstance(exc, firecrawl_api.BadRequest):
        if exc.details:
            return f"Firecrawl refused to start the {what} (400). What it found wrong:"
        reason = f": {exc.api_message}" if exc.api_message else ""
        return f"Firecrawl refused to start the {what} (400){reason}."
    if isinstance(exc, firecrawl_api.PaymentRequired):
        return (
            f"Firecrawl refused to start the {what}: this key's team is out of credits "
            "(402). Add credits on Firecrawl, or start fewer pages."
        )
    if exc.retry_after is not None:
        # Firecrawl's 429, or our own budget for the key (keys.budget): nothing was sent.
        return f"{exc.message}. Nothing was started: press Confirm then."
    if isinstance(exc, firecrawl_api.Unreachable):
        # No connection was made (refused, no such host): the request never went out.
        return (
            f"{exc.message.rstrip('.')}. Nothing was started: check the key's API URL, then "
            "press Confirm again."
        )
    # 401, 403, no such route, a URL no longer allowed, Firecrawl's own "not started".
    return f"{exc.message.rstrip('.')}."


def _details(exc: firecrawl_api.FirecrawlError) -> list[str]:
    return exc.details if isinstance(exc, firecrawl_api.BadRequest) else []


def outcome_of_earlier_press(claim: StartRequest) -> StartOutcome:
    """A second press of the same form gets the first press's outcome, at once: while that is
    unknown (its request to Firecrawl is in flight) the outcome says `pending`, and the page
    asks again shortly. No request waits for another's answer."""
    if claim.state == StartRequest.State.STARTED and claim.job_id is not None:
        return StartOutcome(job=Job.objects.get(pk=claim.job_id), duplicate=True)
    if claim.state == StartRequest.State.STARTED:
        return StartOutcome(
            error="This form started a job that is no longer tracked here.", duplicate=True
        )
    if claim.awaiting_answer:
        return StartOutcome(pending=True, duplicate=True)
    if claim.is_pending:
        return StartOutcome(
            error="This form was already sent to Firecrawl, and no answer has come yet. "
            "Open Jobs in a moment: the job will be there if Firecrawl started it.",
            uncertain=True,
            duplicate=True,
        )
    return StartOutcome(
        error=claim.message or UNCERTAIN,
        uncertain=claim.state == StartRequest.State.UNCERTAIN,
        duplicate=True,
    )


def remaining_credits(key: ApiKey) -> tuple[int | None, str]:
    """The key's remaining credits for the confirmation page, and why they are unknown."""
    try:
        with clients.for_key_on_web(key) as client:
            usage = client.credit_usage()
    except firecrawl_api.FirecrawlError as exc:
        return None, f"could not be read ({exc.message})"
    if not usage.known:
        return None, "unknown: this Firecrawl server does not report credits (self-hosted)"
    ApiKey.objects.filter(pk=key.pk).update(
        remaining_credits=usage.remaining_credits, credits_checked_at=timezone.now()
    )
    return usage.remaining_credits, ""
