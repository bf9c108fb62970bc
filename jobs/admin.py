"""Admin for staff: jobs, their documents and failed URLs."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs.models import Document, FailedUrl, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "owner",
        "status",
        "completed",
        "total",
        "documents_cached",
        "failed_count",
        "sync_state",
        "updated_at",
    ]
    list_filter = ["status", "kind", "sync_state"]
    search_fields = ["label", "remote_id", "owner__username"]
    raw_id_fields = ["owner", "api_key", "retry_of"]
    readonly_fields = ["lease_token", "lease_expires_at", "sync_queued_for", "index_queued_at"]


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["position", "job", "title", "url", "status_code", "size"]
    raw_id_fields = ["job"]
    search_fields = ["url", "title"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return super().get_queryset(request).defer("raw")


@admin.register(FailedUrl)
class FailedUrlAdmin(admin.ModelAdmin):
    list_display = ["url", "job", "code", "robots_blocked"]
    raw_id_fields = ["job"]
