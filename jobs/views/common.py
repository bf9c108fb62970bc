"""What every view of the jobs app shares: objects reached through their owner, and the page
that says why a query string cannot be served."""

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_htmx.middleware import HtmxDetails

from jobs.models import Job


class AuthenticatedRequest(HttpRequest):
    """Every view but login and sign-up requires a user (LoginRequiredMiddleware)."""

    user: User
    htmx: HtmxDetails


def get_job_for_user(request: AuthenticatedRequest, pk: int) -> Job:
    """The user's job, or a 404: another user's job id looks exactly like a missing one."""
    return get_object_or_404(Job.objects.select_related("api_key"), pk=pk, owner=request.user)


def invalid_query(
    request: AuthenticatedRequest, message: str, *, status: int = 400, job: Job | None = None
) -> HttpResponse:
    """A 400 (or, for a page past the end, a 404) that says what is wrong with the address,
    rather than a silent clamp that would show something other than what was asked for."""
    context = {"message": message, "job": job, "not_found": status == 404, "nav": "jobs"}
    return render(request, "invalid_query.html", context, status=status)
