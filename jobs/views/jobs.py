"""The dashboard (track a batch, list jobs) and the job page with its live-progress partial."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from jobs import firecrawl
from jobs.forms import JobFilterForm, JobKeyForm, TrackForm
from jobs.models import ApiKey, Job
from jobs.progress import progress_summary
from jobs.tasks import request_sync
from jobs.views.common import AuthenticatedRequest, get_job_for_user

JOBS_PER_PAGE = 50
FAILED_URLS_SHOWN = 500  # the rest are in the zip's errors.json


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    form = TrackForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        return _track(request, form)
    filters = JobFilterForm(request.GET)
    jobs = Job.objects.for_user(request.user)
    status = filters.cleaned_data.get("status") if filters.is_valid() else ""
    if status:
        jobs = jobs.filter(status=status)
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "has_keys": form.default_key is not None,  # the form has loaded the user's keys
        "page": page,
        "status": status,
        "filters": filters,
        "nav": "jobs",
    }
    return render(request, "jobs/dashboard.html", context)


def _track(request: AuthenticatedRequest, form: TrackForm) -> HttpResponse:
    key: ApiKey = form.cleaned_data["api_key"]
    remote_id = form.cleaned_data["batch_id"]
    existing = Job.objects.filter(owner=request.user, kind=Job.Kind.BATCH, remote_id=remote_id)
    if job := existing.first():
        messages.info(request, "You already track this batch; here it is.")
        return redirect("jobs:job", pk=job.pk)
    try:
        with transaction.atomic():
            job = Job.objects.create(
                owner=request.user,
                api_key=key,
                api_url=key.api_url,
                api_version=key.api_version,
                kind=Job.Kind.BATCH,
                remote_id=remote_id,
                label=form.cleaned_data["label"],
            )
    except IntegrityError:
        # A double submit raced us to it: open the one that won.
        job = existing.get()
    else:
        request_sync(job)
        messages.success(request, "Tracking started. Results are cached as Firecrawl reports them.")
    return redirect("jobs:job", pk=job.pk)


def job_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if not job.is_settled and job.next_poll_at <= timezone.now() and not _lease_held(job):
        # The poll never waits for Firecrawl: it shows what is stored and asks the worker.
        request_sync(job)
    context = {"job": job, "progress": progress_summary(job), "nav": "jobs"}
    if request.htmx and not request.htmx.history_restore_request:
        # The poll renders only the status fragment: nothing else is queried.
        response = render(request, "jobs/job_detail.html#status", context)
        if job.is_settled:
            # 286 tells htmx to stop polling; the settled fragment is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
    else:
        key_form = None
        if job.api_key_id is None or job.needs_attention:
            key_form = JobKeyForm(job=job)
            if not key_form.has_choices():
                key_form = None
        context |= {
            "key_form": key_form,
            "failed_urls": job.failed_urls.all()[:FAILED_URLS_SHOWN],
            "failed_count": job.failed_urls.count(),
        }
        response = render(request, "jobs/job_detail.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _lease_held(job: Job) -> bool:
    return job.lease_expires_at is not None and job.lease_expires_at > timezone.now()


@require_POST
def refresh_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    # The user may have fixed the key or topped up credits: try again now.
    Job.objects.filter(pk=job.pk).update(
        next_poll_at=timezone.now(), needs_attention=False, consecutive_failures=0
    )
    job.refresh_from_db()
    if job.api_key_id is None:
        messages.error(request, "This job's API key was deleted; it can no longer be refreshed.")
    elif job.expired_upstream:
        messages.info(request, "Firecrawl has deleted this job; the cached results stay here.")
    else:
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
    Job.objects.filter(pk=job.pk).update(
        api_key=key,
        api_version=key.api_version,
        needs_attention=False,
        consecutive_failures=0,
        next_poll_at=timezone.now(),
    )
    job.refresh_from_db()
    request_sync(job)
    messages.success(request, f"This job is now read with “{key.name}”.")
    return redirect("jobs:job", pk=job.pk)


@require_POST
def cancel_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if job.api_key is None or job.is_terminal:
        messages.error(request, "This job cannot be cancelled.")
        return redirect("jobs:job", pk=job.pk)
    client = firecrawl.FirecrawlClient(job.api_url, job.api_key.key, job.api_version)
    try:
        with client:
            client.cancel(str(job.remote_id), kind=job.kind)
    except firecrawl.FirecrawlError as exc:
        messages.error(request, f"Could not cancel the job: {exc.message}")
    else:
        Job.objects.filter(pk=job.pk).update(next_poll_at=timezone.now())
        request_sync(job)
        messages.success(request, "Cancel requested. Documents already scraped are still cached.")
    return redirect("jobs:job", pk=job.pk)


def delete_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    if request.method == "POST":
        job.delete()
        messages.success(request, f"Stopped tracking {job}; its cached documents were deleted.")
        return redirect("jobs:dashboard")
    return render(request, "jobs/job_delete.html", {"job": job, "nav": "jobs"})
