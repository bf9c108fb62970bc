"""Admin for staff. API keys appear only masked: the form never shows or edits the secret."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs.models import ApiKey, Document, FailedUrl, Job


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "key_hint", "api_url", "api_version", "is_default"]
    list_filter = ["api_version", "is_default"]
    search_fields = ["name", "owner__username"]
    fields = [
        "owner",
        "name",
        "key_hint",
        "api_url",
        "api_version",
        "is_default",
        "remaining_credits",
        "last_used_at",
        "last_error",
        "created_at",
    ]
    readonly_fields = [
        "owner",
        "key_hint",
        # The owner picks the default on the keys page, which keeps exactly one; a checkbox here
        # could tick a second one (an IntegrityError) or untick the only one.
        "is_default",
        "remaining_credits",
        "last_used_at",
        "last_error",
        "created_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Keys are added by their owners on the API keys page, where they are checked.
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).defer("key")


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
