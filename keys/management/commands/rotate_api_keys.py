"""Re-encrypt every stored API key (and webhook secret) with the newest key in
FIELD_ENCRYPTION_KEYS.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS, deploy, run this, then drop the old key.
Safe to run again, and while the app runs: it works on the raw column and never decrypts into
the ORM, and a row a user saved meanwhile (already under the newest key) is left alone.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from keys.encryption import is_encrypted_with_newest, rotate
from keys.models import ApiKey


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored API key and webhook secret with the newest key in "
        "FIELD_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = max(1, options["batch_size"])
        unreadable: set[int] = set()
        rotated, current = self.rotate_column("key", batch_size, unreadable)
        self.stdout.write(
            f"Rotated {rotated} API key{'s' if rotated != 1 else ''} to the newest encryption key "
            f"({current} already used it)."
        )
        rotated, current = self.rotate_column("webhook_secret", batch_size, unreadable)
        if rotated or current:
            self.stdout.write(
                f"Rotated {rotated} webhook secret{'s' if rotated != 1 else ''} ({current} already "
                "used the newest key)."
            )
        if unreadable:
            ids = ", ".join(str(pk) for pk in sorted(unreadable))
            raise CommandError(
                f"{len(unreadable)} API key(s) cannot be decrypted with any key in "
                f"FIELD_ENCRYPTION_KEYS (ids {ids}): add back the key they were stored with, "
                "or delete them and ask their owners to add them again."
            )

    def rotate_column(self, column: str, batch_size: int, unreadable: set[int]) -> tuple[int, int]:
        """Rotate one column; (rotated, already current). Empty values (no secret) are skipped."""
        # Cast to a plain TextField so the column comes back as stored, not decrypted.
        rows = ApiKey.objects.annotate(token=Cast(column, TextField())).order_by("pk")
        rows = rows.filter(token__isnull=False)
        rotated = current = 0
        last_pk = 0
        while batch := list(rows.filter(pk__gt=last_pk).values_list("pk", "token")[:batch_size]):
            last_pk = batch[-1][0]
            with transaction.atomic():
                for pk, token in batch:
                    if is_encrypted_with_newest(token):
                        current += 1
                        continue
                    try:
                        new_token = rotate(token)
                    except ImproperlyConfigured:
                        unreadable.add(pk)
                        continue
                    # Only if unchanged since read; Value() keeps the field from encrypting again.
                    rotated += rows.filter(pk=pk, token=token).update(
                        **{column: Value(new_token, output_field=TextField())}
                    )
        return rotated, current
