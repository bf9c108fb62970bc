"""Notifications in the background: the scheduler's round (find events, gather them into
messages, queue the sends) and the task that sends one message.

As for syncs (jobs.tasks), the rows are the source of truth: django-tasks-db forgets a task whose
worker was killed, so every round queues again each message that is due and not queued (or whose
task was lost), and a message is sent only by the worker that claimed it (a lease).
"""

import logging

from django.tasks import task
from django.utils import timezone

from jobs.tasks import BACKGROUND_PRIORITY
from notifications import digests, events, sending
from notifications.models import Channel, Message, NotificationSettings

logger = logging.getLogger(__name__)


@task()
def send_message_task(message_pk: int) -> None:
    Message.objects.filter(pk=message_pk).update(queued_at=None)
    send_message(message_pk)


def send_message(message_pk: int) -> bool:
    """Claim the message and send it once; True if it was sent by this call."""
    token = Message.objects.claim(message_pk)
    if token is None:
        return False  # sent, given up, not due yet, or another worker has it
    message = Message.objects.select_related("owner").get(pk=message_pk)
    prefs = NotificationSettings.objects.for_user(message.owner)
    email = message.owner.email
    if not prefs.wants(message.channel, message.kind, email):
        message.mark_dropped(token, "Turned off (or no address) before it was sent")
        return False
    recipient = email if message.channel == Channel.EMAIL else prefs.webhook_url
    try:
        if message.channel == Channel.EMAIL:
            sending.send_email(message, email)
        else:
            sending.send_webhook(message, prefs)
    except sending.SendFailed as exc:
        attempt = message.attempts
        logger.info("Notification %s not sent (attempt %d): %s", message.pk, attempt, exc.message)
        message.record_failure(token, exc.message, retry=exc.retry, recipient=recipient)
        return False
    # A crash right here, after the receiver accepted and before this row says so, is the one
    # window left: the next attempt sends the same Message-ID / id (docs/RELIABILITY.md).
    message.mark_sent(token, recipient)
    return True


def request_send(message: Message) -> bool:
    """Queue the message's send unless a task for it is queued already."""
    if not Message.objects.claim_queue_slot(message.pk, timezone.now()):
        return False
    # A receiver is someone's upstream, as slow as its owner makes it: sends wait behind every
    # sync, as finding and deleting jobs do, so no user's webhook delays another's jobs.
    send_message_task.using(priority=BACKGROUND_PRIORITY).enqueue(message.pk)
    return True


def enqueue_due_notifications() -> int:
    """The scheduler's round: record new events, gather the waiting ones into messages, and
    queue a send for every message that is due; returns how many sends were queued."""
    now = timezone.now()
    events.detect(now)
    digests.compose_due(now)
    Message.objects.give_up_abandoned(now)
    return sum(request_send(message) for message in Message.objects.due(now).only("pk"))
