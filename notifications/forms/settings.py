"""The Notifications page's form: the account's address, which emails to send, the webhook URL
(checked like any outgoing address), and how often at most."""

from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from notifications import outgoing
from notifications.models import NotificationSettings

# How long saving the page may wait for the webhook's host name to resolve.
LOOKUP_TIMEOUT = 5.0


class NotificationSettingsForm(forms.ModelForm):
    email = forms.EmailField(
        label="Email",
        required=False,
        max_length=254,
        help_text="Your account's address; the emails you tick below go to it.",
    )

    class Meta:
        model = NotificationSettings
        fields = [
            "email_finished",
            "email_attention",
            "email_found",
            "webhook_url",
            "min_interval",
        ]
        help_texts = {
            "email_found": "Jobs the automatic import (API keys) or a Firecrawl webhook found.",
            "webhook_url": "Every kind of notification is also POSTed here as signed JSON, "
            "with a text summary: a Slack, Mattermost or Discord incoming-webhook URL works "
            "as it is.",
            "min_interval": "Events of one kind are gathered into one message (a digest) "
            "until this much time has passed since the last.",
        }
        widgets = {"webhook_url": forms.URLInput(attrs={"placeholder": "https://…"})}

    field_order = ["email"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("initial", {"email": user.email})
        super().__init__(*args, **kwargs)
        self.user = user
        self.before = self.instance.subscriptions(user.email)

    def clean_webhook_url(self) -> str:
        url: str = self.cleaned_data["webhook_url"].strip()
        if not url:
            return ""
        try:
            outgoing.check(
                url,
                allow_private=settings.NOTIFY_WEBHOOK_ALLOW_PRIVATE,
                timeout=LOOKUP_TIMEOUT,
            )
        except outgoing.OutgoingError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        wants_email = any(cleaned.get(name) for name in NotificationSettings.EMAIL_FLAGS.values())
        if wants_email and not cleaned.get("email"):
            self.add_error("email", "Give an address for the emails you ticked.")
        return cleaned

    def save(self, commit: bool = True) -> NotificationSettings:
        prefs: NotificationSettings = super().save(commit=False)
        email = self.cleaned_data["email"]
        prefs.start_clocks(self.before, email, timezone.now())
        if self.user.email != email:
            self.user.email = email
            self.user.save(update_fields=["email"])
        prefs.save()
        return prefs
