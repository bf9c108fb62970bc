"""A Firecrawl API key: stored encrypted, shown masked, one default per user.

The table is still `jobs_apikey`: the model moved here from the jobs app without touching it
(keys/migrations/0001_initial.py).
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from firecrawl_api.ids import mask_key
from keys.encryption import EncryptedTextField

# A request that takes this share of a worker deadline or more makes its key slow (see
# ApiKey.note_speed), for SLOW_FOR.
SLOW_SHARE = 0.25
SLOW_FOR = timedelta(minutes=10)


class ApiKey(models.Model):
    class Version(models.TextChoices):
        V1 = "v1", "v1"
        V2 = "v2", "v2"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    key = EncryptedTextField()
    # The masked form, kept beside the ciphertext so lists never decrypt anything.
    key_hint = models.CharField(max_length=20, editable=False)
    api_url = models.URLField("API URL", default="https://api.firecrawl.dev")
    api_version = models.CharField(
        "API version", max_length=2, choices=Version.choices, default=Version.V1
    )
    is_default = models.BooleanField(default=False)
    remaining_credits = models.BigIntegerField(null=True, blank=True)
    credits_checked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # This minute's count of requests to Firecrawl with this key (see keys.budget).
    budget_window = models.DateTimeField(null=True, blank=True, editable=False)
    budget_used = models.PositiveIntegerField(default=0, editable=False)
    # Track new jobs started with this key automatically: the worker's scheduler lists the
    # key's recent jobs every few minutes (keys.listings.IMPORT_INTERVAL).
    auto_import = models.BooleanField("Track new jobs automatically", default=False)
    # When the last automatic import was queued, and why the last one failed ("" if it did not).
    auto_imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_error = models.CharField(max_length=500, blank=True, editable=False)
    # The job ids the last automatic import saw listed: only jobs new since then are tracked,
    # so a job its owner stopped tracking is not brought back.
    auto_import_seen = models.JSONField(default=list, blank=True, editable=False)
    # When a task keeping the screenshots of this key's jobs was queued (jobs.tasks): one at a
    # time per key, so one key's slow storage host never holds more than one worker.
    screenshots_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An automatic import reads one page per task (keys.listings.ImportRound): the round in
    # progress (None between rounds), when the next round is due (None: at once), and how many
    # rounds in a row failed (the next one then waits longer, as a failing job does).
    import_round = models.JSONField(null=True, blank=True, editable=False)
    import_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_failures = models.PositiveIntegerField(default=0, editable=False)
    # This key's Firecrawl answered slowly lately: until then its work (syncs, listings) is
    # queued behind other keys' (jobs.tasks), so a slow upstream costs others one deadline at
    # most.
    slow_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "jobs_apikey"
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_key_name_per_owner"),
            models.UniqueConstraint(
                fields=["owner"], condition=Q(is_default=True), name="one_default_key_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.key_hint = mask_key(self.key)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Delete the key; if it was the default, the owner's next key becomes the default."""
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            if self.is_default:
                successor = ApiKey.objects.filter(owner=self.owner_id).first()
                if successor is not None:
                    successor.make_default()
        return deleted

    def make_default(self) -> None:
        ApiKey.objects.filter(owner=self.owner_id, is_default=True).exclude(pk=self.pk).update(
            is_default=False
        )
        self.is_default = True
        self.save(update_fields=["is_default", "key_hint"])

    @property
    def is_slow(self) -> bool:
        """Its Firecrawl answered slowly lately: its work queues behind other keys' (jobs.tasks)."""
        return self.slow_until is not None and self.slow_until > timezone.now()

    def note_speed(self, slowest: float) -> None:
        """After the worker's requests with this key, `slowest` the longest one took (seconds):
        mark the key slow for a while, or no longer slow."""
        if slowest >= settings.FIRECRAWL_WORKER_DEADLINE * SLOW_SHARE:
            self.slow_until = timezone.now() + SLOW_FOR
            ApiKey.objects.filter(pk=self.pk).update(slow_until=self.slow_until)
        elif self.slow_until is not None:
            self.slow_until = None
            ApiKey.objects.filter(pk=self.pk).update(slow_until=None)
