"""Muting one job's notifications (a button on the job page)."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from firecrawl_dash.views import AuthenticatedRequest
from jobs.views.common import get_job_for_user
from notifications.forms.mute import MuteForm


@require_POST
def mute_job(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    job = get_job_for_user(request, pk)
    form = MuteForm(request.POST)
    form.is_valid()  # one optional checkbox: any input is valid
    muted = form.cleaned_data["muted"]
    job.set_notifications_muted(muted)
    if muted:
        messages.success(request, "Notifications about this job are muted.")
    else:
        messages.success(request, "Notifications about this job are on again.")
    return redirect("jobs:job", pk=job.pk)
