"""What a user asked to be told, each event worth telling (once per channel), and the messages
that carry them.

A `Notification` row is one event for one channel: the unique (job, channel, event_key) is what
makes each event exactly once, however many schedulers scan at once. Events wait in their row
until a `Message` gathers them (a digest); a message is claimed with a lease by the worker that
sends it, so a worker killed mid-send leaves it to another once the lease runs out.
"""

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from firecrawl_api.text import cut
from jobs.models import Job


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"


class Kind(models.TextChoices):
    FINISHED = "finished", "Job finished"
    ATTENTION = "attention", "Needs attention"
    FOUND = "found", "New jobs found"


class Reason(models.TextChoices):
    """Why a job needs attention (blank for the other kinds)."""

    NONE = "", "—"
    NOT_FOUND = "not_found", "Not found on Firecrawl"
    PAUSED = "paused", "Paused"
    FAILING = "failing", "Still failing"
    EXPIRING = "expiring", "Expiring uncached"
    EXPIRED = "expired", "Expired uncached"


# Attempts to send one message before giving up, and the wait before the second (then doubling,
# at most a day): long enough for a mail server's or a receiver's restart, short of spam.
MAX_ATTEMPTS = 6
RETRY_BACKOFF = timedelta(minutes=1)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def send_lease() -> timedelta:
    """How long a worker owns the message it sends: twice the longest send, so a slow send is
    never taken over, and one whose worker died is, soon after."""
    return timedelta(seconds=2 * settings.NOTIFY_SEND_TIMEOUT + 1)


class NotificationSettingsQuerySet(models.QuerySet["NotificationSettings"]):
    def for_user(self, user: Any) -> "NotificationSettings":
        """The user's settings; all off, and not saved yet, for a user who never saved any."""
        return self.filter(user=user).first() or NotificationSettings(user=user)


