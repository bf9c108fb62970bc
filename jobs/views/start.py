"""Starting jobs: the Start page (a batch or a crawl), the confirmation step, and retrying a
job's failed URLs as a new batch."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST, require_safe

from firecrawl_dash.forms import NoParameters
from firecrawl_dash.uploads import read_capped
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs import start_options, starting
from jobs.forms.start import (
    BatchStartForm,
    ConfirmStartForm,
    CrawlStartForm,
    StartForm,
    StartPageQuery,
    retry_data,
    run_again_data,
    sign_confirmation,
)
from jobs.models import Job, StartRequest
from jobs.tasks import request_sync
from jobs.views.common import get_job_for_user
from keys.models import ApiKey

# How often the page of a second press of Confirm asks whether the first one has its answer.
OUTCOME_REFRESH_SECONDS = 1


@require_safe
def start(request: AuthenticatedRequest) -> HttpResponse:
    query = StartPageQuery(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text())
    return _start_page(request, tab=query.cleaned_data["tab"] or Job.Kind.BATCH)


def _refuse_others_objects(request: AuthenticatedRequest) -> None:
    """Another user's key (or job to retry) named in the form is a 404, as in a URL: it looks
    exactly like one that does not exist. The forms' choices hold only the user's own."""
    owned = {
        "api_key": ApiKey.objects.filter(owner=request.user),
        "retry_of": Job.objects.for_user(request.user),
    }
    for name, objects in owned.items():
        value = request.POST.get(name, "")
        if value.isdigit() and not objects.filter(pk=int(value)).exists():
            raise Http404


@csrf_exempt  # checked by _start_batch, once the size of the body is known to be bounded
@require_POST
def start_batch(request: AuthenticatedRequest) -> HttpResponse:
    refused = read_capped(request, settings.FIRECRAWL_START_MAX_UPLOAD_BYTES)
    if refused:
        # The form back, saying why: never a bare 400, and nothing of the body kept.
        return _start_page(request, batch_refused=refused)
    return _start_batch(request)


@csrf_protect
def _start_batch(request: AuthenticatedRequest) -> HttpResponse:
    _refuse_others_objects(request)
    form = BatchStartForm(request.POST, request.FILES, owner=request.user)
    if not form.is_valid():
        return _start_page(request, batch=form)
    return _confirmation(request, form)


@require_POST
def start_crawl(request: AuthenticatedRequest) -> HttpResponse:
    _refuse_others_objects(request)
    form = CrawlStartForm(request.POST, owner=request.user)
    if not form.is_valid():
        return _start_page(request, crawl=form)
    return _confirmation(request, form)


@require_POST
def confirm_start(request: AuthenticatedRequest) -> HttpResponse:
    confirm = ConfirmStartForm(request.POST, owner=request.user)
    if not confirm.is_valid() or confirm.start_form is None:
        messages.error(request, " ".join(str(e) for e in confirm.errors.get("payload", [])))
        return redirect("jobs:start")
    form = confirm.start_form
    if "edit" in request.POST:
        # Change: back to the form, filled in as confirmed (the file's URLs in the box).
        if isinstance(form, CrawlStartForm):
            return _start_page(request, crawl=form)
        assert isinstance(form, BatchStartForm)
        return _start_page(request, batch=form, retry_of=form.cleaned_data.get("retry_of"))
    plan = form.plan()
    outcome = starting.start(
        request.user, plan, token=confirm.token, idempotency_key=confirm.idempotency_key
    )
    if outcome.pending:
        # An earlier press of this form is waiting for Firecrawl: this one does not wait in
        # the request, it goes to a page that asks again until that press has its answer.
        StartRequest.objects.filter(token=confirm.token, owner=request.user).update(
            payload=confirm.cleaned_data["payload"]
        )
        return redirect("jobs:start_outcome", token=confirm.token)
    if outcome.job is not None and not outcome.duplicate:
        request_sync(outcome.job)
    return _outcome_page(request, confirm, outcome)


@require_safe
def start_outcome(request: AuthenticatedRequest, token: uuid.UUID) -> HttpResponse:
    """Where a second press of Confirm waits for the first one's answer: this page reloads
    itself until the answer is in, then shows it as the first press would have."""
    claim = get_object_or_404(StartRequest, token=token, owner=request.user)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text())
    outcome = starting.outcome_of_earlier_press(claim)
    if outcome.pending:
        context = {"refresh_seconds": OUTCOME_REFRESH_SECONDS, "nav": "start"}
        return render(request, "jobs/start_waiting.html", context)
    confirm = ConfirmStartForm({"payload": claim.payload}, owner=request.user)
    if outcome.job is None and (not confirm.is_valid() or confirm.start_form is None):
        # The confirmation is too old to show again: say what happened, from the Start page.
        messages.error(request, outcome.error)
        return redirect("jobs:start")
    return _outcome_page(request, confirm, outcome)


def _outcome_page(
    request: AuthenticatedRequest, confirm: ConfirmStartForm, outcome: starting.StartOutcome
) -> HttpResponse:
    """What a press of Confirm shows once its outcome is known: the job, or the confirmation
    again with what went wrong."""
    if outcome.job is not None:
        job = outcome.job
        if outcome.duplicate:
            messages.info(request, "This start was already confirmed; here is its job.")
        else:
            messages.success(request, "Started on Firecrawl. Results are cached here as they come.")
        if job.invalid_urls and not outcome.duplicate:
            messages.warning(
                request,
                f"Firecrawl skipped {len(job.invalid_urls):,} invalid URL"
                f"{'' if len(job.invalid_urls) == 1 else 's'} (listed on this page).",
            )
        return redirect("jobs:job", pk=job.pk)
    form = confirm.start_form
    assert form is not None  # validated by the caller
    plan = form.plan()
    # Nothing was tracked. A new token for the next press; the same idempotency key only when
    # Firecrawl may have started the job and checks the key (then a second press is safe).
    keep = outcome.uncertain and starting.sends_idempotency_key(plan.api_key, plan.kind)
    key = confirm.idempotency_key if keep else uuid.uuid4()
    return _confirmation(request, form, outcome=outcome, idempotency_key=key)


@require_safe
def retry_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A new batch of the job's failed URLs: straight to the confirmation with the job's own
    options when it was started here, else the batch form filled in to choose them."""
    job = get_job_for_user(request, pk)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text(), job=job)
    data = retry_data(job)
    if data is None:
        messages.info(request, "This job has no failed URLs to retry.")
        return redirect("jobs:job", pk=job.pk)
    if job.started_here and job.api_key_id is not None:
        form = BatchStartForm(MultiValueDict(data), owner=request.user)
        if form.is_valid():
            return _confirmation(request, form)
        return _start_page(request, batch=form, retry_of=job)
    # Not started here: how its pages were read is not known, so the person chooses.
    initial = {name: data[name][0] for name in ("urls", "label", "retry_of") if data[name]}
    if job.api_key_id is not None:
        initial["api_key"] = job.api_key_id
    return _start_page(
        request, batch=BatchStartForm(initial=initial, owner=request.user), retry_of=job
    )


