"""What every view of the jobs app (and the API's) shares: a job reached through its owner, and a
kept screenshot served as an image and nothing else."""

from typing import Any

from django.core.files.storage import storages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.csp import CSP

from firecrawl_dash.views import AuthenticatedRequest
from jobs.models import Job, Screenshot

# A kept screenshot is an image and nothing else, even opened on its own.
IMAGE_CSP: dict[str, Any] = {"default-src": [CSP.NONE], "sandbox": True}


def get_job_for_user(request: AuthenticatedRequest, pk: int) -> Job:
    """The user's job, or a 404: another user's job id looks exactly like a missing one."""
    return get_object_or_404(Job.objects.for_user(request.user).select_related("api_key"), pk=pk)


def kept_screenshot_response(job: Job, position: int, shot: int) -> FileResponse:
    """A kept screenshot of the job (reached through its owner), from storage, as the image type
    its first bytes said, never sniffed by the browser as anything else; a 404 otherwise. The
    caller applies IMAGE_CSP (csp_override)."""
    screenshot = get_object_or_404(Screenshot.objects.kept(), job=job, position=position, shot=shot)
    try:
        image = storages["default"].open(screenshot.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404("This screenshot's file is missing from storage.") from exc
    response = FileResponse(
        image, content_type=screenshot.content_type, filename=screenshot.filename
    )
    # The response itself says what the image is: no guessing from its bytes or its name.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=86400"
    return response
