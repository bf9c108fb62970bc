"""Admin for staff. API keys appear only masked: the form never shows or edits the secret."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from keys.models import ApiKey


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
