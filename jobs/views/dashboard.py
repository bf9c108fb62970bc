"""The dashboard: track a job, and the list of the user's jobs (refreshed while one can change)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django_htmx.http import HttpResponseStopPolling

from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs.forms.dashboard import JobFilterForm, TrackForm
from jobs.models import Job

JOBS_PER_PAGE = 50


def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    form = None
    if request.method == "POST":
        form = TrackForm(request.POST, owner=request.user)
        if form.is_valid():
            return _track(request, form)
    filters = JobFilterForm(request.GET)
    if not filters.is_valid():
        return invalid_query(request, filters.error_text())
    jobs = filters.filter(Job.objects.for_user(request.user))
    status = filters.cleaned_data["status"]
    paginator = Paginator(jobs, JOBS_PER_PAGE, allow_empty_first_page=True)
    number = filters.cleaned_data["page"] or 1
    if number > paginator.num_pages:
        pages = f"{paginator.num_pages:,} page" + ("" if paginator.num_pages == 1 else "s")
        message = f"There is no page {number:,}: this list has {pages}."
        return invalid_query(request, message, status=404)
    page = paginator.page(number)
    context = {
        "page": page,
        # The list refreshes itself while a job on this page can still change.
        "polling": any(job.is_active for job in page.object_list),
        "status": status,
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
    if not created:
        messages.info(request, "You already track this job; here it is.")
    else:
        messages.success(request, "Tracking started. Results are cached as Firecrawl reports them.")
    return redirect("jobs:job", pk=job.pk)
