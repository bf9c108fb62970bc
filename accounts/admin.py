"""The admin logs in through the throttled form, and shows recent log-in failures; deleting an
account's failures lifts its lock."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.forms import AdminLoginForm
from accounts.models import LoginFailure

admin.site.login_form = AdminLoginForm


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    list_display = ["username", "ip_address", "at"]
    search_fields = ["username", "ip_address"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
