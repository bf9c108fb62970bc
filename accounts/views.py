"""Log-in, sign-up and log-out; password change is Django's own view.

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
from django.shortcuts import redirect, render

from accounts import throttle
from accounts.forms import LoginForm, SignupForm, locked_message
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
