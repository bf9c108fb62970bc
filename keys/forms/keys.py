"""Forms for every input the jobs app takes, GET parameters included."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from jobs import clients, firecrawl
from jobs.identifiers import JobReference, parse_job_reference
from jobs.models import ApiKey, Job, allowed_api_url

# Printable ASCII: what Firecrawl's keys are made of. Anything else could never be sent in an
# HTTP header (requests refuses non-Latin-1 text there).
key_characters = RegexValidator(
    r"^[\x21-\x7e]+$", "An API key has letters, digits and punctuation only (no spaces or accents)."
)


class QueryForm(forms.Form):
    """A form over a query string: unknown or repeated parameters are errors, not ignored
    (a typo such as ?stauts=4xx would otherwise silently show everything)."""

    def __init__(self, data: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(data, *args, **kwargs)
        self.unknown = sorted(set(data) - set(self.fields))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.unknown:
            raise forms.ValidationError(
                "Unknown parameter(s): %(names)s.", params={"names": ", ".join(self.unknown)}
            )
        for name in self.fields:
            # Repeated parameters (?page=1&page=9) are ambiguous: say so instead of picking one.
            if hasattr(self.data, "getlist") and len(self.data.getlist(name)) > 1:
                self.add_error(name, "Give this parameter once.")
        return cleaned

    def error_text(self) -> str:
        return error_text(self)


def error_text(form: forms.Form) -> str:
    """One readable sentence per problem of a form over a query string, for the 400 page."""
    lines = [str(message) for message in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        label = form.fields[name].label or name
        lines += [f"{label} ({name}): {message}" for message in errors]
    return " ".join(lines)


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
        self.credits: firecrawl.CreditUsage | None = None
        self.credits_note = ""
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
        except firecrawl.AuthError:
            raise forms.ValidationError("Firecrawl rejected this key (401).") from None
        except firecrawl.Unreachable as exc:
            # Only here does the key come back, to the person who just pasted it (the page is
            # never cached): "Save without checking" is the way on, without retyping it.
            self.fields["key"].widget.render_value = True
            raise forms.ValidationError(
                f"{exc.message}. Check the API URL, or save the key without checking it.",
                code="unreachable",
            ) from None
        except firecrawl.FirecrawlError:
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
        """Save the key; a double submit that raced this one gives back the key it saved."""
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
            if twin is None or twin.key != key.key:
                raise
            return twin
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


class KeyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.key_hint}, {obj.api_version})"


class OwnKeyMixin(forms.Form):
    """A form with an `api_key` field offering the owner's keys only, the default one chosen
    (and hidden when there is one key): another user's key is never a choice."""

    def offer_keys(self, owner: Any) -> None:
        keys = ApiKey.objects.filter(owner=owner).defer("key")
        key_field = self.fields["api_key"]
        assert isinstance(key_field, forms.ModelChoiceField)
        key_field.queryset = keys
        key_field.empty_label = None
        self.default_key = next((key for key in keys if key.is_default), None) or (
            keys[0] if keys else None
        )
        if self.default_key is not None and "api_key" not in self.initial:
            key_field.initial = self.default_key.pk
        if len(keys) == 1:
            key_field.widget = forms.HiddenInput()

    def clean_api_key(self) -> ApiKey:
        key: ApiKey | None = self.cleaned_data.get("api_key") or self.default_key
        if key is None:
            raise forms.ValidationError("Add a Firecrawl API key first (API keys page).")
        return key


class TrackForm(OwnKeyMixin):
    job_id = forms.CharField(
        label="Job ID",
        max_length=2000,
        help_text="A batch scrape or crawl id from Firecrawl, or any URL that contains it.",
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. 0198f4b2-… or https://api.firecrawl.dev/v2/crawl/…"}
        ),
    )
    api_key = KeyChoiceField(label="API key", queryset=ApiKey.objects.none(), required=False)
    label = forms.CharField(label="Label", max_length=200, required=False)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offer_keys(owner)

    def clean_job_id(self) -> JobReference:
        reference = parse_job_reference(self.cleaned_data["job_id"])
        if reference is None:
            raise forms.ValidationError(
                "That does not contain a Firecrawl job id (a UUID such as "
                "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11)."
            )
        return reference


class JobKeyForm(forms.Form):
    """Move a job to another of the owner's keys on the same Firecrawl server."""

    api_key = KeyChoiceField(label="API key", queryset=ApiKey.objects.none())

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


class JobFilterForm(QueryForm):
    status = forms.ChoiceField(
        choices=[("", "All"), *Job.Status.choices], required=False, label="Status"
    )
    page = forms.IntegerField(label="Page", min_value=1, max_value=10_000_000, required=False)


class FailedPageForm(QueryForm):
    """The job page's parameters: which page of its failed URLs to show, and (in the poll) how
    many failed URLs the page shows already, so an unchanged list is not sent again."""

    failed_page = forms.IntegerField(
        label="Failed URLs page", min_value=1, max_value=10_000_000, required=False
    )
    failures_shown = forms.IntegerField(
        label="Failed URLs shown", min_value=0, max_value=2**31, required=False
    )