@require_safe
def run_again(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Start the job again with the same URLs and options: its confirmation, as after the
    start form; the form itself, filled in, when something no longer holds (its key was
    deleted, a limit was lowered)."""
    job = get_job_for_user(request, pk)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text(), job=job)
    if not job.can_run_again:
        messages.info(request, "This job was not started here: its options are not known.")
        return redirect("jobs:job", pk=job.pk)
    data = MultiValueDict(run_again_data(job))
    if job.kind == Job.Kind.CRAWL:
        crawl = CrawlStartForm(data, owner=request.user)
        return (
            _confirmation(request, crawl) if crawl.is_valid() else _start_page(request, crawl=crawl)
        )
    batch = BatchStartForm(data, owner=request.user)
    return _confirmation(request, batch) if batch.is_valid() else _start_page(request, batch=batch)


def _start_page(
    request: AuthenticatedRequest,
    *,
    batch: BatchStartForm | None = None,
    crawl: CrawlStartForm | None = None,
    retry_of: Job | None = None,
    tab: str | None = None,
    batch_refused: str = "",
) -> HttpResponse:
    """The Start page, a tab per kind: the one asked for, else the one a form came back to."""
    if tab is None:
        tab = Job.Kind.CRAWL if crawl is not None else Job.Kind.BATCH
    batch = batch or BatchStartForm(owner=request.user)
    context = {
        "batch_form": batch,
        "batch_refused": batch_refused,
        "crawl_form": crawl or CrawlStartForm(owner=request.user),
        "has_keys": batch.default_key is not None,
        "retry_of": retry_of,
        "tab": tab,
        "nav": "start",
    }
    return render(request, "jobs/start.html", context)


def _confirmation(
    request: AuthenticatedRequest,
    form: StartForm,
    *,
    outcome: starting.StartOutcome | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> HttpResponse:
    plan = form.plan()
    credits, credits_note = starting.remaining_credits(plan.api_key)
    payload = sign_confirmation(
        request.user,
        form,
        token=uuid.uuid4(),
        idempotency_key=idempotency_key or uuid.uuid4(),
    )
    context = {
        "plan": plan,
        "options": start_options.described(plan.kind, plan.api_key.api_version, plan.options),
        "payload": payload,
        "credits": credits,
        "credits_note": credits_note,
        "short_of_credits": credits is not None and credits < plan.estimated_credits,
        "outcome": outcome,
        "nav": "start",
    }
    return render(request, "jobs/start_confirm.html", context)
