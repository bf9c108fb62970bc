"""The log-in forms (the site's and the admin's), sign-up, and the form that creates an API
token; password change is Django's form as it is."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from accounts import throttle
from accounts.models import ApiToken


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


class TokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name", "scope"]
        labels = {"name": "Name", "scope": "Scope"}
        widgets = {"scope": forms.RadioSelect}
        help_texts = {
            "scope": "Read only: list jobs and read their documents and downloads. Read and "
            "write also tracks, starts, retries and stops tracking jobs.",
        }

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if ApiToken.objects.filter(owner=self.owner, name=name).exists():
            raise forms.ValidationError("You have a token with this name already.")
        return name

    def create(self) -> tuple[ApiToken, str]:
        """The new token's row, and the token itself (shown once)."""
        return ApiToken.objects.create_token(
            owner=self.owner, name=self.cleaned_data["name"], scope=self.cleaned_data["scope"]
        )
