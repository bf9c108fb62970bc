"""Finding a key's jobs on Firecrawl: the import page (Track, Track all) and the switch that
lets the worker track a key's new jobs by itself.

The page reads the listings within one web deadline in all (however many pages), shows at most
FIRECRAWL_IMPORT_MAX_JOBS jobs, and Track all tracks them in bulk with their syncs queued in one
pass (keys.listings, jobs.tasks.request_syncs).
"""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

import firecrawl_api
from firecrawl_dash.forms import NoParameters
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs.models import Job
from jobs.tasks import request_syncs
from keys import clients, listings
from keys.forms.imports import AutoImportForm, TrackListedForm, sign_jobs
from keys.models import ApiKey
from keys.views.common import get_key_for_user


@require_http_methods(["GET", "POST"])
def import_jobs(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    if request.method == "POST":
        form = TrackListedForm(request.POST, owner=request.user, key=key)
        if form.is_valid():
            tracked = listings.track_found(request.user, key, form.found)
            request_syncs(tracked)
            if len(form.found) == 1 and "job" in request.POST:
                # One job: land on its page, as Track does on the Jobs page.
                job_id = form.found[0].id
                job = Job.objects.for_user(request.user).filter(remote_id=job_id).first()
                if job is not None:
                    if label := form.cleaned_data["label"]:
                        job.relabel(label)
                    if tracked:
                        messages.success(
                            request,
                            "Tracking started. Results are cached as Firecrawl reports them.",
                        )
                    else:
                        messages.info(request, "You already track this job; here it is.")
                    return redirect("jobs:job", pk=job.pk)
            messages.success(
                request, f"Tracking {len(tracked):,} job{'' if len(tracked) == 1 else 's'}."
            )
            return redirect("jobs:dashboard")
        messages.error(request, " ".join(str(error) for error in form.non_field_errors()))
        return redirect("keys:import_jobs", pk=key.pk)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text())
    context: dict[str, object] = {"key": key, "nav": "keys", "error": "", "jobs": []}
    listing = listings.Listing.of()
    try:
        # However many pages, the whole reading within one web deadline.
        with clients.for_key_on_web(key, finish_by=clients.web_budget()) as client:
            stopped = listing.read_all(client)
    except firecrawl_api.FirecrawlError as exc:
        context["error"] = exc.message
    else:
        jobs = listings.untracked(request.user, listing.jobs)
        context.update(
            listing=listing,
            stopped=stopped,
            jobs=jobs,
            listed=len(listing.found),
            all_jobs=sign_jobs(request.user, key, jobs) if jobs else "",
            rows=[(job, sign_jobs(request.user, key, [job])) for job in jobs],
            max_jobs=settings.FIRECRAWL_IMPORT_MAX_JOBS,
            max_pages=settings.FIRECRAWL_IMPORT_MAX_PAGES,
            activity_note=listings.activity_unavailable_note(listing.activity_unavailable)
            if listing.activity_unavailable
            else "",
        )
    return render(request, "keys/import.html", context)


@require_POST
def auto_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    form = AutoImportForm(request.POST, instance=key)
    if form.is_valid():
        # Only the switch (workers update the key's budget concurrently); turned on, the next
        # round of the worker's scheduler imports at once.
        on = form.cleaned_data["auto_import"]
        ApiKey.objects.filter(pk=key.pk).update(
            auto_import=on,
            import_due_at=None,
            import_round=None,
            import_failures=0,
            import_error="",
        )
        if on:
            messages.success(
                request, f"New jobs started with “{key.name}” are tracked automatically."
            )
        else:
            messages.success(
                request, f"New jobs of “{key.name}” are no longer tracked automatically."
            )
    return redirect("keys:keys")
