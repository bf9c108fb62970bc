"""A Firecrawl API key: stored encrypted, shown masked, one default per user; and the webhook
deliveries accepted for it, kept a while so that a replay changes nothing.

The table is still `jobs_apikey`: the model moved here from the jobs app without touching it
(keys/migrations/0001_initial.py).
"""

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from firecrawl_api.ids import mask_key
from firecrawl_api.text import cut
from keys.encryption import EncryptedTextField

# A request that takes this share of a worker deadline or more makes its key slow (see
# ApiKey.note_speed), for SLOW_FOR.
SLOW_SHARE = 0.25
SLOW_FOR = timedelta(minutes=10)
# Job ids a key remembers its owner stopped tracking (see ApiKey.stopped_job_ids).
STOPPED_JOBS_KEPT = 1000


def new_webhook_token() -> str:
    """The secret part of a key's webhook URL: 192 random bits, nothing derived from the key."""
    return secrets.token_urlsafe(24)


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def forget_job(self, pk: int, remote_id: str) -> None:
        """Remember that the key's owner stopped tracking this job (the newest
        STOPPED_JOBS_KEPT), so that its webhook events do not bring it back."""
        with transaction.atomic():
            rows = self.select_for_update().filter(pk=pk)
            stopped = rows.values_list("stopped_job_ids", flat=True).first()
            if stopped is None:
                return
            kept = [job_id for job_id in stopped if job_id != remote_id]
            rows.update(stopped_job_ids=[*kept, remote_id][-STOPPED_JOBS_KEPT:])


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

    # Firecrawl's webhooks for this key (keys.views.webhooks): the token in the receiver's URL,
    # the secret Firecrawl signs deliveries with (encrypted like the key; None: the token alone
    # admits them), and whether jobs started here register the URL in their start request.
    webhook_token = models.CharField(
        max_length=64, unique=True, default=new_webhook_token, editable=False
    )
    webhook_secret = EncryptedTextField(null=True, blank=True)
    webhooks_enabled = models.BooleanField(
        "Register this webhook with jobs started here", default=False
    )
    # What the key's page shows, so a person setting webhooks up sees them work: when the last
    # delivery was accepted, how many were refused, and why the last one was.
    webhook_delivered_at = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_refused = models.PositiveIntegerField(default=0, editable=False)
    webhook_refusal = models.CharField(max_length=200, blank=True, editable=False)
    webhook_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    # This minute's count of requests to the webhook URL (FIRECRAWL_WEBHOOK_RATE_PER_MINUTE).
    webhook_window = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_used = models.PositiveIntegerField(default=0, editable=False)
    # The last STOPPED_JOBS_KEPT job ids its owner stopped tracking: a webhook never brings one
    # back (Firecrawl keeps sending a running job's events after Stop tracking).
    stopped_job_ids = models.JSONField(default=list, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

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

    # -- Webhooks --------------------------------------------------------------------------------

    @property
    def webhook_url(self) -> str:
        """The address to give Firecrawl, on the dashboard's PUBLIC_URL ("" when it is unset)."""
        if not settings.PUBLIC_URL:
            return ""
        return settings.PUBLIC_URL + reverse("keys:webhook", args=[self.webhook_token])

    @property
    def registers_webhooks(self) -> bool:
        """Whether a job started here with this key asks Firecrawl for its webhooks."""
        return self.webhooks_enabled and bool(settings.PUBLIC_URL)

    def save_webhook_settings(self, *, secret: str | None, enabled: bool) -> None:
        """Store the secret (None: keep it, "": remove it) and the switch, nothing else: workers
        write the key's budget and last error concurrently."""
        fields = ["webhooks_enabled"]
        self.webhooks_enabled = enabled
        if secret is not None:
            self.webhook_secret = secret or None
            fields.append("webhook_secret")
        self.save(update_fields=[*fields, "key_hint"])

    def record_delivery(self, now: Any) -> None:
        ApiKey.objects.filter(pk=self.pk).update(webhook_delivered_at=now)

    def record_refusal(self, reason: str) -> None:
        """Count a refused delivery for the key's page: one row's counter, whoever sends them.
        The reason may quote the delivery (an unknown event type): cleaned and cut as upstream
        text is."""
        ApiKey.objects.filter(pk=self.pk).update(
            webhook_refused=F("webhook_refused") + 1,
            webhook_refusal=cut(reason, 200),
            webhook_refused_at=timezone.now(),
        )


# How long an accepted delivery's id is kept: a replay within it changes nothing. Firecrawl never
# retries a delivery, so only a replay by someone else comes later; it can at most ask for one
# more read of a job (events never write documents or counts).
REPLAY_WINDOW = timedelta(hours=1)
# Receipts deleted per statement when old ones are pruned: short transactions.
PRUNE_BATCH = 2000


class WebhookReceiptQuerySet(models.QuerySet["WebhookReceipt"]):
    def record(self, api_key: ApiKey, webhook_id: str) -> bool:
        """Keep this delivery's id; False when it was received already (a replay)."""
        try:
            with transaction.atomic():
                self.create(api_key=api_key, webhook_id=webhook_id)
        except IntegrityError:
            return False
        return True

    def prune(self) -> int:
        """Forget receipts older than REPLAY_WINDOW, a batch per statement; how many went."""
        cutoff = timezone.now() - REPLAY_WINDOW
        deleted = 0
        while True:
            batch = list(
                self.filter(received_at__lt=cutoff).values_list("pk", flat=True)[:PRUNE_BATCH]
            )
            if not batch:
                return deleted
            deleted += self.filter(pk__in=batch).delete()[0]


class WebhookReceipt(models.Model):
    """A webhook delivery accepted for a key, by Firecrawl's id for it (`webhookId`).

    Bounded: only deliveries that passed the signature check and the rate limit are kept, and
    only for REPLAY_WINDOW (the worker's scheduler prunes them).
    """

    api_key = models.ForeignKey(ApiKey, models.DB_CASCADE, related_name="+")
    webhook_id = models.UUIDField()
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = WebhookReceiptQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "webhook_id"], name="one_receipt_per_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} at {self.received_at:%H:%M:%S}"
