"""ApiKey moves here from the jobs app: state only, its table (`jobs_apikey`) and rows untouched.

The table was made by the jobs app's migrations (0001, 0008); this records the same model under
the keys app. The jobs app's 0010 points Job and StartRequest at it and drops its own copy, also
in the state only, and moves the model's content type so admin history and permissions follow.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import keys.encryption


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("jobs", "0009_search_vectors_and_sort_keys"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ApiKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("name", models.CharField(max_length=100)),
                        ("key", keys.encryption.EncryptedTextField()),
                        ("key_hint", models.CharField(editable=False, max_length=20)),
                        (
                            "api_url",
                            models.URLField(
                                default="https://api.firecrawl.dev", verbose_name="API URL"
                            ),
                        ),
                        (
                            "api_version",
                            models.CharField(
                                choices=[("v1", "v1"), ("v2", "v2")],
                                default="v1",
                                max_length=2,
                                verbose_name="API version",
                            ),
                        ),
                        ("is_default", models.BooleanField(default=False)),
                        ("remaining_credits", models.BigIntegerField(blank=True, null=True)),
                        ("credits_checked_at", models.DateTimeField(blank=True, null=True)),
                        ("last_used_at", models.DateTimeField(blank=True, null=True)),
                        ("last_error", models.CharField(blank=True, max_length=500)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "budget_window",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        ("budget_used", models.PositiveIntegerField(default=0, editable=False)),
                        (
                            "auto_import",
                            models.BooleanField(
                                default=False, verbose_name="Track new jobs automatically"
                            ),
                        ),
                        (
                            "auto_imported_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        (
                            "import_error",
                            models.CharField(blank=True, editable=False, max_length=500),
                        ),
                        (
                            "auto_import_seen",
                            models.JSONField(blank=True, default=list, editable=False),
                        ),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.DB_CASCADE,
                                related_name="api_keys",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "jobs_apikey",
                        "ordering": ["-is_default", "name"],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("owner", "name"), name="unique_key_name_per_owner"
                            ),
                            models.UniqueConstraint(
                                condition=models.Q(("is_default", True)),
                                fields=("owner",),
                                name="one_default_key_per_owner",
                            ),
                        ],
                    },
                ),
            ],
        ),
    ]
