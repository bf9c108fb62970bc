"""The job page's forms: which page of its failed URLs to show, and moving it to another key."""

from typing import Any

from django import forms

from firecrawl_dash.forms import QueryForm
from jobs.models import Job
from keys.forms.choice import KeyChoiceField
from keys.models import ApiKey


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


class FailedPageForm(QueryForm):
    """The job page's parameters: which page of its failed URLs to show, and (in the poll) how
    many failed URLs the page shows already, so an unchanged list is not sent again."""

    failed_page = forms.IntegerField(
        label="Failed URLs page", min_value=1, max_value=10_000_000, required=False
    )
    failures_shown = forms.IntegerField(
        label="Failed URLs shown", min_value=0, max_value=2**31, required=False
    )
