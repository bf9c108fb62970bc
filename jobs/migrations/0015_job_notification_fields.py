"""What notifications read from a job: how it was found (`origin`), the owner's mute, when it
settled and when its present trouble began, with indexes for the scan of recent events.

Jobs started here are marked so; nothing else is back-filled: a job that settled or paused
before this migration has no time of it, so no notification announces it (no flood of old news).
"""

from typing import Any

from django.conf import settings
from django.db import migrations, models


def mark_started_jobs(apps: Any, schema_editor: Any) -> None:
    jobs = apps.get_model("jobs", "Job").objects.db_manager(schema_editor.connection.alias)
    jobs.filter(start_options__isnull=False).update(origin="started")


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0014_job_event_at"),
        ("keys", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="notifications_muted",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="job",
            name="origin",
            field=models.CharField(
                choices=[
                    ("tracked", "Tracked by id"),
                    ("started", "Started here"),
                    ("imported", "Imported automatically"),
                    ("webhook", "Announced by a webhook"),
                ],
                default="tracked",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="settled_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="trouble_since",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                fields=["sync_state", "settled_at"], name="jobs_job_sync_st_f60015_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["trouble_since"], name="jobs_job_trouble_c67ab5_idx"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["expires_at"], name="jobs_job_expires_1dbc32_idx"),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(fields=["origin", "created_at"], name="jobs_job_origin_c8c399_idx"),
        ),
        migrations.RunPython(mark_started_jobs, migrations.RunPython.noop),
    ]
