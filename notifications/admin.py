"""Admin for staff: the messages sent and how their sending went (read-only: a message deleted
or edited here could be sent again)."""

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Message


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "owner", "channel", "kind", "status", "attempts", "created_at"]
    list_filter = ["channel", "kind", "status"]
    search_fields = ["subject", "owner__username"]
    fields = [
        "owner", "channel", "kind", "subject", "recipient", "status", "attempts",
        "last_error", "created_at", "sent_at", "uid",
    ]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
