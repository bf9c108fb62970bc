"""Progress that counts failures: URLs left unscraped by a cancel told apart from failed ones,
failed URLs in natural order, a batch's submitted URLs (Run again, the progress's denominator)
and the failures in each progress sample.

Failed URLs already stored are read once: a cancelled one is recognised by the message
Firecrawl gives them (its text copied here, as a migration must not change with the code), and
each gets its sort key; the jobs that had cancelled URLs are counted again (neither the failed
count nor the stored failed count includes them any more).
"""

import re
from typing import Any

from django.db import migrations, models

CANCELLED_URL_ERROR = "Parent crawl/batch scrape was cancelled"
DIGITS = re.compile(r"\d+")


def natural_key(url: str) -> str:
    padded = DIGITS.sub(lambda m: m.group().lstrip("0").rjust(12, "0")[-12:], url.lower())
    return padded[:300]


def read_failed_urls(apps: Any, schema_editor: Any) -> None:
    alias = schema_editor.connection.alias
    failed_urls = apps.get_model("jobs", "FailedUrl").objects.using(alias)
    jobs = apps.get_model("jobs", "Job").objects.using(alias)
    last = 0
    while batch := list(failed_urls.filter(pk__gt=last).order_by("pk")[:1000]):
        for row in batch:
            row.sort_key = natural_key(row.url)
            row.cancelled = not row.code and row.error.strip() == CANCELLED_URL_ERROR
        failed_urls.bulk_update(batch, ["sort_key", "cancelled"])
        last = batch[-1].pk
    cancelled = failed_urls.filter(cancelled=True, robots_blocked=False).order_by()
    per_job = cancelled.values("job_id").annotate(n=models.Count("id")).order_by()
    for row in per_job:
        count = row["n"]
        jobs.filter(pk=row["job_id"]).update(
            cancelled_count=count,
            failed_count=models.Case(
                models.When(failed_count__gte=count, then=models.F("failed_count") - count),
                default=0,
            ),
            failed_stored=models.Case(
                models.When(failed_stored__gte=count, then=models.F("failed_stored") - count),
                default=0,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0016_startrequest_fingerprint"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="failedurl",
            options={"ordering": ["job", "robots_blocked", "cancelled", "code", "sort_key", "id"]},
        ),
        migrations.AddField(
            model_name="failedurl",
            name="cancelled",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="failedurl",
            name="sort_key",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="job",
            name="cancelled_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="job",
            name="source_name",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="job",
            name="start_urls",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="job",
            name="url_count",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="progresssample",
            name="failed",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(read_failed_urls, migrations.RunPython.noop),
    ]
