"""The notifications app's tables: each user's choices, one row per event and channel (unique:
each event once), and the messages that carry them."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import notifications.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("jobs", "0015_job_notification_fields"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Message",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "Email"), ("webhook", "Webhook")], max_length=10
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("finished", "Job finished"),
                            ("attention", "Needs attention"),
                            ("found", "New jobs found"),
                        ],
                        max_length=10,
                    ),
                ),
                ("job_count", models.PositiveIntegerField(default=0)),
                ("subject", models.CharField(max_length=300)),
                ("text", models.TextField()),
                ("html", models.TextField(blank=True)),
                ("payload", models.JSONField(blank=True, default=dict)),
                ("recipient", models.CharField(blank=True, max_length=2000)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting to send"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("failed", "Gave up"),
                            ("dropped", "Not sent"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("last_error", models.CharField(blank=True, max_length=500)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("lease_token", models.UUIDField(blank=True, null=True)),
                ("lease_expires_at", models.DateTimeField(blank=True, null=True)),
                ("queued_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[("email", "Email"), ("webhook", "Webhook")], max_length=10
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("finished", "Job finished"),
                            ("attention", "Needs attention"),
                            ("found", "New jobs found"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "—"),
                            ("not_found", "Not found on Firecrawl"),
                            ("paused", "Paused"),
                            ("failing", "Still failing"),
                            ("expiring", "Expiring uncached"),
                            ("expired", "Expired uncached"),
                        ],
                        max_length=10,
                    ),
                ),
                ("event_key", models.CharField(max_length=80)),
                ("occurred_at", models.DateTimeField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("skipped", models.BooleanField(default=False)),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="notifications",
                        to="jobs.job",
                    ),
                ),
                (
                    "message",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="notifications",
                        to="notifications.message",
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="NotificationSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "email_finished",
                    models.BooleanField(default=False, verbose_name="Email me when a job finishes"),
                ),
                (
                    "email_attention",
                    models.BooleanField(
                        default=False, verbose_name="Email me when a job needs attention"
                    ),
                ),
                (
                    "email_found",
                    models.BooleanField(
                        default=False, verbose_name="Email me when new jobs are found"
                    ),
                ),
                (
                    "webhook_url",
                    models.CharField(
                        blank=True, max_length=2000, verbose_name="Notification webhook URL"
                    ),
                ),
                (
                    "webhook_secret",
                    models.CharField(default=notifications.models.new_secret, max_length=64),
                ),
                (
                    "min_interval",
                    models.PositiveIntegerField(
                        choices=[
                            (60, "minute"),
                            (300, "5 minutes"),
                            (900, "15 minutes"),
                            (3600, "hour"),
                        ],
                        default=300,
                        verbose_name="At most one message of each kind every",
                    ),
                ),
                (
                    "email_finished_since",
                    models.DateTimeField(blank=True, editable=False, null=True),
                ),
                (
                    "email_attention_since",
                    models.DateTimeField(blank=True, editable=False, null=True),
                ),
                ("email_found_since", models.DateTimeField(blank=True, editable=False, null=True)),
                ("webhook_since", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="notification_settings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "notification settings",
            },
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["owner", "channel", "kind", "-created_at"],
                name="notificatio_owner_i_3b38e0_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                fields=["status", "next_attempt_at"], name="notificatio_status_6a7b94_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("message", None), ("skipped", False)),
                fields=["owner", "channel", "kind", "created_at"],
                name="pending_notifications",
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                fields=("job", "channel", "event_key"), name="one_notification_per_event"
            ),
        ),
    ]
