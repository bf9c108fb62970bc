"""The dashboard's forms: track a job by its id (or a pasted URL), and filter the jobs list."""

from typing import Any

from django import forms

from firecrawl_api.ids import JobReference, parse_job_reference
from firecrawl_dash.forms import QueryForm
from jobs.models import Job, JobQuerySet
from jobs.tasks import request_sync
from keys.allowlist import same_server
from keys.forms.choice import KeyChoiceField, OwnKeyMixin
from keys.models import ApiKey


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
        self.owner = owner
        self.offer_keys(owner)

    def clean(self) -> dict[str, Any]:
        """A pasted API URL names its server: the job is read with the owner's key for that
        server, and when none is, the person is told (the key chosen is used: behind a proxy a
        server names itself by another address)."""
        cleaned = super().clean() or {}
        reference: JobReference | None = cleaned.get("job_id")
        key: ApiKey | None = cleaned.get("api_key")
        self.server_note = ""
        if reference is None or key is None or reference.server is None:
            return cleaned
        if same_server(key.api_url, reference.server):
            return cleaned
        keys = self.fields["api_key"].queryset  # type: ignore[attr-defined]
        match = next((k for k in keys if same_server(k.api_url, reference.server)), None)
        if match is not None:
            cleaned["api_key"] = match
            self.server_note = (
                f"The URL you pasted is on {reference.server}: the job is read with your key "
                f"“{match.name}” for that server."
            )
        else:
            self.server_note = (
                f"The URL you pasted is on {reference.server}, but the key “{key.name}” reads "
                f"from {key.api_url}: the job is looked up there. If it is not found, add a key "
                "for that server on API keys."
            )
        return cleaned

    def clean_job_id(self) -> JobReference:
        reference = parse_job_reference(self.cleaned_data["job_id"])
        if reference is None:
            raise forms.ValidationError(
                "That does not contain a Firecrawl job id (a UUID such as "
                "0198f4b2-6c1e-7c3a-9f1e-2b8d4a6c0e11)."
            )
        return reference

    def track(self) -> tuple[Job, bool]:
        """Track the job (the owner's one job with this id, whoever tracked it first) and, when
        it is new, ask for its first sync. Returns (job, created). The dashboard's Track button
        and the API's POST /api/v1/jobs both come here."""
        reference: JobReference = self.cleaned_data["job_id"]
        job, created = Job.objects.track(
            owner=self.owner,
            api_key=self.cleaned_data["api_key"],
            remote_id=reference.id,
            kind=reference.kind,
            label=self.cleaned_data["label"],
        )
        if created:
            request_sync(job)
        return job, created


# The status filter's option for the jobs that need their owner (Job.attention).
NEEDS_ATTENTION = "attention"


class JobFilterForm(QueryForm):
    status = forms.ChoiceField(
        choices=[("", "All"), (NEEDS_ATTENTION, "Needs attention"), *Job.Status.choices],
        required=False,
        label="Status",
    )
    q = forms.CharField(
        label="Search jobs",
        max_length=200,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "Label, job id or URL", "autocomplete": "off"}
        ),
    )
    page = forms.IntegerField(label="Page", min_value=1, max_value=10_000_000, required=False)

    def filter(self, jobs: JobQuerySet) -> JobQuerySet:
        """The jobs the filters select (the list, and the API's GET /api/v1/jobs). A status
        filters on the word the list shows: a job that needs attention is listed under Needs
        attention, never under Firecrawl's status."""
        status = self.cleaned_data.get("status")
        if status == NEEDS_ATTENTION:
            jobs = jobs.needing_attention()
        elif status:
            jobs = jobs.with_status_word(status)
        if text := self.cleaned_data.get("q", "").strip():
            jobs = jobs.matching(text)
        return jobs

    @property
    def filtered(self) -> bool:
        return bool(self.cleaned_data.get("status") or self.cleaned_data.get("q", "").strip())

    def subject(self) -> str:
        """What the list holds, in words: "jobs that need attention", "completed jobs"."""
        status = self.cleaned_data.get("status")
        if status == NEEDS_ATTENTION:
            return "jobs that need attention"
        return f"{Job.Status(status).label.lower()} jobs" if status else "jobs"
