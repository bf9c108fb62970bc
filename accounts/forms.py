"""Account forms: Django's own, with labels exactly as written ("Username", not "Username:")."""

from typing import Any

from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, UserCreationForm


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SignUpForm(UserCreationForm):
    """Username and password only: the dashboard needs nothing else about a person."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
