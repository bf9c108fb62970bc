"""Sign-up and log-out; log in and password change are Django's own views."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.forms import SignupForm


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.REGISTRATION_OPEN:
        raise Http404("Sign-up is closed on this server")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    # Username and password only: the dashboard needs nothing else about a person.
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.username}. Add a Firecrawl API key to begin.")
        return redirect("keys:keys")
    return render(request, "registration/signup.html", {"form": form})


class LogoutView(auth_views.LogoutView):
    """Django's log-out, saying so on the page it lands on (the log-in page)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # After the session is flushed: the message travels in the messages cookie.
        messages.info(request, "Logged out.")
        return response
