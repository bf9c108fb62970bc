from django.urls import path

from jobs.views import documents, downloads, imports, jobs, keys, start

app_name = "jobs"

urlpatterns = [
    path("", jobs.dashboard, name="dashboard"),
    path("jobs/<int:pk>/", jobs.job_detail, name="job"),
    path("jobs/<int:pk>/refresh/", jobs.refresh_job, name="refresh_job"),
    path("jobs/<int:pk>/cancel/", jobs.cancel_job, name="cancel_job"),
    path("jobs/<int:pk>/delete/", jobs.delete_job, name="delete_job"),
    path("jobs/<int:pk>/key/", jobs.change_job_key, name="change_job_key"),
    path("jobs/<int:pk>/retry/", start.retry_job, name="retry_job"),
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
    path("jobs/<int:pk>/download.<slug:format>", downloads.download, name="download"),
    path("jobs/<int:pk>/failed.<slug:format>", downloads.download_failed, name="download_failed"),
    path("keys/", keys.keys, name="keys"),
    path("keys/<int:pk>/rename/", keys.rename_key, name="rename_key"),
    path("keys/<int:pk>/default/", keys.make_default_key, name="make_default_key"),
    path("keys/<int:pk>/delete/", keys.delete_key, name="delete_key"),
    path("keys/<int:pk>/import/", imports.import_jobs, name="import_jobs"),
    path("keys/<int:pk>/auto-import/", imports.auto_import, name="auto_import"),
    path("start/", start.start, name="start"),
    path("start/batch/", start.start_batch, name="start_batch"),
    path("start/crawl/", start.start_crawl, name="start_crawl"),
    path("start/confirm/", start.confirm_start, name="confirm_start"),
]
