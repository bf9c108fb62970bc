"""Failed URLs stored up to a cap (the count Firecrawl listed kept apart from the rows stored),
/errors read first after a sync that had no time left for it, and jobs whose owner stopped
tracking them, deleted in the background."""

from typing import Any

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def count_stored(apps: Any, schema_editor: Any) -> None:
    # Until now every failed URL Firecrawl listed was stored, so the count is the rows'.
    apps.get_model("jobs", "Job").objects.update(failed_stored=F("failed_count"))


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0012_screenshots"),
        ("keys", "0003_import_rounds_and_slow_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="job",
            name="unique_job_per_owner",
        ),
        migrations.AddField(
            model_name="job",
            name="errors_pending",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="job",
            name="failed_stored",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="stopped_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(count_stored, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                condition=models.Q(("stopped_at", None)),
                fields=("owner", "remote_id"),
                name="unique_job_per_owner",
            ),
        ),
    ]
