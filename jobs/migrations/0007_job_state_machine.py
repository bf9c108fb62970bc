"""The job's state machine: one sync state instead of scattered flags, settling, failures kept
idempotently (a fingerprint per /errors entry) and counted on the job, and the kind as known or
guessed. A job id is unique per owner whatever its kind."""

import hashlib
import json
from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def forward(apps: Any, schema_editor: Any) -> None:
    Job = apps.get_model("jobs", "Job")
    FailedUrl = apps.get_model("jobs", "FailedUrl")
    Job.objects.filter(needs_attention=True).update(sync_state="paused")
    Job.objects.filter(expired_upstream=True).update(sync_state="expired")
    # The settled rule these flags stood for: over upstream, cached, failures read.
    cached = models.Q(fully_cached=True) | models.Q(pagination_stuck=True)
    Job.objects.filter(
        cached,
        sync_state="active",
        status__in=["completed", "cancelled", "failed"],
        errors_fetched_at__isnull=False,
    ).update(sync_state="settled")
    seen: set[tuple[int, str]] = set()
    for row in FailedUrl.objects.order_by("id").iterator():
        identity = json.dumps([row.robots_blocked, row.remote_id, row.url])
        fingerprint = hashlib.sha256(identity.encode()).hexdigest()
        if (row.job_id, fingerprint) in seen:
            row.delete()
            continue
        seen.add((row.job_id, fingerprint))
        FailedUrl.objects.filter(pk=row.pk).update(fingerprint=fingerprint)
    for job in Job.objects.all().iterator():
        failed = FailedUrl.objects.filter(job=job)
        Job.objects.filter(pk=job.pk).update(
            failed_count=failed.filter(robots_blocked=False).count(),
            robots_blocked_count=failed.filter(robots_blocked=True).count(),
        )


def backward(apps: Any, schema_editor: Any) -> None:
    Job = apps.get_model("jobs", "Job")
    Job.objects.filter(sync_state="paused").update(needs_attention=True)
    Job.objects.filter(sync_state="expired").update(expired_upstream=True)


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0006_document_raw_lz4"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="failedurl",
            options={"ordering": ["job", "robots_blocked", "code", "url", "id"]},
        ),
        migrations.RemoveConstraint(
            model_name="job",
            name="unique_job_per_owner",
        ),
        migrations.AddField(
            model_name="failedurl",
            name="fingerprint",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="job",
            name="errors_signature",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="job",
            name="failed_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="kind_confirmed",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="job",
            name="retry_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.DB_SET_NULL,
                related_name="retries",
                to="jobs.job",
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="robots_blocked_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="settle_seen_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="settle_signature",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="job",
            name="sync_state",
            field=models.CharField(
                choices=[
                    ("active", "Active"),
                    ("settled", "Settled"),
                    ("paused", "Paused"),
                    ("expired", "Expired upstream"),
                    ("not_found", "Not found on Firecrawl"),
                ],
                default="active",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="target_url",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="job",
            name="remote_id",
            field=models.UUIDField(verbose_name="Job ID"),
        ),
        migrations.RunPython(forward, backward),
        migrations.AddIndex(
            model_name="failedurl",
            index=models.Index(fields=["job", "robots_blocked", "code"], name="failed_url_group"),
        ),
        migrations.AddConstraint(
            model_name="failedurl",
            constraint=models.UniqueConstraint(
                fields=("job", "fingerprint"), name="unique_failed_url"
            ),
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                fields=("owner", "remote_id"), name="unique_job_per_owner"
            ),
        ),
        migrations.RemoveField(
            model_name="job",
            name="expired_upstream",
        ),
        migrations.RemoveField(
            model_name="job",
            name="needs_attention",
        ),
    ]
