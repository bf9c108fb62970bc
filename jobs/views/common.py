"""What every view of the jobs app shares: a job reached through its owner."""

from django.shortcuts import get_object_or_404

from firecrawl_dash.views import AuthenticatedRequest
from jobs.models import Job


def get_job_for_user(request: AuthenticatedRequest, pk: int) -> Job:
    """The user's job, or a 404: another user's job id looks exactly like a missing one."""
    return get_object_or_404(Job.objects.for_user(request.user).select_related("api_key"), pk=pk)
