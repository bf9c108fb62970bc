"""Forms for every input the jobs app takes, GET parameters included."""

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from jobs import firecrawl
from jobs.models import ApiKey, Job


def allowed_api_url(url: str) -> bool:
    allowed = settings.FIRECRAWL_API_URLS
    if "*" in allowed:
        try:
            return urlsplit(url).scheme in {"http", "https"}
        except ValueError:  # e.g. "https://host[": not a URL at all
            return False
    return url.rstrip("/") in {item.rstrip("/") for item in allowed}


class ApiKeyForm(forms.ModelForm):
    key = forms.CharField(
        label="API key",
        strip=True,
        max_length=200,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "placeholder": "fc-…"}),
        help_text="Stored encrypted; only its last four characters are ever shown again.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "key", "api_url", "api_version"]
        labels = {"api_url": "API URL", "api_version": "API version"}

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance.owner = owner
        self.credits: firecrawl.CreditUsage | None = None
        self.credits_note = ""
        allowed = settings.FIRECRAWL_API_URLS
        if "*" not in allowed:
            self.fields["api_url"].help_text = "Allowed here: " + ", ".join(allowed)
        else:
            self.fields["api_url"].help_text = "Firecrawl's own, or your self-hosted server."

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
        client = firecrawl.FirecrawlClient(
            cleaned["api_url"],
            cleaned["key"],
            cleaned["api_version"],
            max_retries=1,
            backoff_base=settings.FIRECRAWL_RETRY_BACKOFF,
            # Someone is waiting on the form: a slow server is reported rather than waited out.
            read_timeout=15,
        )
        try:
            with client:
                self.credits = client.credit_usage()
        except firecrawl.AuthError:
            raise forms.ValidationError("Firecrawl rejected this key (401).") from None
        except firecrawl.Unreachable as exc:
            raise forms.ValidationError(
                f"Could not reach Firecrawl at {cleaned['api_url']}: {exc.message}"
            ) from None
        except firecrawl.FirecrawlError:
            pass
        # Self-hosted servers have no billing service (credit_usage() reports their 5xx as
        # unknown credits; other Firecrawl errors are caught above): the key may well be good.
        if self.credits is None or not self.credits.known:
            self.credits_note = "Firecrawl did not report credits for this key; saved anyway."
        return cleaned

    def save(self, commit: bool = True) -> ApiKey:
        key: ApiKey = super().save(commit=False)
        if self.credits is not None:
            key.remaining_credits = self.credits.remaining_credits
            key.credits_checked_at = timezone.now()
        key.is_default = not ApiKey.objects.filter(owner=self.owner).exists()
        if commit:
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


class TrackForm(forms.Form):
    batch_id = forms.CharField(
        label="Batch ID",
        max_length=2000,
        help_text="The id Firecrawl returned, or any URL that contains it.",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. 0198f4b2-… or https://api.firecrawl.dev/v1/batch/scrape/…"}
        ),
    )
    api_key = forms.ModelChoiceField(
        label="API key", queryset=ApiKey.objects.none(), required=False
    )
    label = forms.CharField(label="Label", max_length=200, required=False)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        keys = ApiKey.objects.filter(owner=owner).defer("key")
        key_field = self.fields["api_key"]
        assert isinstance(key_field, forms.ModelChoiceField)
        key_field.queryset = keys
        key_field.empty_label = None
        self.default_key = next((key for key in keys if key.is_default), None)
        if self.default_key is None and keys:
            self.default_key = keys[0]
        if self.default_key is not None:
            key_field.initial = self.default_key.pk
        self.single_key = len(keys) == 1
        if self.single_key:
            self.fields["api_key"].widget = forms.HiddenInput()

    def clean_api_key(self) -> ApiKey:
        key: ApiKey | None = self.cleaned_data.get("api_key") or self.default_key
        if key is None:
            raise forms.ValidationError("Add a Firecrawl API key first (API keys page).")
        return key

    def clean_batch_id(self) -> str:
        job_id = firecrawl.parse_job_id(self.cleaned_data["batch_id"])
        if job_id is None:
            raise forms.ValidationError(
                "That does not contain a Firecrawl batch id (a UUID such as "
                "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11)."
            )
        return job_id


class JobKeyForm(forms.Form):
    """Move a job to another of the owner's keys on the same Firecrawl server."""

    api_key = forms.ModelChoiceField(label="API key", queryset=ApiKey.objects.none())

    def __init__(self, *args: Any, job: Job, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        key_field = self.fields["api_key"]
        assert isinstance(key_field, forms.ModelChoiceField)
        keys = ApiKey.objects.filter(owner=job.owner_id, api_url=job.api_url).defer("key")
        if job.api_key_id is not None:
            keys = keys.exclude(pk=job.api_key_id)
        key_field.queryset = keys
        key_field.empty_label = None

    def has_choices(self) -> bool:
        return self.fields["api_key"].queryset.exists()  # type: ignore[attr-defined]


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "All"), *Job.Status.choices], required=False, label="Status"
    )
