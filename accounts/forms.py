"""The log-in forms (the site's and the admin's); sign-up and password change use Django's forms
as they are."""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts import throttle


class LoginForm(AuthenticationForm):
    """Django's log-in form, throttled against password guessing (see accounts.throttle)."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        ip = throttle.client_ip(self.request)
        device = throttle.known_device(self.request, username)
        if wait := throttle.seconds_locked(username, ip, device):
            raise ValidationError(locked_message(wait, "log-ins"), code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            # Only a wrong password counts: the admin also refuses right ones of non-staff.
            if self.get_user() is None:
                throttle.record_failure(username, ip, device)
            raise
        throttle.clear_failures(username, device)
        return cleaned


def locked_message(wait: int, what: str) -> str:
    minutes = max(1, round(wait / 60))
    return f"Too many failed {what}. Try again in {minutes} minute{'s' * (minutes != 1)}."


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin's log-in form (staff only), with the same throttle and the same counts."""
