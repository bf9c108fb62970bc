"""Job.event_at: when Firecrawl's webhook last told us about the job (jobs.webhooks)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0012_screenshots"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="event_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
