"""The log-in forms (the site's and the admin's) and sign-up; password change is Django's form
as it is."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from accounts import throttle


class SignupForm(UserCreationForm[User]):
    """Django's sign-up form and an optional address, for the notifications it turns on; its
    password rules' complaints under Password, the field they are about (Django puts them under
    Password confirmation)."""

    email = forms.EmailField(
        label="Email",
        required=False,
        max_length=254,
        help_text="Optional. With an address you get an email when a job finishes or needs "
        "attention; change that under Notifications.",
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def validate_password_for_user(self, user: Any, **kwargs: Any) -> None:
        # Django's SetPasswordMixin method (not in django-stubs yet).
        super().validate_password_for_user(  # type: ignore[misc]
            user, password_field_name="password1"
        )


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
