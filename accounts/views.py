"""Sign-up; log in, log out and password change are Django's own views."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render


@login_not_required
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.REGISTRATION_OPEN:
        raise Http404("Sign-up is closed on this server")
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    # Username and password only: the dashboard needs nothing else about a person.
    form: UserCreationForm[User] = UserCreationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.username}. Add a Firecrawl API key to begin.")
        return redirect("jobs:keys")
    return render(request, "registration/signup.html", {"form": form})
