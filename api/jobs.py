"""/api/v1/jobs: list, track, read and stop tracking jobs, as the dashboard and the job page do."""

from typing import Any

from django.db.models import F
from django.http import HttpResponse
from django.urls import reverse
from ninja import Path, Router, Status

from api.auth import read, write
from api.cursor import next_url, read_page
from api.errors import ApiError, error_responses
from api.forms import JobListQuery
from api.params import query_parameters, validated
from api.schemas import MAX_ID, JobDetailOut, JobOut, JobPage, TrackIn
from firecrawl_dash.forms import error_text
from jobs.forms.dashboard import TrackForm
from jobs.models import Job
from jobs.progress import progress_summary
from jobs.tasks import request_sync_if_due, stop_tracking
from jobs.views.common import get_job_for_user
from keys.views.common import get_key_for_user

router = Router(tags=["Jobs"])

# Newest first, as the dashboard lists them; the id breaks ties.
ORDER = [F("created_at").desc(), F("id").desc()]
JobId = Path(..., ge=1, le=MAX_ID, description="The dashboard's id of the job.")


def jobs_in_order(ids: list[int]) -> list[Job]:
    found = Job.objects.tracked().select_related("api_key").defer("api_key__key").in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@router.get(
    "/jobs",
    response={200: JobPage, **error_responses(404)},
    auth=read,
    operation_id="list_jobs",
    summary="List your jobs, newest first",
    openapi_extra={"parameters": query_parameters(JobListQuery)},
)
def list_jobs(request: Any) -> dict[str, Any]:
    query = validated(JobListQuery(request.GET))
    if key := query.cleaned_data.get("key"):
        get_key_for_user(request, key)  # another user's key is a 404, as on the pages
    jobs = query.filter(Job.objects.for_user(request.user))
    page = read_page(jobs, ORDER, cursor=query.cursor_text, name="jobs", size=query.page_size)
    return {"results": jobs_in_order(page.ids), "next": next_url(request, page)}


@router.post(
    "/jobs",
    response={200: JobOut, 201: JobOut, **error_responses(403, 404)},
    auth=write,
    operation_id="track_job",
    summary="Track a job by its Firecrawl id (or a URL containing it)",
    description="The Track form of the dashboard: the same id reading (a pasted /crawl/<id> "
    "URL says it is a crawl), your default key unless `key` names another, and one job per "
    "id: tracking a job you track already answers 200 with it (201 when it is new).",
)
def track_job(request: Any, payload: TrackIn, response: HttpResponse) -> Status[Job]:
    if payload.key is not None:
        get_key_for_user(request, payload.key)
    data = {"job_id": payload.job_id, "label": payload.label, "api_key": payload.key or ""}
    form = TrackForm(data, owner=request.user)
    if not form.is_valid():
        raise ApiError(400, error_text(form))
    job, created = form.track()
    response["Location"] = reverse("api:job", kwargs={"job_id": job.pk})
    return Status(201 if created else 200, job)


@router.get(
    "/jobs/{int:job_id}",
    response={200: JobDetailOut, **error_responses(404)},
    auth=read,
    operation_id="get_job",
    url_name="job",
    summary="A job: its status, numbers and whether it is settled and complete",
)
def get_job(request: Any, job_id: int = JobId) -> Job:
    job = get_job_for_user(request, job_id)
    # As the job page's poll: never waits for Firecrawl, asks the worker when a read is due.
    request_sync_if_due(job)
    progress = progress_summary(job)
    job.pages_per_minute = progress.per_minute  # type: ignore[attr-defined]
    job.eta_seconds = progress.eta.total_seconds() if progress.eta else None  # type: ignore[attr-defined]
    return job


@router.delete(
    "/jobs/{int:job_id}",
    response={204: None, **error_responses(403, 404)},
    auth=write,
    operation_id="stop_tracking_job",
    summary="Stop tracking a job: its cached documents are deleted (not the job on Firecrawl)",
    description="The job is gone from every answer at once (404 from then on); its documents "
    "and failed URLs are deleted in the background, as when the job page's Stop tracking is "
    "pressed.",
)
def stop_tracking_job(request: Any, job_id: int = JobId) -> Status[None]:
    job = get_job_for_user(request, job_id)
    stop_tracking(job)  # gone from every list at once; its rows are deleted in the background
    return Status(204, None)
