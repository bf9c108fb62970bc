"""The job page with its live-progress partial, and the actions on a job: refresh, change its key,
cancel, stop tracking."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

import firecrawl_api
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs import start_options
from jobs.forms.job import FailedPageForm, JobKeyForm
from jobs.models import Job, Screenshot
from jobs.models.failed_urls import failure_groups
from jobs.pagination import PageOutOfRange
from jobs.progress import progress_summary
from jobs.tasks import request_sync, request_sync_if_due, stop_tracking
from jobs.views.common import get_job_for_user
from keys import clients
from keys.models import ApiKey


def job_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    query = FailedPageForm(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text(), job=job)
    # The poll never waits for Firecrawl: it shows what is stored and asks the worker.
    request_sync_if_due(job)
    poll = request.htmx and not request.htmx.history_restore_request
    shown = query.cleaned_data["failures_shown"]
    # The poll sends the failed URLs (out of band) only when there are new ones.
    failures_changed = shown != job.failures_listed
    failures = None
    if failures_changed or not poll:
        try:
            failures = failure_groups(job, query.cleaned_data["failed_page"] or 1)
        except PageOutOfRange as exc:
            return invalid_query(request, exc.message, status=404, job=job)
    screenshots = Screenshot.objects.counts(job)
    context = {
        "job": job,
        "progress": progress_summary(job),
        "screenshots": screenshots,
        # Why some are not kept (yet): only asked when some are not.
        "screenshot_reasons": Screenshot.objects.reasons(job)
        if screenshots.pending or screenshots.failed
        else [],
        # The page follows the job while a poll could change it, and its screenshots until
        # each is kept or failed (that comes after the documents).
        "polling": job.is_active or bool(screenshots.pending),
        "failures_changed": failures_changed,
        "failures": failures,
        "nav": "jobs",
    }
    if poll:
        response = render(request, "jobs/job_detail.html#status", context)
        if not context["polling"]:
            # 286 tells htmx to stop polling; the final fragment is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
    else:
        key_form = None
        if job.api_key_id is None or job.sync_state == Job.SyncState.PAUSED:
            key_form = JobKeyForm(job=job)
            if not key_form.has_choices():
                key_form = None
        context["key_form"] = key_form
        if job.started_here:
            context["options"] = start_options.described(
                job.kind, job.api_version, job.start_options or {}
            )
        response = render(request, "jobs/job_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def refresh_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if job.api_key_id is None:
        messages.error(request, "This job's API key was deleted; it can no longer be refreshed.")
    elif job.sync_state == Job.SyncState.EXPIRED:
        messages.info(request, "Firecrawl has deleted this job; the cached results stay here.")
    else:
        # The user may have fixed the key, topped up credits, or the job changed upstream.
        job.resume()
        request_sync(job)
        messages.success(request, "Refresh requested.")
    return redirect("jobs:job", pk=job.pk)


@require_POST
def change_job_key(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = JobKeyForm(request.POST, job=job)
    if not form.is_valid():
        messages.error(request, "Choose one of your keys for this job's Firecrawl server.")
        return redirect("jobs:job", pk=job.pk)
    key: ApiKey = form.cleaned_data["api_key"]
    job.use_key(key)
    request_sync(job)
    messages.success(request, f"This job is now read with “{key.name}”.")
    return redirect("jobs:job", pk=job.pk)


@require_POST
def cancel_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if not job.can_cancel:
        messages.error(request, "This job cannot be cancelled.")
        return redirect("jobs:job", pk=job.pk)
    assert job.api_key is not None  # can_cancel says so
    try:
        with clients.for_key_on_web(job.api_key) as client:
            client.cancel(str(job.remote_id), kind=job.kind)
    except firecrawl_api.FirecrawlError as exc:
        messages.error(request, f"Could not cancel the job: {exc.message}")
    else:
        # Firecrawl finishes a cancel in the background: the job is read until it settles.
        job.resume()
        request_sync(job)
        messages.success(request, "Cancel requested. Documents already scraped are still cached.")
    return redirect("jobs:job", pk=job.pk)


def delete_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if request.method == "POST":
        stop_tracking(job)
        messages.success(request, f"Stopped tracking {job}; its cached documents are deleted.")
        return redirect("jobs:dashboard")
    return render(request, "jobs/job_delete.html", {"job": job, "nav": "jobs"})
