"""The API keys page's forms: add a key (checked against Firecrawl), rename one."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

import firecrawl_api
from keys import clients
from keys.allowlist import allowed_api_url
from keys.models import ApiKey

# Printable ASCII: what Firecrawl's keys are made of. Anything else could never be sent in an
# HTTP header (requests refuses non-Latin-1 text there).
key_characters = RegexValidator(
    r"^[\x21-\x7e]+$", "An API key has letters, digits and punctuation only (no spaces or accents)."
)


class ApiKeyForm(forms.ModelForm):
    key = forms.CharField(
        label="API key",
        strip=True,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "fc-…"}),
        help_text="Stored encrypted; only its last four characters are ever shown again.",
        validators=[key_characters],
    )

    class Meta:
        model = ApiKey
        fields = ["name", "key", "api_url", "api_version"]
        labels = {"api_url": "API URL", "api_version": "API version"}
        help_texts = {
            "api_version": "v2 is Firecrawl's current API, v1 the earlier one; both read the "
            "same jobs. Pick what your server answers (self-hosted servers answer both).",
        }

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance.owner = owner
        self.credits: firecrawl_api.CreditUsage | None = None
        self.credits_note = ""
        # v2 is Firecrawl's current API (the help text says so); v1 stays the model's default
        # for keys saved before there was a choice.
        self.fields["api_version"].initial = ApiKey.Version.V2
        allowed = settings.FIRECRAWL_API_URLS
        if "*" in allowed:
            self.fields["api_url"].help_text = "Firecrawl's own, or your self-hosted server."
        else:
            self.fields["api_url"].help_text = "Allowed here: " + ", ".join(allowed)
            self.fields["api_url"].initial = allowed[0]

    @property
    def unchecked(self) -> bool:
        """The person chose "Save without checking" (a self-hosted or offline server)."""
        return "save_unchecked" in self.data

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if ApiKey.objects.filter(owner=self.owner, name=name).exists():
            raise forms.ValidationError("You already have a key with this name.")
        return name

    def clean_api_url(self) -> str:
        url: str = self.cleaned_data["api_url"].rstrip("/")
        if not allowed_api_url(url):
            raise forms.ValidationError(
                "This server only allows these API URLs: " + ", ".join(settings.FIRECRAWL_API_URLS)
            )
        return url

    # `cleaned` holds the plain key: keep it out of error reports.
    @sensitive_variables("cleaned", "client")
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors or not {"key", "api_url", "api_version"} <= cleaned.keys():
            return cleaned
        if self.unchecked:
            self.credits_note = (
                "Saved without checking: Firecrawl will be asked when the key is first used."
            )
            return cleaned
        try:
            with clients.for_web(
                cleaned["api_url"], cleaned["key"], cleaned["api_version"]
            ) as client:
                self.credits = client.credit_usage()
        except firecrawl_api.AuthError:
            raise forms.ValidationError("Firecrawl rejected this key (401).") from None
        except firecrawl_api.Unreachable as exc:
            # Only here does the key come back, to the person who just pasted it (the page is
            # never cached): "Save without checking" is the way on, without retyping it.
            self.fields["key"].widget.render_value = True
            raise forms.ValidationError(
                f"{exc.message}. Check the API URL, or save the key without checking it.",
                code="unreachable",
            ) from None
        except firecrawl_api.FirecrawlError:
            pass
        # Self-hosted servers have no billing service (credit_usage() reports their 5xx as
        # unknown credits; other Firecrawl errors are caught above): the key may well be good.
        if self.credits is None or not self.credits.known:
            self.credits_note = "Firecrawl did not report credits for this key; saved anyway."
        return cleaned

    @property
    def offers_unchecked_save(self) -> bool:
        return any(error.code == "unreachable" for error in self.non_field_errors().as_data())

    @sensitive_variables("key")
    def save(self, commit: bool = True) -> ApiKey:
        """Save the key, the default if it is the owner's first; a double submit that raced
        this one gives back the key it saved."""
        key: ApiKey = super().save(commit=False)
        if self.credits is not None:
            key.remaining_credits = self.credits.remaining_credits
            key.credits_checked_at = timezone.now()
        if not commit:
            return key
        try:
            with transaction.atomic():
                key.is_default = not ApiKey.objects.filter(owner=self.owner).exists()
                key.save()
        except IntegrityError:
            twin = ApiKey.objects.filter(owner=self.owner, name=key.name).first()
            if twin is not None and twin.key == key.key:
                return twin
            if not key.is_default:
                raise
            # Another first key was saved at the same moment and became the default (one per
            # owner, a constraint): this one is simply not the default.
            key.is_default = False
            with transaction.atomic():
                key.save()
        return key


class RenameKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        clash = ApiKey.objects.filter(owner=self.instance.owner_id, name=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("You already have a key with this name.")
        return name


class WebhookForm(forms.Form):
    """A key's webhook settings: the secret Firecrawl signs deliveries with, and whether jobs
    started here register the key's webhook URL."""

    secret = forms.CharField(
        label="Webhook secret",
        required=False,
        strip=True,
        max_length=500,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        validators=[
            RegexValidator(
                r"^[\x21-\x7e]+$", "A webhook secret has letters, digits and punctuation only."
            )
        ],
        help_text="Hosted Firecrawl: your account's webhook secret. Self-hosted: the server's "
        "SELF_HOSTED_WEBHOOK_HMAC_SECRET. Stored encrypted; with one saved, only deliveries "
        "signed with it are accepted. Leave empty to keep the saved one.",
    )
    remove_secret = forms.BooleanField(label="Remove the saved secret", required=False)
    enabled = forms.BooleanField(
        label="Register this webhook with jobs started here",
        required=False,
        help_text="Batches and crawls started on Start ask Firecrawl to send their events here.",
    )

    def __init__(self, data: Any = None, *, key: ApiKey) -> None:
        super().__init__(data, initial={"enabled": key.webhooks_enabled})
        self.key = key
        if not key.webhook_secret:
            del self.fields["remove_secret"]

    # `cleaned` holds the plain secret: keep it out of error reports.
    @sensitive_variables("cleaned", "secret")
    def save(self) -> str:
        """Store what was asked; returns what to tell the person."""
        cleaned = self.cleaned_data
        secret: str | None = cleaned["secret"] or None
        if cleaned.get("remove_secret"):
            secret = ""
        enabled = cleaned["enabled"]
        if secret and not self.key.webhook_secret and "enabled" not in self.changed_data:
            # A first secret saved: jobs started here register the webhook, unless the person
            # unticked it in the same go.
            enabled = True
        self.key.save_webhook_settings(secret=secret, enabled=enabled)
        said = {None: "Webhook settings saved.", "": "Webhook secret removed."}
        message = said.get(secret, "Webhook secret saved.")
        if enabled and settings.PUBLIC_URL:
            message += " Jobs started here with this key register its webhook."
        elif enabled:
            message += " Jobs started here will register it once PUBLIC_URL is set."
        return message
