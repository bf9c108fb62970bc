"""The jobs app's models: API keys, tracked jobs with their state machine, cached documents,
and the claims that keep one press of Confirm to one started job."""

from jobs.models.documents import (
    SORT_PREFIX,
    SUMMARY_FIELDS,
    Document,
    DocumentQuerySet,
    SortPrefix,
)
from jobs.models.jobs import FailedUrl, Job, JobGone, JobQuerySet, LeaseLost, ProgressSample
from jobs.models.keys import ApiKey, allowed_api_url
from jobs.models.starts import StartRequest

__all__ = [
    "SORT_PREFIX",
    "SUMMARY_FIELDS",
    "ApiKey",
    "Document",
    "DocumentQuerySet",
    "FailedUrl",
    "Job",
    "JobGone",
    "JobQuerySet",
    "LeaseLost",
    "ProgressSample",
    "SortPrefix",
    "StartRequest",
    "allowed_api_url",
]
