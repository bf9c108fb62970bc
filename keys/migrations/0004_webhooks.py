"""Webhooks: each key gets a webhook token of its own (existing keys too), a secret, a switch,
what its page shows of the deliveries, and the table of deliveries accepted (replays refused).

The token is unique, so existing rows cannot share a default: the column is added empty, each
row gets its own token, and only then is it made unique and required.
"""

from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import keys.encryption
import keys.models


def give_each_key_a_token(apps: Any, schema_editor: Any) -> None:
    keys_model = apps.get_model("keys", "ApiKey")
    rows = keys_model.objects.using(schema_editor.connection.alias)
    for pk in rows.filter(webhook_token=None).values_list("pk", flat=True):
        rows.filter(pk=pk).update(webhook_token=keys.models.new_webhook_token())


class Migration(migrations.Migration):
    dependencies = [
        ("keys", "0003_import_rounds_and_slow_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="apikey",
            name="webhook_token",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.RunPython(give_each_key_a_token, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apikey",
            name="webhook_token",
            field=models.CharField(
                default=keys.models.new_webhook_token, editable=False, max_length=64, unique=True
            ),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_secret",
            field=keys.encryption.EncryptedTextField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhooks_enabled",
            field=models.BooleanField(
                default=False, verbose_name="Register this webhook with jobs started here"
            ),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_delivered_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_refused",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_refusal",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_refused_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_window",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="apikey",
            name="webhook_used",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="apikey",
            name="stopped_job_ids",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.CreateModel(
            name="WebhookReceipt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("webhook_id", models.UUIDField()),
                (
                    "received_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                (
                    "api_key",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="+",
                        to="keys.apikey",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("api_key", "webhook_id"), name="one_receipt_per_delivery"
                    )
                ],
            },
        ),
    ]
