"""The API keys page (add, rename, delete and choose the default Firecrawl key), and each key's
own page with its webhook settings."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from firecrawl_dash.forms import NoParameters
from firecrawl_dash.views import AuthenticatedRequest, invalid_query
from keys.forms.keys import ApiKeyForm, RenameKeyForm, WebhookForm
from keys.models import ApiKey
from keys.views.common import get_key_for_user


# Error reports (the debug page, error e-mails, trackers) must never show the submitted key; a
# form sent back for correction holds it, so no cache may keep the page.
@sensitive_post_parameters("key")
@never_cache
def keys(request: AuthenticatedRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        key = form.save()
        messages.success(request, f"Key “{key.name}” added ({key.key_hint}).")
        if form.credits_note:
            messages.info(request, form.credits_note)
        return redirect("keys:keys")
    user_keys = ApiKey.objects.filter(owner=request.user).defer("key")
    return render(request, "keys/keys.html", {"form": form, "keys": user_keys, "nav": "keys"})


@require_safe
def key_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    query = NoParameters(request.GET)
    if not query.is_valid():
        return invalid_query(request, query.error_text())
    return _key_page(request, key, WebhookForm(key=key))


# The submitted secret must never appear in an error report.
@sensitive_post_parameters("secret")
@require_POST
def save_webhook_settings(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    form = WebhookForm(request.POST, key=key)
    if not form.is_valid():
        return _key_page(request, key, form, status=400)
    messages.success(request, form.save())
    return redirect("keys:key", pk=key.pk)


def _key_page(
    request: AuthenticatedRequest, key: ApiKey, form: WebhookForm, *, status: int = 200
) -> HttpResponse:
    context = {"key": key, "form": form, "nav": "keys"}
    return render(request, "keys/key.html", context, status=status)


def rename_key(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    form = RenameKeyForm(request.POST or None, instance=key)
    if request.method == "POST" and form.is_valid():
        # Only the name: workers update the key's budget and last error concurrently.
        form.save(commit=False).save(update_fields=["name"])
        messages.success(request, f"Key renamed to “{key.name}”.")
        return redirect("keys:keys")
    return render(request, "keys/key_rename.html", {"form": form, "key": key, "nav": "keys"})


@require_POST
def make_default_key(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    with transaction.atomic():
        key.make_default()
    messages.success(request, f"“{key.name}” is now your default key.")
    return redirect("keys:keys")


def delete_key(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    key = get_key_for_user(request, pk)
    if request.method == "POST":
        key.delete()
        messages.success(request, f"Key “{key.name}” deleted. Jobs read with it stay browsable.")
        return redirect("keys:keys")
    jobs_count = key.jobs.count()
    return render(
        request, "keys/key_delete.html", {"key": key, "jobs_count": jobs_count, "nav": "keys"}
    )
