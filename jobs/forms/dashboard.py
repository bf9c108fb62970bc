"""The dashboard's forms: track a job by its id (or a pasted URL), and filter the jobs list."""

from typing import Any

from django import forms

from firecrawl_api.ids import JobReference, parse_job_reference
from firecrawl_dash.forms import QueryForm
from jobs.models import Job, JobQuerySet
from jobs.tasks import request_sync
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


class JobFilterForm(QueryForm):
    status = forms.ChoiceField(
        choices=[("", "All"), *Job.Status.choices], required=False, label="Status"
    )
    page = forms.IntegerField(label="Page", min_value=1, max_value=10_000_000, required=False)

    def filter(self, jobs: JobQuerySet) -> JobQuerySet:
        """The jobs the filters select (the list and the API's GET /api/v1/jobs)."""
        if status := self.cleaned_data.get("status"):
            jobs = jobs.filter(status=status)
        return jobs
