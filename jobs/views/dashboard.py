"""The dashboard: track a job, and the list of the user's jobs (refreshed while one can change)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseStopPolling

from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs.forms.dashboard import JobFilterForm, TrackForm
from jobs.models import Job
from jobs.pagination import JOBS_PER_PAGE, ListPaginator, PageOutOfRange


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    form = None
    if request.method == "POST":
        form = TrackForm(request.POST, owner=request.user)
        if form.is_valid():
            return _track(request, form)
    filters = JobFilterForm(request.GET)
    if not filters.is_valid():
        return invalid_query(request, filters.error_text())
    jobs = filters.filter(Job.objects.for_user(request.user).for_list())
    try:
        page = ListPaginator(jobs, JOBS_PER_PAGE).page_or_out_of_range(
            filters.cleaned_data["page"] or 1
        )
    except PageOutOfRange as exc:
        return invalid_query(request, exc.message, status=404)
    context = {
        "page": page,
        # The list refreshes itself while a job on this page can still change.
        "polling": any(job.is_active for job in page.object_list),
        "filters": filters,
        "nav": "jobs",
    }
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "jobs/dashboard.html#jobs", context)
        if not context["polling"]:
            # 286 tells htmx to stop polling; the final list is still swapped in.
            response.status_code = HttpResponseStopPolling.status_code
    else:
        form = form or TrackForm(owner=request.user)
        context["form"] = form
        context["has_keys"] = form.default_key is not None  # the form has loaded the user's keys
        response = render(request, "jobs/dashboard.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _track(request: AuthenticatedRequest, form: TrackForm) -> HttpResponse:
    job, created = form.track()
    if form.server_note:
        messages.warning(request, form.server_note)
    if not created:
        messages.info(request, "You already track this job; here it is.")
    else:
        messages.success(request, "Tracking started. Results are cached as Firecrawl reports them.")
    return redirect("jobs:job", pk=job.pk)
