"""The admin logs in through the throttled form, and shows recent log-in failures (deleting an
account's failures lifts its lock) and API tokens (deleting one revokes it)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.forms import AdminLoginForm
from accounts.models import ApiToken, LoginFailure

admin.site.login_form = AdminLoginForm


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["username", "ip_address", "at"]
    search_fields = ["username", "ip_address"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "scope", "created_at", "last_used_at"]
    list_filter = ["scope"]
    search_fields = ["name", "owner__username"]
    # Only its digest is stored: a token is made by its owner, on the API tokens page.
    readonly_fields = ["name", "owner", "scope", "hint", "created_at", "last_used_at"]
    exclude = ["digest"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
