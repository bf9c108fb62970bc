"""What a notification says: the subject, the plain-text and HTML email, and the webhook's JSON
(with a `text` summary that Slack, Mattermost and Discord show as it is).

One message tells about one or many jobs of one kind; the first LISTED are told in full, the rest
counted, so a digest of 500 jobs stays small. Everything is written here, once, when the events
are gathered: each attempt to send it sends the same words.
"""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format

from jobs.models import Job
from notifications import unsubscribe
from notifications.models import Kind, Message, Reason

# Jobs told in full in one message; the others are counted, with a link to the jobs list.
LISTED = 50
# Discord refuses a `content` longer than this; Slack and Mattermost show it whole.
TEXT_LIMIT = 2000
# Where links point when PUBLIC_URL is not set (development).
DEVELOPMENT_URL = "http://127.0.0.1:8000"

EVENTS = {
    Kind.FINISHED: "job.finished",
    Kind.ATTENTION: "job.needs_attention",
    Kind.FOUND: "job.found",
}


def absolute(path: str) -> str:
    return (settings.PUBLIC_URL or DEVELOPMENT_URL) + path


def _count(n: int) -> str:
    return number_format(n, force_grouping=True)


@dataclass(frozen=True)
class JobSummary:
    """One job as a notification tells it (and as the webhook's `jobs` list gives it)."""

    id: int
    firecrawl_id: str
    label: str
    kind: str
    status: str
    state: str
    reason: str
    scraped: int
    failed: int
    # URLs a cancel left unscraped: neither scraped nor failed (Job.progress).
    cancelled: int
    documents_cached: int
    expected: int
    credits_used: int | None
    expires_at: str | None
    complete: bool
    problem: str
    advice: str
    url: str
    failed_urls_url: str
    zip_url: str

    @property
    def what(self) -> str:
        """What happened, in two or three words."""
        return Reason(self.reason).label.lower() if self.reason else self.status.lower()

    @property
    def headline(self) -> str:
        return f"{self.label}: {self.what}"

    @property
    def counts(self) -> str:
        parts = [f"{_count(self.scraped)} pages scraped", f"{_count(self.failed)} failed"]
        if self.cancelled:
            parts.append(f"{_count(self.cancelled)} cancelled")
        if self.credits_used is not None and self.credits_used >= 0:
            parts.append(f"{_count(self.credits_used)} credits")
        if self.complete:
            parts.append(f"all {_count(self.documents_cached)} documents cached")
        else:
            parts.append(
                f"{_count(self.documents_cached)} of {_count(self.expected)} documents cached"
            )
        return ", ".join(parts)