class NotificationSettings(models.Model):
    """One user's choices. The address is the account's own (User.email)."""

    class Interval(models.IntegerChoices):
        MINUTE = 60, "minute"
        FIVE_MINUTES = 300, "5 minutes"
        QUARTER = 900, "15 minutes"
        HOUR = 3600, "hour"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="notification_settings"
    )
    email_finished = models.BooleanField("Email me when a job finishes", default=False)
    email_attention = models.BooleanField("Email me when a job needs attention", default=False)
    email_found = models.BooleanField("Email me when new jobs are found", default=False)
    webhook_url = models.CharField("Notification webhook URL", max_length=2000, blank=True)
    # Signs every webhook call (X-Dashboard-Signature); shown to its owner on the page.
    webhook_secret = models.CharField(max_length=64, default=new_secret)
    min_interval = models.PositiveIntegerField(
        "At most one message of each kind every",
        choices=Interval.choices,
        default=Interval.FIVE_MINUTES,
    )
    # When each subscription was last turned on: only events from then on are sent, so turning
    # notifications on never brings a flood of jobs that settled before.
    email_finished_since = models.DateTimeField(null=True, blank=True, editable=False)
    email_attention_since = models.DateTimeField(null=True, blank=True, editable=False)
    email_found_since = models.DateTimeField(null=True, blank=True, editable=False)
    webhook_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = NotificationSettingsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "notification settings"

    def __str__(self) -> str:
        return f"Notifications of {self.user}"

    # Which field says whether a (channel, kind) is on, and since when. The webhook gets every
    # kind once it has a URL.
    SINCE_FIELDS: dict[tuple[str, str], str] = {
        (Channel.EMAIL, Kind.FINISHED): "email_finished_since",
        (Channel.EMAIL, Kind.ATTENTION): "email_attention_since",
        (Channel.EMAIL, Kind.FOUND): "email_found_since",
        (Channel.WEBHOOK, Kind.FINISHED): "webhook_since",
        (Channel.WEBHOOK, Kind.ATTENTION): "webhook_since",
        (Channel.WEBHOOK, Kind.FOUND): "webhook_since",
    }
    EMAIL_FLAGS: dict[str, str] = {
        Kind.FINISHED: "email_finished",
        Kind.ATTENTION: "email_attention",
        Kind.FOUND: "email_found",
    }

    def wants(self, channel: str, kind: str, email: str) -> bool:
        """Whether this (channel, kind) is on now; `email` is the account's address."""
        if channel == Channel.EMAIL:
            return bool(email) and getattr(self, self.EMAIL_FLAGS[kind])
        return bool(self.webhook_url)

    def subscriptions(self, email: str) -> set[tuple[str, str]]:
        return {pair for pair in self.SINCE_FIELDS if self.wants(*pair, email)}

    def start_clocks(self, before: set[tuple[str, str]], email: str, now: datetime) -> None:
        """After a change of choices: a subscription that came on counts events from now on;
        one that went off forgets its time (the caller saves)."""
        after = self.subscriptions(email)
        for pair, field in self.SINCE_FIELDS.items():
            sharing = [p for p, f in self.SINCE_FIELDS.items() if f == field]
            if not any(p in after for p in sharing):
                setattr(self, field, None)
            elif pair in after and pair not in before:
                setattr(self, field, now)

    @classmethod
    def subscribed(cls, channel: str, kind: str) -> Q:
        """Jobs whose owner wants (channel, kind) now: the query form of `wants`."""
        prefix = "owner__notification_settings__"
        if channel == Channel.EMAIL:
            flag = cls.EMAIL_FLAGS[kind]
            return Q(**{prefix + flag: True}) & ~Q(owner__email="")
        return ~Q(**{prefix + "webhook_url": ""}) & Q(**{prefix + "webhook_url__isnull": False})

    @classmethod
    def since_field(cls, channel: str, kind: str) -> str:
        """The owner's field (from a Job) holding when (channel, kind) was turned on."""
        return "owner__notification_settings__" + cls.SINCE_FIELDS[(channel, kind)]

    def email_about_jobs(self) -> None:
        """Emails when a job finishes or needs attention, from now on (a sign-up with an
        address)."""
        before = self.subscriptions(self.user.email)
        self.email_finished = self.email_attention = True
        self.start_clocks(before, self.user.email, timezone.now())
        self.save()

    def unsubscribe(self, kind: str) -> None:
        """Stop one kind of email (the link in every email)."""
        setattr(self, self.EMAIL_FLAGS[kind], False)
        setattr(self, self.SINCE_FIELDS[(Channel.EMAIL, kind)], None)
        self.save()

    def new_webhook_secret(self) -> None:
        self.webhook_secret = new_secret()
        self.save()


class NotificationQuerySet(models.QuerySet["Notification"]):
    def pending(self) -> "NotificationQuerySet":
        """Events no message has gathered yet (and not dropped)."""
        return self.filter(message=None, skipped=False)


