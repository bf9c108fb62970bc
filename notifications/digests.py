"""Gathering events into messages: one message per user, channel and kind at a time.

An event waits NOTIFY_DIGEST_SECONDS for others of its kind (500 jobs finishing in a minute make
one message), and a user gets at most one message of a kind per channel every `min_interval`
they chose; what arrives meanwhile goes into the next one. Events of a muted job, of a job no
longer tracked, or of a channel turned off meanwhile, are dropped here, before anything is sent.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from notifications import content
from notifications.models import Message, Notification, NotificationSettings


def compose_due(now: datetime | None = None) -> list[Message]:
    """Make a message of every group of events that has waited long enough."""
    now = now or timezone.now()
    gathered = now - timedelta(seconds=settings.NOTIFY_DIGEST_SECONDS)
    groups = (
        Notification.objects.pending()
        .values("owner", "channel", "kind")
        .annotate(oldest=Min("created_at"))
        .filter(oldest__lte=gathered)
        .order_by()
    )
    messages = []
    for group in list(groups):
        message = compose(group["owner"], group["channel"], group["kind"], now)
        if message is not None:
            messages.append(message)
    return messages


@transaction.atomic
def compose(owner_id: int, channel: str, kind: str, now: datetime) -> Message | None:
    """One message of this user's pending events of this kind for this channel, unless the
    user's interval since the last one has not passed yet."""
    # Locks the user's settings row: schedulers on other machines compose this user in turn.
    prefs = NotificationSettings.objects.select_for_update().filter(user=owner_id).first()
    pending = Notification.objects.pending().filter(
        owner=owner_id, channel=channel, kind=kind, created_at__lte=now
    )
    email = prefs.user.email if prefs is not None else ""
    if prefs is None or not prefs.wants(channel, kind, email):
        pending.update(skipped=True)
        return None
    # Muted, or no longer tracked (Job.stop_tracking) since the event was recorded.
    pending.filter(Q(job__notifications_muted=True) | Q(job__stopped_at__isnull=False)).update(
        skipped=True
    )
    last = (
        Message.objects.filter(owner=owner_id, channel=channel, kind=kind)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is not None and now - last < timedelta(seconds=prefs.min_interval):
        return None
    message = Message.objects.create(
        owner_id=owner_id, channel=channel, kind=kind, created_at=now, next_attempt_at=now
    )
    total = pending.update(message=message)
    if not total:
        message.delete()  # every event was muted
        return None
    listed = (
        Notification.objects.filter(message=message)
        .select_related("job")
        .order_by("occurred_at", "pk")[: content.LISTED]
    )
    summaries = [content.summarize(event.job, event.reason) for event in listed]
    content.write(message, summaries, total)
    message.save()
    return message
