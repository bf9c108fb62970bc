"""Access control shared by every view of a job: objects are always reached through their owner."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django_htmx.middleware import HtmxDetails

from jobs.models import Job


class AuthenticatedRequest(HttpRequest):
    """Every view but login and sign-up requires a user (LoginRequiredMiddleware)."""

    user: User
    htmx: HtmxDetails


def get_job_for_user(request: AuthenticatedRequest, pk: int) -> Job:
    """The user's job, or a 404: another user's job id looks exactly like a missing one."""
    return get_object_or_404(Job.objects.select_related("api_key"), pk=pk, owner=request.user)
