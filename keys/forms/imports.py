"""The forms of the import page (Track, Track all) and the keys page's automatic-import switch."""

from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing

from jobs.models import Job
from keys.listings import FoundJob
from keys.models import ApiKey

# A listing shown an hour ago may have changed: track from a fresh one.
LISTING_MAX_AGE = 3600


def _salt(owner: Any, key: ApiKey) -> str:
    return f"jobs.import:{owner.pk}:{key.pk}"


def sign_jobs(owner: Any, key: ApiKey, jobs: list[FoundJob]) -> str:
    """Listed jobs as one hidden value, signed for this user and key: what Track sends back is
    exactly what Firecrawl listed, kind and target URL included."""
    rows = [
        [job.id, job.kind, job.created_at.isoformat() if job.created_at else None, job.url]
        for job in jobs
    ]
    return signing.dumps(rows, salt=_salt(owner, key), compress=True)


class TrackListedForm(forms.Form):
    """Track one listed job (`job`) or all of them (`jobs`): each a signed list of rows."""

    job = forms.CharField(required=False, widget=forms.HiddenInput)
    jobs = forms.CharField(required=False, widget=forms.HiddenInput)
    # One job's label, typed beside its Track button.
    label = forms.CharField(label="Label", max_length=200, required=False)

    def __init__(self, *args: Any, owner: Any, key: ApiKey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner, self.key = owner, key
        self.found: list[FoundJob] = []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        given = [value for value in (cleaned.get("job"), cleaned.get("jobs")) if value]
        if len(given) != 1:
            raise forms.ValidationError("Choose a job to track, or Track all.")
        try:
            rows = signing.loads(
                given[0], salt=_salt(self.owner, self.key), max_age=LISTING_MAX_AGE
            )
            self.found = [
                FoundJob(
                    id=str(job_id),
                    kind=Job.Kind(kind),
                    created_at=datetime.fromisoformat(created) if created else None,
                    url=str(url),
                )
                # Never more than one reading lists, whatever was signed before a change.
                for job_id, kind, created, url in rows[: settings.FIRECRAWL_IMPORT_MAX_JOBS]
            ]
        except signing.SignatureExpired:
            raise forms.ValidationError(
                "This list is more than an hour old; here it is again, fresh."
            ) from None
        except (signing.BadSignature, TypeError, ValueError):
            raise forms.ValidationError("This list cannot be read; here it is again.") from None
        return cleaned


class AutoImportForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["auto_import"]
        labels = {"auto_import": "Track new jobs automatically"}
