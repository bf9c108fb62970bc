"""ApiKey now belongs to the keys app (keys/migrations/0001): state only, no table is touched.

Job.api_key and StartRequest.api_key point at keys.ApiKey, the jobs app forgets its own copy,
and the model's content type moves to the keys app, so the admin's history of each key and the
permissions granted on keys follow it.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def move_content_type(source: str, target: str) -> Any:
    def move(apps: Any, schema_editor: Any) -> None:
        content_types = apps.get_model("contenttypes", "ContentType").objects
        content_types = content_types.db_manager(schema_editor.connection.alias)
        moving = content_types.filter(app_label=source, model="apikey")
        if moving.exists():
            # A row for the target exists only if a `migrate` of that app alone already made
            # it, with no history yet: the moving one, which has the history, replaces it.
            content_types.filter(app_label=target, model="apikey").delete()
            moving.update(app_label=target)
        content_types.clear_cache()

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("jobs", "0009_search_vectors_and_sort_keys"),
        ("keys", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="job",
                    name="api_key",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.DB_SET_NULL,
                        related_name="jobs",
                        to="keys.apikey",
                    ),
                ),
                migrations.AlterField(
                    model_name="startrequest",
                    name="api_key",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="+",
                        to="keys.apikey",
                    ),
                ),
                migrations.DeleteModel(name="ApiKey"),
            ],
        ),
        migrations.RunPython(
            move_content_type("jobs", "keys"), move_content_type("keys", "jobs"), elidable=False
        ),
    ]