class Notification(models.Model):
    """One event about one job, for one channel of its owner."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="+")
    job = models.ForeignKey(Job, models.DB_CASCADE, related_name="notifications")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=10, choices=Reason.choices, blank=True)
    # Names the event within the job: "finished", "found", "expiring", or the reason and the
    # time its episode began ("paused:2026-12-01T10:00:00+00:00"): see notifications.events.
    event_key = models.CharField(max_length=80)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # The message that carries it. Messages are never deleted (the admin cannot): with it, its
    # events would go, and a scan would find them again.
    message = models.ForeignKey(
        "Message", models.DB_CASCADE, null=True, blank=True, related_name="notifications"
    )
    # Dropped unsent: the job was muted, or the channel turned off, before a message took it.
    skipped = models.BooleanField(default=False)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        constraints = [
            # Each event once per channel, whoever finds it and however often.
            models.UniqueConstraint(
                fields=["job", "channel", "event_key"], name="one_notification_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["owner", "channel", "kind", "created_at"],
                condition=Q(message=None, skipped=False),
                name="pending_notifications",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} ({self.event_key}) of job {self.job_id} by {self.channel}"
        )


class MessageQuerySet(models.QuerySet["Message"]):
    def _due(self, now: datetime) -> Q:
        # Waiting for its (next) attempt, or claimed by a worker whose lease ran out (it died).
        waiting = Q(status=Message.Status.PENDING, next_attempt_at__lte=now)
        abandoned = Q(status=Message.Status.SENDING, lease_expires_at__lte=now)
        return (waiting | abandoned) & Q(attempts__lt=MAX_ATTEMPTS)

    def due(self, now: datetime | None = None) -> "MessageQuerySet":
        """Messages to send now whose task is not queued (or was lost: its worker died)."""
        now = now or timezone.now()
        free = Q(queued_at=None) | Q(queued_at__lt=now - send_lease())
        return self.filter(self._due(now)).filter(free)

    def claim_queue_slot(self, pk: int, now: datetime) -> bool:
        """Record a send task as queued unless one is (a conditional UPDATE, one winner)."""
        free = Q(queued_at=None) | Q(queued_at__lt=now - send_lease())
        return bool(self.filter(free, pk=pk).update(queued_at=now))

    def claim(self, pk: int) -> uuid.UUID | None:
        """Take the message for sending: one worker wins, and owns it for a lease. Each claim is
        an attempt, a worker killed mid-send included."""
        now = timezone.now()
        token = uuid.uuid4()
        claimed = self.filter(self._due(now), pk=pk).update(
            status=Message.Status.SENDING,
            lease_token=token,
            lease_expires_at=now + send_lease(),
            attempts=F("attempts") + 1,
        )
        return token if claimed else None

    def give_up_abandoned(self, now: datetime | None = None) -> int:
        """Messages whose every attempt ended with its worker dying: say so, never retry."""
        now = now or timezone.now()
        return self.filter(
            status=Message.Status.SENDING,
            lease_expires_at__lte=now,
            attempts__gte=MAX_ATTEMPTS,
        ).update(
            status=Message.Status.FAILED,
            lease_token=None,
            lease_expires_at=None,
            last_error="The worker stopped while sending it, at every attempt",
        )


class Message(models.Model):
    """One email or one webhook call, carrying one or many events of one kind (a digest)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"
        DROPPED = "dropped", "Not sent"

    # The Message-ID of the email, the `id` of the webhook's body: the same on every attempt, so
    # a receiver can drop a copy (see docs/RELIABILITY.md, "Notifications").
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.DB_CASCADE, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    job_count = models.PositiveIntegerField(default=0)
    # What it says, written once when the events were gathered: every attempt sends the same.
    subject = models.CharField(max_length=300)
    text = models.TextField()
    html = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # Where the last attempt went (the address or URL at that time).
    recipient = models.CharField(max_length=2000, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Who is sending it now (see MessageQuerySet.claim), and whether a send task is queued.
    lease_token = models.UUIDField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "channel", "kind", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.subject}"

    def _finish(self, token: uuid.UUID, **values: Any) -> bool:
        values.update(lease_token=None, lease_expires_at=None)
        done = Message.objects.filter(pk=self.pk, lease_token=token).update(**values)
        for name, value in values.items():
            setattr(self, name, value)
        return bool(done)

    def mark_sent(self, token: uuid.UUID, recipient: str) -> bool:
        return self._finish(
            token,
            status=self.Status.SENT,
            sent_at=timezone.now(),
            recipient=cut(recipient, 2000),
            last_error="",
        )

    def mark_dropped(self, token: uuid.UUID, why: str) -> bool:
        return self._finish(token, status=self.Status.DROPPED, last_error=cut(why, 500))

    def record_failure(self, token: uuid.UUID, error: str, *, retry: bool, recipient: str) -> bool:
        """A failed attempt: try again after a doubling wait, or give up (after the last
        attempt, or at once when retrying cannot help)."""
        values: dict[str, Any] = {"last_error": cut(error, 500), "recipient": cut(recipient, 2000)}
        if retry and self.attempts < MAX_ATTEMPTS:
            wait = RETRY_BACKOFF * 2 ** max(self.attempts - 1, 0)
            next_attempt = timezone.now() + min(wait, timedelta(days=1))
            return self._finish(
                token, status=self.Status.PENDING, next_attempt_at=next_attempt, **values
            )
        return self._finish(token, status=self.Status.FAILED, **values)
