"""The jobs app's pages: the dashboard, a job and its actions, its documents, downloads, Start."""

from django.urls import path

from jobs.views import dashboard, documents, downloads, job, start

app_name = "jobs"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("jobs/<int:pk>/", job.job_detail, name="job"),
    path("jobs/<int:pk>/refresh/", job.refresh_job, name="refresh_job"),
    path("jobs/<int:pk>/cancel/", job.cancel_job, name="cancel_job"),
    path("jobs/<int:pk>/delete/", job.delete_job, name="delete_job"),
    path("jobs/<int:pk>/key/", job.change_job_key, name="change_job_key"),
    path("jobs/<int:pk>/retry/", start.retry_job, name="retry_job"),
    path("jobs/<int:pk>/again/", start.run_again, name="run_again"),
    path("jobs/<int:pk>/documents/", documents.document_list, name="documents"),
    path("jobs/<int:pk>/documents/<int:position>/", documents.document_detail, name="document"),
    path(
        "jobs/<int:pk>/documents/<int:position>/preview/",
        documents.document_preview,
        name="document_preview",
    ),
    path(
        "jobs/<int:pk>/documents/<int:position>/markdown/",
        documents.document_markdown,
        name="document_markdown",
    ),
    path(
        "jobs/<int:pk>/documents/<int:position>/screenshots/<int:shot>/",
        documents.document_screenshot,
        name="document_screenshot",
    ),
    path("jobs/<int:pk>/download.<slug:format>", downloads.download, name="download"),
    path("jobs/<int:pk>/failed.<slug:format>", downloads.download_failed, name="download_failed"),
    path("start/", start.start, name="start"),
    path("start/batch/", start.start_batch, name="start_batch"),
    path("start/crawl/", start.start_crawl, name="start_crawl"),
    path("start/confirm/", start.confirm_start, name="confirm_start"),
    path("start/confirm/<uuid:token>/", start.start_outcome, name="start_outcome"),
]
