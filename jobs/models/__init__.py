"""The jobs app's models: tracked jobs with their state machine, cached documents and their
screenshots, failed URLs, progress samples, and the claims that keep one press of Confirm to one
started job."""

from jobs.models.documents import (
    SORT_PREFIX,
    SUMMARY_FIELDS,
    Document,
    DocumentQuerySet,
    SortPrefix,
)
from jobs.models.failed_urls import FailedUrl
from jobs.models.jobs import Job, JobGone, JobQuerySet, LeaseLost, ProgressSample
from jobs.models.screenshots import Screenshot, ScreenshotCounts
from jobs.models.start_requests import StartRequest

__all__ = [
    "SORT_PREFIX",
    "SUMMARY_FIELDS",
    "Document",
    "DocumentQuerySet",
    "FailedUrl",
    "Job",
    "JobGone",
    "JobQuerySet",
    "LeaseLost",
    "ProgressSample",
    "Screenshot",
    "ScreenshotCounts",
    "SortPrefix",
    "StartRequest",
]
