"""What every app's views share: the request type of a logged-in user, and the page that says
why a query string cannot be served."""

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from jobs.models import Job


class AuthenticatedRequest(HttpRequest):
    """Every view but login and sign-up requires a user (LoginRequiredMiddleware)."""

    user: User
    htmx: HtmxDetails


def invalid_query(
    request: AuthenticatedRequest, message: str, *, status: int = 400, job: "Job | None" = None
) -> HttpResponse:
    """A 400 (or, for a page past the end, a 404) that says what is wrong with the address,
    rather than a silent clamp that would show something other than what was asked for."""
    context = {"message": message, "job": job, "not_found": status == 404, "nav": "jobs"}
    return render(request, "invalid_query.html", context, status=status)
