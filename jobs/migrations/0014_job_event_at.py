"""Job.event_at: when Firecrawl's webhook last told us about the job (jobs.webhooks)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0013_bounded_failures_and_background_deletion"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="event_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
