"""The Notifications page (account menu): what to be told and where, the webhook's signing
secret, the muted jobs and the last messages with how their sending went."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from firecrawl_dash.forms import NoParameters
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from jobs.models import Job
from notifications.forms.settings import NotificationSettingsForm
from notifications.models import Message
from notifications.views.common import get_settings_for_user

# Recent messages and muted jobs shown on the page.
SHOWN = 20


# The page shows the webhook secret: no cache may keep it.
@never_cache
def notification_settings(request: AuthenticatedRequest) -> HttpResponse:
    prefs = get_settings_for_user(request)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text())
    form = NotificationSettingsForm(request.POST or None, instance=prefs, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Notification settings saved.")
        return redirect("notifications:settings")
    context = {
        "form": form,
        "prefs": prefs,
        "recent": Message.objects.filter(owner=request.user).defer("text", "html", "payload")[
            :SHOWN
        ],
        "muted": Job.objects.for_user(request.user).filter(notifications_muted=True)[:SHOWN],
        "nav": "notifications",
    }
    return render(request, "notifications/settings.html", context)


@require_POST
def new_webhook_secret(request: AuthenticatedRequest) -> HttpResponse:
    prefs = get_settings_for_user(request)
    prefs.new_webhook_secret()
    messages.success(request, "New webhook secret made: give it to your receiver.")
    return redirect("notifications:settings")