def advice(job: Job, reason: str) -> str:
    """What the owner can do about a job that needs attention."""
    expected = job.documents_expected
    cached = f"{_count(job.documents_cached)} of {_count(expected)} documents are cached"
    if reason == Reason.NOT_FOUND:
        return (
            "Firecrawl does not know this job id with this key. Check the key, its API URL and "
            "API version on the API keys page, then press Check again on the job page."
        )
    if reason == Reason.PAUSED:
        return (
            "Syncing is paused until you fix what stopped it (a key Firecrawl refuses, a "
            "server no longer allowed, answers too large): fix it, then press Refresh now on "
            "the job page, before Firecrawl deletes the results (24 hours after the job)."
        )
    if reason == Reason.FAILING:
        return (
            f"Firecrawl failed {job.consecutive_failures} reads in a row; the dashboard keeps "
            "trying, waiting longer each time. If it goes on, check Firecrawl's status and the "
            f"key. {cached}."
        )
    if reason == Reason.EXPIRING:
        when = timezone.localtime(job.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        return (
            f"Firecrawl deletes this job's results at {when}, and only {cached}. Open the job "
            "page now: if it is paused or failing, fix it and press Refresh now; while it syncs, "
            "the rest is cached before then."
        )
    if reason == Reason.EXPIRED:
        return (
            f"Firecrawl deleted the results before all were cached: {cached}, and kept. "
            "To get the rest, run the job again (Start)."
        )
    return ""


def summarize(job: Job, reason: str = "") -> JobSummary:
    return JobSummary(
        id=job.pk,
        firecrawl_id=str(job.remote_id),
        label=str(job),
        kind=job.kind,
        status=job.get_status_display(),
        state=job.sync_state,
        reason=reason,
        scraped=job.scraped,
        failed=job.failed_count,
        cancelled=job.cancelled_count,
        documents_cached=job.documents_cached,
        expected=job.documents_expected,
        credits_used=job.credits_used,
        expires_at=job.expires_at.isoformat() if job.expires_at else None,
        complete=job.is_complete,
        problem=job.last_error,
        advice=advice(job, reason),
        url=absolute(reverse("jobs:job", args=[job.pk])),
        failed_urls_url=absolute(reverse("jobs:download_failed", args=[job.pk, "csv"])),
        zip_url=absolute(reverse("jobs:download", args=[job.pk, "zip"])),
    )


def subject(kind: str, jobs: list[JobSummary], total: int) -> str:
    """One line (a label may hold anything, line breaks included: a header may not)."""
    return " ".join(_subject(kind, jobs, total).split())[:300]


def _subject(kind: str, jobs: list[JobSummary], total: int) -> str:
    if total == 1 and jobs:
        job = jobs[0]
        if kind == Kind.FINISHED:
            return f"Job finished: {job.label} ({job.what})"
        if kind == Kind.ATTENTION:
            return f"Job needs attention: {job.label} ({job.what})"
        return f"New job found: {job.label}"
    if kind == Kind.FINISHED:
        return f"{_count(total)} jobs finished"
    if kind == Kind.ATTENTION:
        return f"{_count(total)} jobs need attention"
    return f"{_count(total)} new jobs found"


def intro(kind: str, total: int) -> str:
    if kind == Kind.FINISHED:
        return (
            f"{_count(total)} job{pluralize(total)} finished: Firecrawl has settled "
            f"{pluralize(total, 'it,them')} and the dashboard holds every document "
            f"{pluralize(total, 'it,they')} will ever have."
        )
    if kind == Kind.ATTENTION:
        return f"{_count(total)} job{pluralize(total)} need{pluralize(total, 's,')} attention."
    return (
        f"The dashboard found {_count(total)} new job{pluralize(total)} (automatic import or "
        f"a Firecrawl webhook) and is caching {pluralize(total, 'it,them')}."
    )


def text_summary(kind: str, jobs: list[JobSummary], total: int) -> str:
    """The webhook's `text`: a few short lines, at most TEXT_LIMIT characters."""
    lines = [f"Firecrawl dashboard: {subject(kind, jobs, total)}"]
    shown = 0
    for job in jobs:
        line = f"• {job.headline} ({job.counts}) {job.url}"
        if job.reason and job.problem:
            line += f"\n  {job.problem}"
        if job.advice:
            line += f"\n  {job.advice}"
        if len("\n".join([*lines, line])) > TEXT_LIMIT - 80:
            break
        lines.append(line)
        shown += 1
    if total > shown:
        lines.append(f"… and {_count(total - shown)} more: {absolute(reverse('jobs:dashboard'))}")
    return "\n".join(lines)[:TEXT_LIMIT]


def write(message: Message, jobs: list[JobSummary], total: int) -> None:
    """Fill in what the message says (the caller saves)."""
    message.job_count = total
    message.subject = subject(message.kind, jobs, total)
    context: dict[str, Any] = {
        "subject": message.subject,
        "intro": intro(message.kind, total),
        "kind": message.kind,
        "jobs": jobs,
        "more": total - len(jobs),
        "dashboard_url": absolute(reverse("jobs:dashboard")),
        "settings_url": absolute(reverse("notifications:settings")),
        "unsubscribe_url": unsubscribe_url(message),
    }
    message.text = render_to_string("notifications/email/message.txt", context)
    message.html = render_to_string("notifications/email/message.html", context)
    text = text_summary(message.kind, jobs, total)
    message.payload = {
        "event": EVENTS[Kind(message.kind)],
        "id": str(message.uid),
        "created_at": _iso(message.created_at),
        "count": total,
        "jobs": [asdict(job) for job in jobs],
        "text": text,
        # Discord's own field for the same words (Slack and Mattermost read `text`).
        "content": text,
    }


def unsubscribe_url(message: Message) -> str:
    return absolute(reverse("notifications:unsubscribe", args=[unsubscribe.token(message)]))


def _iso(moment: datetime) -> str:
    return moment.isoformat()
