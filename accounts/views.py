"""Log-in, sign-up, log-out and the API tokens page; password change is Django's own view.

Log-in is Django's, throttled (accounts.throttle), and remembers the browser as a known device
of the account. Sign-up says when a username is taken (it must: the person has to choose
another), but each such answer counts as a failed log-in of the address, so probing for
usernames costs what guessing passwords does.
"""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import throttle
from accounts.forms import LoginForm, SignupForm, TokenForm, locked_message
from accounts.models import ApiToken
from firecrawl_dash.views import AuthenticatedRequest
from notifications.models import NotificationSettings


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        throttle.remember_device(self.request, response, form.get_user().get_username())
        return response


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.REGISTRATION_OPEN:
        raise Http404("Sign-up is closed on this server")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    # A username and a password; an address only for those who want notifications.
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        ip = throttle.client_ip(request)
        if wait := throttle.seconds_address_locked(ip):
            # Before the username is even looked at: no answer about it while throttled.
            form = SignupForm()
            form.cleaned_data = {}
            form.add_error(None, locked_message(wait, "attempts from your address"))
        elif form.is_valid():
            user = form.save()
            if user.email:
                # What the sign-up form promises: told when a job finishes or needs attention.
                NotificationSettings.objects.for_user(user).email_about_jobs()
            login(request, user)
            messages.success(
                request, f"Welcome, {user.username}. Add a Firecrawl API key to begin."
            )
            return redirect("keys:keys")
        elif form.has_error("username", "unique"):
            throttle.record_failure(throttle.SIGN_UP, ip)
    return render(request, "registration/signup.html", {"form": form})


class LogoutView(auth_views.LogoutView):
    """Django's log-out, saying so on the page it lands on (the log-in page)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After the session is flushed: the message travels in the messages cookie.
        messages.info(request, "Logged out.")
        return response


# The page that shows a new token holds it: no cache may keep it.
@never_cache
def tokens(request: AuthenticatedRequest) -> HttpResponse:
    """The user's API tokens: create one (shown once, on this response only), revoke one."""
    form = TokenForm(request.POST or None, owner=request.user)
    new_token = None
    if request.method == "POST" and form.is_valid():
        row, new_token = form.create()
        messages.success(request, f"Token “{row.name}” created. Copy it now: it is shown once.")
        form = TokenForm(owner=request.user)
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(owner=request.user),
        "new_token": new_token,
        "nav": "tokens",
    }
    return render(request, "accounts/tokens.html", context)


def get_token_for_user(request: AuthenticatedRequest, pk: int) -> ApiToken:
    """The user's token, or a 404: another user's token id looks exactly like a missing one."""
    return get_object_or_404(ApiToken, pk=pk, owner=request.user)


@require_POST
def revoke_token(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    token = get_token_for_user(request, pk)
    token.delete()
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("tokens")
